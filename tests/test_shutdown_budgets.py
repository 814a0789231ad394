"""The shutdown stages keep to their budgets: the job stage waits for cancelled runs only as
long as its own budget allows (it used to wait 5 s inside a 4 s stage, so the stage overran
and the runs' ledger writes raced the closing pool)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from structlog.testing import capture_logs

from marketplaced.daemon import Daemon
from marketplaced.jobs.scheduler import JobScheduler, JobSpec
from marketplaced.stages import bounded_stage
from marketplaced.systemd import SystemdNotifier

from .conftest import base_config

pytestmark = pytest.mark.timeout(60)


async def test_stop_jobs_stage_fits_its_budget_when_a_run_is_slow_to_cancel(
    pool: asyncpg.Pool,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def stubborn() -> int:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await release.wait()  # e.g. a statement that takes its time to be cancelled
            raise
        return 0

    sched = JobScheduler(
        pool,
        [JobSpec("stubborn", stubborn, "0 3 * * *", 3600)],
        tz=ZoneInfo("UTC"),
        misfire_grace_s=60,
    )
    run_id = await sched.run_now("stubborn")
    await started.wait()
    # the daemon's own shutdown, with its default budgets, stopping this scheduler's runs
    d = Daemon(base_config(), notifier=SystemdNotifier({}))
    jobs: Any = sched  # the service's stop() hands its grace to exactly this scheduler
    d.jobs = jobs
    with capture_logs() as logs:
        await d._shutdown()
    stages = {e.get("stage"): e["event"] for e in logs if e.get("stage")}
    assert stages["stop_jobs"] == "shutdown_stage_done", logs
    release.set()
    outcome = "running"
    for _ in range(200):  # the run still records its outcome once it lets go
        outcome = await pool.fetchval("SELECT outcome FROM job_runs WHERE id = $1", run_id)
        if outcome != "running":
            break
        await asyncio.sleep(0.05)
    assert outcome == "cancelled"


async def test_a_stage_whose_work_swallows_its_cancellation_ends_at_its_budget() -> None:
    """A stop stage is bounded even when its work refuses to stop: the stage is cancelled,
    reported as overrun and left behind, so the process still exits within TimeoutStopSec."""
    release = asyncio.Event()

    async def stubborn() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        await release.wait()  # goes on after being told to stop, until the test lets it end

    async with asyncio.timeout(10):  # a hang detector, not a timing assertion
        finished = await bounded_stage("drain", 0.05, stubborn())
    assert finished is False
    release.set()
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_stage_that_fails_is_reported_not_raised() -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    assert await bounded_stage("close", 1, broken()) is False
    assert await bounded_stage("close", 1, asyncio.sleep(0)) is True
