"""APScheduler 3.x wiring and the job-run ledger.

Every periodic job is an `async` function returning the rows it touched, registered under a
name with a schedule (crontab or interval, in the configured time zone) and a time budget. The
`AsyncIOScheduler` runs on the daemon's loop with `max_instances=1` and `coalesce=True`: runs
missed while the loop was busy or the scheduler paused collapse into one, and a run still going
when its next slot comes makes that slot a no-op. Every run is a row of `job_runs` (start, end,
outcome, rows, error), so history survives restarts; at start the ledger also tells which slot
a restart missed, and that slot runs once, late, instead of being skipped. A run over its budget
is cancelled (asyncpg cancels the statement in flight) and recorded as `cancelled`. A
PostgreSQL advisory lock per job keeps two instances (shards on several hosts) from running the
same job at once; the loser records `skipped`. A run whose database connection is lost is
`interrupted`, and so is a `running` row whose process is gone (ledger.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from marketplaced import db, log
from marketplaced.errors import MarketplacedError
from marketplaced.jobs import ledger, triggers

_log = log.get(__name__)

#: first key of the two-key advisory locks of jobs ('jobs'); the second is hashtext(name)
_LOCK_CLASS = 0x6A6F6273
_TRY_LOCK = "SELECT pg_try_advisory_lock($1, hashtext($2))"
# asyncpg's reset on release also runs pg_advisory_unlock_all(): a lost unlock cannot leak
_UNLOCK = "SELECT pg_advisory_unlock($1, hashtext($2))"
_START = "INSERT INTO job_runs (job, started_at) VALUES ($1, now()) RETURNING id, started_at"
_FINISH = """
UPDATE job_runs SET finished_at = now(), outcome = $2, rows_touched = $3, error = $4
WHERE id = $1 RETURNING job, started_at, finished_at, outcome, rows_touched, error"""
_LAST_RUNS = """
SELECT DISTINCT ON (job) id, job, started_at, finished_at, outcome, rows_touched, error
FROM job_runs WHERE job = ANY($1::text[]) ORDER BY job, started_at DESC"""

#: seconds a stopping scheduler waits for cancelled runs to record their outcome
_STOP_GRACE_S = 5.0


class UnknownJobError(MarketplacedError):
    """`jobs run NAME` / run_now() with a name no job has."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A named job: what to run, when, and for how long at most."""

    name: str
    run: Callable[[], Awaitable[int]]
    schedule: str
    budget_s: float


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    job: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # running / ok / failed / cancelled / skipped / interrupted
    rows: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "outcome": self.outcome,
            "rows": self.rows,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class JobInfo:
    """One line of `marketplaced jobs list` and of the dashboard's job table."""

    name: str
    schedule: str
    budget_s: float
    next_run: datetime | None
    running: bool
    last_run: RunRecord | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schedule": self.schedule,
            "budget_s": self.budget_s,
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "running": self.running,
            "last_run": self.last_run.as_dict() if self.last_run else None,
        }


def _record(row: asyncpg.Record, run_id: int) -> RunRecord:
    return RunRecord(
        run_id,
        row["job"],
        row["started_at"],
        row["finished_at"],
        row["outcome"],
        row["rows_touched"],
        row["error"],
    )


async def last_runs(pool: asyncpg.Pool, names: Sequence[str]) -> dict[str, RunRecord]:
    rows = await pool.fetch(_LAST_RUNS, list(names))
    return {r["job"]: _record(r, r["id"]) for r in rows}


async def run_job(pool: asyncpg.Pool, spec: JobSpec) -> RunRecord:
    """Run one job now, recorded in the ledger, under its lock and budget (CLI, tests)."""
    row = await pool.fetchrow(_START, spec.name)
    assert row is not None
    return await _execute(pool, spec, row["id"])


async def _execute(pool: asyncpg.Pool, spec: JobSpec, run_id: int) -> RunRecord:
    started = time.monotonic()
    try:
        async with pool.acquire() as lock_conn:
            if not await lock_conn.fetchval(_TRY_LOCK, _LOCK_CLASS, spec.name):
                return await _finish(pool, run_id, "skipped", None, "running in another process")
            try:
                await _close_orphans(lock_conn, spec.name, run_id)
                _log.info("job_started", job=spec.name, run=run_id)
                outcome, rows, error = await _run(pool, spec, run_id)
            finally:
                await _unlock(lock_conn, spec.name)
    except db.TRANSIENT_ERRORS as exc:
        # the database went away under the run (a restart, a cut connection): the job did not
        # fail, it was interrupted; its outcome is written once the database answers again
        ledger.raise_if_cancelling(exc)
        outcome, rows = "interrupted", None
        error = f"database connection lost: {ledger.describe(exc)}"[:2000]
        _log.warning("job_interrupted", job=spec.name, run=run_id, error=error)
    ms = round((time.monotonic() - started) * 1000)
    _log.info("job_finished", job=spec.name, run=run_id, outcome=outcome, rows=rows, ms=ms)
    return await ledger.finish_patiently(
        lambda: _finish(pool, run_id, outcome, rows, error), f"run {run_id} of {spec.name}"
    )


async def _run(
    pool: asyncpg.Pool, spec: JobSpec, run_id: int
) -> tuple[str, int | None, str | None]:
    """The job itself within its budget: (outcome, rows, error); a lost connection raises."""
    try:
        async with asyncio.timeout(spec.budget_s) as budget:
            return "ok", await spec.run(), None
    except TimeoutError as exc:
        if not budget.expired():
            return "failed", None, f"TimeoutError: {exc}"
        return "cancelled", None, f"exceeded its budget of {spec.budget_s:g} s"
    except asyncio.CancelledError:
        # shutdown: record the outcome (shielded from a second cancel), then let it go on
        try:
            await asyncio.shield(
                _finish(pool, run_id, "cancelled", None, "stopped: the daemon is shutting down")
            )
        except db.TRANSIENT_ERRORS as exc:
            # the stop must go on: the orphan sweep closes the row once the database is back
            _log.warning("job_not_recorded", job=spec.name, run=run_id, error=ledger.describe(exc))
        raise
    except ledger.CONNECTION_LOST:
        raise
    except Exception as exc:
        _log.exception("job_failed", job=spec.name, run=run_id)
        return "failed", None, f"{type(exc).__name__}: {exc}"[:2000]


async def _unlock(conn: db.Conn, name: str) -> None:
    try:
        await conn.fetchval(_UNLOCK, _LOCK_CLASS, name)
    except db.TRANSIENT_ERRORS as exc:
        # a session the database lost holds no lock any more: nothing to undo
        ledger.raise_if_cancelling(exc)


async def _close_orphans(
    conn: db.Conn | asyncpg.Pool, job: str | None = None, run_id: int | None = None
) -> None:
    for orphan, name in await ledger.close_orphans(conn, _LOCK_CLASS, job, run_id):
        _log.warning("job_run_interrupted", job=name, run=orphan, reason="its process is gone")


async def _finish(
    pool: asyncpg.Pool, run_id: int, outcome: str, rows: int | None, error: str | None
) -> RunRecord:
    row = await pool.fetchrow(_FINISH, run_id, outcome, rows, error)
    assert row is not None
    return _record(row, run_id)


class JobScheduler:
    """The daemon's scheduler: start/stop, live reschedule, run-now, and the job listing."""

    def __init__(
        self, pool: asyncpg.Pool, specs: Sequence[JobSpec], *, tz: tzinfo, misfire_grace_s: float
    ) -> None:
        self._pool = pool
        self._specs = {s.name: s for s in specs}
        self._tz = tz
        self._grace = misfire_grace_s
        self._sched: AsyncIOScheduler | None = None
        self._running: dict[str, tuple[int, asyncio.Task[RunRecord]]] = {}
        self._last: dict[str, RunRecord] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        # APScheduler logs every run at INFO; our job_started/job_finished events say more
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        await _close_orphans(self._pool)
        self._last = await last_runs(self._pool, list(self._specs))
        self._sched = AsyncIOScheduler(
            timezone=self._tz,
            event_loop=asyncio.get_running_loop(),
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": int(self._grace),
            },
        )
        for spec in self._specs.values():
            self._add(spec)
        self._sched.start()
        _log.info("scheduler_started", jobs=sorted(self._specs))

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop firing, cancel runs in flight (each records 'cancelled'), wait for them
        (`grace_s` at most, default _STOP_GRACE_S)."""
        if self._sched is not None and self._sched.running:
            self._sched.shutdown(wait=False)
        self._sched = None
        tasks = [task for _, task in self._running.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_GRACE_S if grace_s is None else grace_s)

    def pause(self) -> None:
        assert self._sched is not None
        self._sched.pause()

    def resume(self) -> None:
        assert self._sched is not None
        self._sched.resume()

    def update(self, specs: Sequence[JobSpec], *, tz: tzinfo, misfire_grace_s: float) -> list[str]:
        """Apply new schedules live (SIGHUP); returns the names whose schedule changed."""
        old = self._specs
        self._specs = {s.name: s for s in specs}
        tz_changed, self._tz = tz != self._tz, tz
        self._grace = misfire_grace_s
        changed = []
        sched = self._sched
        for name, spec in self._specs.items():
            before = old.get(name)
            if before is not None and before.schedule == spec.schedule and not tz_changed:
                if sched is not None:
                    sched.modify_job(name, misfire_grace_time=int(misfire_grace_s))
                continue
            changed.append(name)
            if sched is None:
                continue
            if before is None:
                self._add(spec)
            else:
                sched.reschedule_job(name, trigger=triggers.trigger(spec.schedule, tz))
        for name in old.keys() - self._specs.keys():
            changed.append(name)
            if sched is not None:
                sched.remove_job(name)
        if changed:
            _log.info("jobs_rescheduled", changed=sorted(changed))
        return sorted(changed)

    # -- running -------------------------------------------------------------------------------
    async def run_now(self, name: str) -> int:
        """Start a run of `name` in the background (or join the one in flight); its run id."""
        spec = self._spec(name)
        if name in self._running:
            return self._running[name][0]
        row = await self._pool.fetchrow(_START, spec.name)
        assert row is not None
        self._spawn(spec, row["id"])
        return int(row["id"])

    async def run(self, name: str) -> RunRecord:
        """Run `name` now and wait for its outcome (direct invocation for tests and tools)."""
        run_id = await self.run_now(name)
        task = self._running.get(name)
        if task is not None and task[0] == run_id:
            return await asyncio.shield(task[1])
        return self._last[name]

    async def wait_idle(self) -> None:
        """Until no run is in flight: the 'run until idle' mode of tests."""
        while self._running:
            await asyncio.wait([task for _, task in self._running.values()])

    def jobs(self) -> list[JobInfo]:
        out = []
        for name, spec in sorted(self._specs.items()):
            job = self._sched.get_job(name) if self._sched is not None else None
            out.append(
                JobInfo(
                    name,
                    spec.schedule,
                    spec.budget_s,
                    job.next_run_time if job is not None else None,
                    name in self._running,
                    self._last.get(name),
                )
            )
        return out

    # -- internals ------------------------------------------------------------------------------
    def _spec(self, name: str) -> JobSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs))
            raise UnknownJobError(f"no job named {name!r}; known: {known}") from None

    def _add(self, spec: JobSpec) -> None:
        assert self._sched is not None
        self._sched.add_job(
            self._fire,
            triggers.trigger(spec.schedule, self._tz),
            args=[spec.name],
            id=spec.name,
            name=spec.name,
            replace_existing=True,
            next_run_time=self._first_run(spec),
        )

    def _first_run(self, spec: JobSpec) -> datetime | None:
        """Now when the ledger shows a slot missed within the grace time, else the next slot."""
        now = datetime.now(UTC)
        last = self._last.get(spec.name)
        is_interval = triggers.interval_s(spec.schedule) is not None
        if last is None:
            # never ran (a fresh install): the first slot, not now — an hourly health check
            # right at the first start would only report that nothing was scanned yet
            return self._next_slot(spec, now)
        due = triggers.first_due(spec.schedule, self._tz, last.started_at)
        if due is None:
            return self._next_slot(spec, now)
        if due <= now:
            missed_by = (now - due).total_seconds()
            return now if missed_by <= self._grace else self._next_slot(spec, now)
        return due if is_interval else self._next_slot(spec, now)

    def _next_slot(self, spec: JobSpec, now: datetime) -> datetime | None:
        nxt: datetime | None = triggers.trigger(spec.schedule, self._tz).get_next_fire_time(
            None, now
        )
        return nxt

    async def _fire(self, name: str) -> None:
        """What APScheduler calls at each slot."""
        spec = self._specs.get(name)
        if spec is None or name in self._running:
            return  # a run_now() run is still going: this slot is covered by it
        try:
            row = await self._pool.fetchrow(_START, name)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _log.error("job_not_started", job=name, error=str(exc) or type(exc).__name__)
            return
        assert row is not None
        task = self._spawn(spec, row["id"])
        await asyncio.wait([task])

    def _spawn(self, spec: JobSpec, run_id: int) -> asyncio.Task[RunRecord]:
        task = asyncio.create_task(_execute(self._pool, spec, run_id), name=f"job:{spec.name}")
        self._running[spec.name] = (run_id, task)
        task.add_done_callback(functools.partial(self._done, spec.name))
        return task

    def _done(self, name: str, task: asyncio.Task[RunRecord]) -> None:
        self._running.pop(name, None)
        if task.cancelled():
            return
        if (exc := task.exception()) is not None:
            # the ledger itself failed (PostgreSQL went away mid-run); the next slot retries
            _log.error("job_not_recorded", job=name, error=str(exc) or type(exc).__name__)
            return
        self._last[name] = task.result()
