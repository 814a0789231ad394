"""Scanners' own database reads (their cursor, due dead letters) wait out an outage.

The writer holds its batch and retries while PostgreSQL is away; a scanner reading its cursor
at start or its due dead letters between cycles must do the same instead of crashing: a crash
costs a restart, and restarts during an outage only spend the budget and end in a suspended
scanner although nothing is wrong with it. So while the database is unreachable the read is
tried again with a capped exponential backoff, the scanner shows state `waiting_db` (one of
the `WAITING_STATES`: neither the stall detector nor /healthz counts it as stale), and the wait
is logged once per attempt with the scanner's context and once more when the database answers
again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from marketplaced import db
from marketplaced.platforms.base import ScannerStats

T = TypeVar("T")

#: first retry soon (a restarting server is back in seconds), then at most every 30 s: often
#: enough to resume promptly, rarely enough not to flood the log during a long outage
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0
WAITING_STATE = "waiting_db"  # listed in platforms.base.WAITING_STATES


async def patiently(
    what: str, read: Callable[[], Awaitable[T]], stats: ScannerStats, logger: Any
) -> T:
    """`await read()`, retried for as long as the database is unreachable."""
    delay = RETRY_FIRST_S
    down_since: float | None = None
    state_before = stats.state
    while True:
        try:
            result = await read()
        except db.TRANSIENT_ERRORS as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # a stop cancelled us while asyncpg was connecting; its timeout handling can
                # turn that into a TimeoutError, which must not be mistaken for an outage
                raise asyncio.CancelledError from exc
            if down_since is None:
                down_since, state_before = time.monotonic(), stats.state
            stats.state = WAITING_STATE  # a deliberate wait, not a stall (WAITING_STATES)
            logger.warning(
                "database_unavailable",
                read=what,
                error=str(exc) or type(exc).__name__,
                retry_in_s=round(delay, 2),
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)
            continue
        if down_since is not None:
            stats.state = state_before  # back at work: staleness counts from now
            logger.info(
                "database_available", read=what, waited_s=round(time.monotonic() - down_since, 1)
            )
        return result
