"""The scheduler with tiny intervals against real PostgreSQL: the job-run ledger, coalescing,
overrun cancellation, catch-up after a restart, live rescheduling, the daemon-facing `Jobs`
service and the `jobs list` / `jobs run` commands."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from marketplaced.config import DatabaseConfig
from marketplaced.jobs.commands import list_command, run_command
from marketplaced.jobs.scheduler import JobScheduler, JobSpec, UnknownJobError
from marketplaced.jobs.service import Jobs
from tests.conftest import base_config

pytestmark = pytest.mark.timeout(30)
TZ = ZoneInfo("Asia/Tashkent")


def scheduler(pool: asyncpg.Pool, *specs: JobSpec, grace_s: float = 3600) -> JobScheduler:
    return JobScheduler(pool, specs, tz=TZ, misfire_grace_s=grace_s)


async def ledger(pool: asyncpg.Pool, job: str) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM job_runs WHERE job = $1 ORDER BY id", job)


async def until(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_outcomes_are_recorded(pool: asyncpg.Pool) -> None:
    async def ok() -> int:
        return 7

    async def broken() -> int:
        raise ValueError("bad input")

    async def slow() -> int:
        await asyncio.sleep(30)
        return 0

    sched = scheduler(
        pool,
        JobSpec("ok", ok, "0 3 * * *", 10),
        JobSpec("broken", broken, "0 3 * * *", 10),
        JobSpec("slow", slow, "0 3 * * *", 0.2),
    )
    started = asyncio.get_running_loop().time()
    results = {name: await sched.run(name) for name in ("ok", "broken", "slow")}
    assert asyncio.get_running_loop().time() - started < 5  # the overrun was cut at 0.2 s
    assert (results["ok"].outcome, results["ok"].rows) == ("ok", 7)
    assert results["broken"].outcome == "failed"
    assert results["broken"].error == "ValueError: bad input"
    assert results["slow"].outcome == "cancelled"
    assert "budget of 0.2 s" in (results["slow"].error or "")
    for name, outcome in (("ok", "ok"), ("broken", "failed"), ("slow", "cancelled")):
        (row,) = await ledger(pool, name)
        assert row["outcome"] == outcome and row["finished_at"] >= row["started_at"]
    with pytest.raises(UnknownJobError, match="known: broken, ok, slow"):
        await sched.run_now("nope")


async def test_tiny_intervals_coalesce_missed_slots(pool: asyncpg.Pool) -> None:
    calls: list[float] = []

    async def tick() -> int:
        calls.append(asyncio.get_running_loop().time())
        return 1

    sched = scheduler(pool, JobSpec("tick", tick, "every 0.1s", 5))
    await sched.start()
    try:
        await until(lambda: _async(len(calls) >= 3))
        sched.pause()
        await sched.wait_idle()
        paused_at = len(calls)
        await asyncio.sleep(1.0)  # ten slots pass while paused
        sched.resume()
        await until(lambda: _async(len(calls) > paused_at))
        await asyncio.sleep(0.05)
        # ten missed slots ran once (coalesced); at most one regular slot may follow in 50 ms
        assert paused_at + 1 <= len(calls) <= paused_at + 2
    finally:
        await sched.stop()
    rows = await ledger(pool, "tick")
    assert len(rows) == len(calls)  # every run is in the ledger, none twice
    assert {r["outcome"] for r in rows} == {"ok"}
    info = {j.name: j for j in sched.jobs()}["tick"]
    assert info.last_run is not None and info.last_run.outcome == "ok"


async def _async(value: bool) -> bool:
    return value


async def test_a_run_in_flight_blocks_its_next_slot_and_stop_cancels_it(
    pool: asyncpg.Pool,
) -> None:
    running = asyncio.Event()

    async def long() -> int:
        running.set()
        await asyncio.sleep(30)
        return 0

    sched = scheduler(pool, JobSpec("long", long, "every 0.05s", 60))
    await sched.start()
    await asyncio.wait_for(running.wait(), 5)
    run_id = await sched.run_now("long")
    await asyncio.sleep(0.3)  # six slots: max_instances=1 keeps them from starting runs
    assert [r["id"] for r in await ledger(pool, "long")] == [run_id]
    assert sched.jobs()[0].running
    await sched.stop()
    (row,) = await ledger(pool, "long")
    assert row["outcome"] == "cancelled" and "shutting down" in row["error"]


async def test_restart_catches_up_a_missed_daily_slot_once(pool: asyncpg.Pool) -> None:
    async def daily() -> int:
        return 1

    spec = JobSpec("daily", daily, "0 3 * * *", 10)
    now = datetime.now(TZ)
    last_slot = now.replace(hour=3, minute=0, second=0, microsecond=0)
    if last_slot > now:
        last_slot -= timedelta(days=1)
    # the previous run was the slot before: the latest slot was missed while we were down
    await pool.execute(
        "INSERT INTO job_runs (job, started_at, finished_at, outcome) VALUES ($1, $2, $2, 'ok')",
        "daily",
        last_slot - timedelta(days=1),
    )
    sched = scheduler(pool, spec, grace_s=2 * 86400)
    await sched.start()
    try:
        await until(lambda: _count(pool, "daily", 2))
    finally:
        await sched.stop()
    # started again with that run in the ledger: nothing is due until the next slot
    sched = scheduler(pool, spec, grace_s=2 * 86400)
    await sched.start()
    try:
        (info,) = sched.jobs()
        assert info.next_run is not None and info.next_run > datetime.now(UTC)
        assert info.next_run.astimezone(TZ).hour == 3
    finally:
        await sched.stop()
    assert len(await ledger(pool, "daily")) == 2


async def _count(pool: asyncpg.Pool, job: str, n: int) -> bool:
    return bool(await pool.fetchval("SELECT count(*) >= $2 FROM job_runs WHERE job = $1", job, n))


async def test_jobs_service_reschedules_lists_and_checks_health(
    pool: asyncpg.Pool, fresh_db: DatabaseConfig
) -> None:
    cfg = base_config(
        database=dataclasses.asdict(fresh_db),
        jobs={"coverage_schedule": "every 0.1s", "health_schedule": "0 * * * *"},
        health={"min_products_per_hour": 0},
        alerts={"rules": "out_of_stock seller:74885"},
    )
    jobs = Jobs(cfg, pool, None, lambda: {"scanners": {"uzum.products": 1.0}, "writer_depth": 0})
    await jobs.start()
    try:
        await until(lambda: _count(pool, "coverage", 2))
        listed = {j["name"]: j for j in jobs.list_jobs()}
        assert set(listed) == {
            "analytics",
            "sales",
            "periods",
            "coverage",
            "health",
            "vacuum",
            "retention",
            "alerts",
        }
        assert listed["coverage"]["last_run"]["outcome"] == "ok"
        assert listed["analytics"]["schedule"] == "0 3 * * *"
        record = await jobs.run("health")
        assert record.outcome == "ok", record.error
        health = jobs.last_health()
        assert health["ok"] and set(health["checks"]) >= {"postgres", "scanners", "disk"}
        assert await pool.fetchval("SELECT count(*) FROM alert_rules WHERE enabled") == 1
        # SIGHUP: a new schedule, a rule gone
        new = dataclasses.replace(
            cfg,
            jobs=dataclasses.replace(cfg.jobs, analytics_schedule="30 2 * * *"),
            alerts=dataclasses.replace(cfg.alerts, rules=""),
        )
        assert await jobs.reschedule(new) == ["analytics"]
        listed = {j["name"]: j for j in jobs.list_jobs()}
        assert listed["analytics"]["schedule"] == "30 2 * * *"
        assert datetime.fromisoformat(listed["analytics"]["next_run"]).astimezone(TZ).minute == 30
        assert await pool.fetchval("SELECT count(*) FROM alert_rules WHERE enabled") == 0
    finally:
        await jobs.stop()


async def test_cli_list_and_run(fresh_db: DatabaseConfig) -> None:
    cfg = base_config(database=dataclasses.asdict(fresh_db))
    out = io.StringIO()
    assert await run_command(cfg, "retention", out) == 0
    assert out.getvalue().startswith("retention: ok (run ")
    out = io.StringIO()
    assert await list_command(cfg, out) == 0
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()}
    assert "retention" in lines and " ok" in lines["retention"]
    assert "never run" in lines["analytics"]
    with pytest.raises(UnknownJobError):
        await run_command(cfg, "nope", io.StringIO())
