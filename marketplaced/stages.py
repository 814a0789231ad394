"""Shutdown stages: each runs within its own named time budget (the budgets add up to less
than the unit's TimeoutStopSec), and says how it ended in one log event."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from marketplaced import log

_log = log.get(__name__)


async def bounded_stage(stage: str, budget_s: float, aw: Any) -> bool:
    """Run one shutdown stage for at most `budget_s`. Unlike `wait_for`, an overrun stage is
    cancelled and then left behind, not awaited: work that ignores its cancellation cannot
    stretch the stop past its budget (the process is exiting; nothing waits for it)."""
    started = time.monotonic()
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task}, timeout=budget_s)
    if not done:
        task.cancel()
        _log.warning("shutdown_stage_overran", stage=stage, budget_s=budget_s)
        return False
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        _log.error("shutdown_stage_failed", stage=stage, exc_info=exc)
        return False
    _log.info("shutdown_stage_done", stage=stage, ms=round((time.monotonic() - started) * 1000, 1))
    return True
