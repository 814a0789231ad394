"""`marketplaced jobs list` and `marketplaced jobs run NAME`, from another process.

They work through the same job ledger and advisory locks as the daemon's scheduler, with a
pool and (best-effort) Redis of their own for one command.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TextIO

import redis.asyncio as aioredis

from marketplaced import db
from marketplaced.config import Config
from marketplaced.errors import DatabaseError
from marketplaced.jobs import analytics, ledger, oneoff, triggers
from marketplaced.jobs.scheduler import UnknownJobError, last_runs, run_job
from marketplaced.jobs.service import JobContext, build_specs, notifier_of, utc_now
from marketplaced.live_state import LiveState


async def _cli_context(cfg: Config) -> tuple[JobContext, Callable[[], Awaitable[None]]]:
    """A pool and (best-effort) Redis for one command, and the coroutine that closes them."""
    pool = await db.create_pool(cfg.database, wait_s=10, min_size=0)
    try:
        async with pool.acquire() as conn:
            # an unmigrated database is a clear SchemaError ("run marketplaced migrate"), not
            # a traceback from the first query on a missing job_runs table
            await db.check_schema(conn)
    except BaseException:
        await pool.close()
        raise
    # 5 s: a CLI command should say "Redis down" quickly rather than hang
    client = aioredis.Redis(
        host=cfg.redis.host, port=cfg.redis.port, db=cfg.redis.db, socket_timeout=5
    )
    ctx = JobContext(cfg, pool, LiveState.of(client, cfg), None, notifier_of(cfg), utc_now, {})

    async def close() -> None:
        await client.aclose()
        await pool.close()

    return ctx, close


async def list_command(cfg: Config, out: TextIO) -> int:
    """`marketplaced jobs list`: every job, its schedule, next slot and last run."""
    ctx, close = await _cli_context(cfg)
    try:
        specs = build_specs(ctx)
        last = await last_runs(ctx.pool, [s.name for s in specs])
    finally:
        await close()
    tz = triggers.timezone(cfg.jobs.timezone)
    now = datetime.now(tz)
    # every time in one zone, named: the scheduler's (next slots used to print in UTC)
    out.write(f"times in {cfg.jobs.timezone}\n")
    for spec in specs:
        run = last.get(spec.name)
        if triggers.interval_s(spec.schedule) is not None:
            nxt = triggers.first_due(spec.schedule, tz, run.started_at) if run else now
        else:
            nxt = triggers.trigger(spec.schedule, tz).get_next_fire_time(None, now)
        last_text = "never run"
        if run is not None:
            last_text = f"{run.started_at.astimezone(tz):%Y-%m-%d %H:%M} {run.outcome}"
            last_text += f" rows={run.rows}" if run.rows is not None else ""
            last_text += f" error={run.error}" if run.error else ""
        next_text = f"{max(nxt, now).astimezone(tz):%Y-%m-%d %H:%M}" if nxt else "-"
        out.write(f"{spec.name:<14} {spec.schedule:<12} next {next_text}  last {last_text}\n")
    return 0


async def run_command(
    cfg: Config,
    name: str,
    out: TextIO,
    *,
    commit: bool = False,
    days: Sequence[date] | None = None,
) -> int:
    """`marketplaced jobs run NAME`: run one job now in this process; exit 0 when it went ok.
    The daemon's own run of the same job is kept out by the job's advisory lock. Alerts and
    health are a dry run unless `commit` (oneoff.py); `days` recomputes those analytics days
    instead of the scheduled selection. Rules are never synced from this configuration: they
    are the daemon's."""
    ctx, close = await _cli_context(cfg)
    try:
        async with _database_errors(cfg):
            return await _run(ctx, name, out, commit=commit, days=days)
    finally:
        await close()


async def _run(
    ctx: JobContext, name: str, out: TextIO, *, commit: bool, days: Sequence[date] | None
) -> int:
    specs = {s.name: s for s in build_specs(ctx)}
    if name not in specs:
        raise UnknownJobError(f"no job named {name!r}; known: {', '.join(sorted(specs))}")
    if name in oneoff.PREVIEWED and not commit:
        return await oneoff.preview(ctx, name, out)
    spec = specs[name]
    if days is not None:
        spec = dataclasses.replace(spec, run=_recompute(ctx, list(days)))
    # a run the database dropped comes back as 'interrupted'; one whose outcome could not be
    # written at all raises RunNotRecordedError, which says what is left in the ledger
    record = await run_job(ctx.pool, spec)
    error = f": {record.error}" if record.error else ""
    rows = f", rows {record.rows}" if record.rows is not None else ""
    out.write(f"{name}: {record.outcome} (run {record.id}{rows}){error}\n")
    if name == "health" and record.outcome == "ok":
        # the run went fine; what it found is the answer the operator asked for
        return _health_verdict(ctx.health, out)
    return 0 if record.outcome == "ok" else 1


@contextlib.asynccontextmanager
async def _database_errors(cfg: Config) -> AsyncIterator[None]:
    """A connection lost outside a job run (a dry run, the ledger) is one line, not a trace."""
    try:
        yield
    except db.TRANSIENT_ERRORS as exc:
        raise DatabaseError(
            f"lost the connection to PostgreSQL at {db.describe(cfg.database)}: "
            f"{ledger.describe(exc)}"
        ) from None


def _health_verdict(result: Mapping[str, Any], out: TextIO) -> int:
    out.write(f"health: {'ok' if result.get('ok') else 'FAILING'}\n")
    for check, c in (result.get("checks") or {}).items():
        out.write(f"  {check:<17} {'ok' if c['ok'] else 'FAILING':<8} {c['detail']}\n")
    return 0 if result.get("ok") else 1


def _recompute(ctx: JobContext, days: list[date]) -> Callable[[], Awaitable[int]]:
    settings = analytics.AnalyticsSettings.from_config(ctx.cfg.jobs)

    async def run() -> int:
        rows = 0
        for day in days:
            rows += (await analytics.compute_day(ctx.pool, day, settings)).rows
        return rows

    return run
