"""The in-process supervisor: restart with backoff, stall detection, restart budget."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

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


async def test_each_service_spends_its_own_budget_and_a_scanner_is_suspended() -> None:
    s = Supervisor(budget=2, window_s=0.5)
    scanner_runs = 0
    writer_runs = 0

    async def scanner() -> None:
        nonlocal scanner_runs
        scanner_runs += 1
        if scanner_runs <= 4:  # crash-loops through its budget (3 runs), then once more
            raise OSError("connection refused")

    async def writer() -> None:
        nonlocal writer_runs
        writer_runs += 1
        if writer_runs <= 2:  # two crashes: within its own budget, whatever the scanner did
            raise OSError("connection refused")

    task = asyncio.create_task(
        s.supervise("uzum.products", scanner, restart_on_exit=False, critical=False)
    )
    await asyncio.wait_for(s.supervise("writer", writer, restart_on_exit=False), 10)
    await until(lambda: s.services["uzum.products"].suspended_until is not None)
    state = s.services["uzum.products"]
    assert not state.running and not state.critical
    assert state.last_error == "OSError: connection refused"
    await asyncio.wait_for(task, 10)  # after the window it ran again, with a fresh budget
    assert scanner_runs == 5 and state.suspended_until is None
    assert writer_runs == 3
    assert not s.failed.is_set()


async def test_a_restarted_service_gets_its_full_grace_period() -> None:
    s = Supervisor(budget=5, window_s=60)
    runs = 0
    long_ago = time.monotonic() - 1000  # progress of some earlier run

    async def service() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            await asyncio.sleep(3600)  # hangs: stale once the limit has passed since its start
        # the second run works for a while (longer than a check interval, shorter than the
        # stall limit) without reporting progress, and then finishes
        await asyncio.sleep(1.0)

    await asyncio.wait_for(
        s.supervise(
            "uzex.shop.completed",
            service,
            heartbeat=lambda: long_ago,
            max_stale_s=2.0,
            restart_on_exit=False,
            stall_hint="the upstream is not answering",
        ),
        20,
    )
    state = s.services["uzex.shop.completed"]
    assert (runs, state.stalls, state.restarts) == (2, 1, 1)
    assert state.last_error == "no progress for 2 s: the upstream is not answering"


async def until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)
