"""The in-process supervisor: restart with backoff, stall detection, restart budget."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from marketplaced import supervisor as sup
from marketplaced.supervisor import Supervisor


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # the real first delay is 0.5 s doubling to 60 s; the logic is the same at 10 ms
    monkeypatch.setattr(sup, "BACKOFF_FIRST_S", 0.01)


async def test_crashing_service_is_restarted_then_budget_spent() -> None:
    s = Supervisor(budget=3, window_s=60)
    runs: list[float] = []

    async def flaky() -> None:
        runs.append(time.monotonic())
        raise RuntimeError("boom")

    await asyncio.wait_for(s.supervise("flaky", flaky), 10)
    assert len(runs) == 4  # first run + 3 restarts, then the budget is spent
    assert s.failed.is_set()
    assert "restart budget spent" in s.failure_reason
    state = s.services["flaky"]
    assert state.restarts == 3
    assert state.last_error == "RuntimeError: boom"
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert gaps[-1] > gaps[0]  # exponential backoff


async def test_recovering_service_keeps_running() -> None:
    s = Supervisor(budget=5, window_s=60)
    calls = 0

    async def recovers() -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("not yet")

    await asyncio.wait_for(s.supervise("svc", recovers, restart_on_exit=False), 10)
    assert calls == 3
    assert not s.failed.is_set()


async def test_stalled_service_is_cancelled_and_restarted() -> None:
    s = Supervisor(budget=5, window_s=60)
    starts = 0
    cancelled = 0
    beat = time.monotonic()

    async def stalls() -> None:
        nonlocal starts, cancelled, beat
        starts += 1
        beat = time.monotonic()
        if starts >= 2:
            return
        try:
            await asyncio.sleep(3600)  # makes no progress: heartbeat never moves
        except asyncio.CancelledError:
            cancelled += 1
            raise

    await asyncio.wait_for(
        s.supervise(
            "stuck", stalls, heartbeat=lambda: beat, max_stale_s=0.3, restart_on_exit=False
        ),
        10,
    )
    assert (starts, cancelled) == (2, 1)
    assert "no progress" in (s.services["stuck"].last_error or "")


async def test_cancellation_propagates() -> None:
    s = Supervisor(budget=5, window_s=60)
    task = asyncio.create_task(s.supervise("forever", lambda: asyncio.sleep(3600)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not s.services["forever"].running
