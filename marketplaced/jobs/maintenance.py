"""Maintenance: vacuum/analyze the busy tables, partitions ahead, retention, archive size cap.

Autovacuum handles the steady state; the nightly pass exists for what it does not do: it never
ANALYZEs partitioned parents (the planner then guesses about price_history as a whole), and the
tables rewritten all day (products, skus, cursors) benefit from a pass at a quiet hour.
Retention drops whole monthly partitions (a DROP, not a DELETE of millions of rows) after moving
any rows that landed in a DEFAULT partition where they belong (see `marketplaced.partitions`,
which also keeps the DDL from stalling the writer behind a long reader), prunes the small
ledgers by age, and keeps the raw archive under its size cap even when the cap was lowered
or archiving was switched off. Each step runs even if an earlier one failed; the job then fails
naming every problem.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg

from marketplaced import log, partitions
from marketplaced.archive import prune_tree
from marketplaced.config import Config
from marketplaced.errors import MarketplacedError
from marketplaced.jobs.analytics_sql import ANALYTICS_TABLES

_log = log.get(__name__)

HISTORY_TABLES = ("price_history", "product_stats_history")
#: rewritten continuously by the writer and the jobs
BUSY_TABLES = (
    "products",
    "skus",
    "sellers",
    "categories",
    "uzum_missing",
    "scan_cursors",
    "dead_letters",
    "job_runs",
    "scan_coverage",
    "alert_state",
    "alert_events",
)
_RECENT_PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = $1::regclass AND c.relname = ANY($2::text[])"""
_PRUNE = (
    ("job_runs", "DELETE FROM job_runs WHERE started_at < now() - make_interval(days => $1)"),
    (
        "health_checks",
        "DELETE FROM health_checks WHERE checked_at < now() - make_interval(days => $1)",
    ),
    (
        "scan_coverage",
        "DELETE FROM scan_coverage WHERE period_end < now() - make_interval(days => $1)",
    ),
)
_PRUNE_ALERTS = (
    "DELETE FROM alert_deliveries WHERE created_at < now() - make_interval(days => $1)",
    "DELETE FROM alert_events WHERE created_at < now() - make_interval(days => $1)",
    "DELETE FROM alert_state WHERE last_fired_at < now() - make_interval(days => $1)",
)


class MaintenanceError(MarketplacedError):
    """One or more maintenance steps failed; the message lists them."""


def _ident(name: str) -> str:
    """A quoted identifier; VACUUM/ANALYZE take no parameters, and names come from our own
    constants or the catalogue, never from outside."""
    return '"' + name.replace('"', '""') + '"'


def _month_suffix(day: date) -> str:
    return f"_y{day.year:04d}m{day.month:02d}"


async def vacuum(pool: asyncpg.Pool, now: datetime | None = None) -> int:
    """VACUUM (ANALYZE) busy tables and this/last month's history partitions; ANALYZE the
    partitioned parents. Returns the number of tables processed."""
    today = (now or datetime.now(UTC)).date()
    previous = _months_before(today.replace(day=1), 1)
    done = 0
    # VACUUM cannot run inside a transaction: each statement runs on its own (autocommit)
    async with pool.acquire() as conn:
        targets = list(BUSY_TABLES)
        for parent in HISTORY_TABLES:
            names = [parent + _month_suffix(d) for d in (today, previous)]
            targets += [r["relname"] for r in await conn.fetch(_RECENT_PARTITIONS, parent, names)]
        for table in targets:
            await conn.execute("VACUUM (ANALYZE) " + _ident(table))
            done += 1
        for parent in (*HISTORY_TABLES, *ANALYTICS_TABLES):
            await conn.execute("ANALYZE " + _ident(parent))
            done += 1
    _log.info("vacuum_done", tables=done)
    return done


async def retention(
    pool: asyncpg.Pool,
    cfg: Config,
    now: datetime | None = None,
    *,
    locks: partitions.LockPolicy = partitions.DEFAULT_POLICY,
) -> int:
    """Partitions ahead, old partitions dropped, ledgers pruned, archive capped."""
    today = (now or datetime.now(UTC)).date()
    ret = cfg.retention
    problems: list[str] = []
    touched = 0
    horizons = ((HISTORY_TABLES, ret.history_months), (ANALYTICS_TABLES, ret.analytics_months))
    for parents, months in horizons:
        cutoff = _months_before(today.replace(day=1), months)
        for parent in parents:
            touched += await _partitions(
                pool, parent, cutoff, ret.partitions_ahead_months, locks, problems
            )
    for table, sql in _PRUNE:
        touched += _count(await pool.execute(sql, ret.ledger_days))
        _log.debug("ledger_pruned", table=table)
    for sql in _PRUNE_ALERTS:
        touched += _count(await pool.execute(sql, ret.alert_history_days))
    try:
        # the archive's own pruner (one per tree): if a writing archive is pruning right now
        # this run skips, that walk does the same work
        pruned = await asyncio.to_thread(
            prune_tree, cfg.archive_dir, cfg.archive.max_mb * 1024 * 1024
        )
        touched += pruned or 0
    except OSError as exc:
        problems.append(f"archive {cfg.archive_dir}: {exc}")
    if problems:
        raise MaintenanceError("; ".join(problems))
    return touched


async def _partitions(
    pool: asyncpg.Pool,
    parent: str,
    cutoff: date,
    ahead: int,
    locks: partitions.LockPolicy,
    problems: list[str],
) -> int:
    """Default-partition rows adopted, partitions ahead created, old ones dropped; a failed
    step is added to `problems` and does not keep the drop from running."""
    touched = 0
    try:
        touched += await partitions.adopt_default_rows(pool, parent, cutoff, locks)
        touched += await partitions.ensure(pool, parent, ahead, locks)
    except (asyncpg.PostgresError, partitions.PartitionBusyError) as exc:
        problems.append(f"{parent}: {exc}")
    try:
        dropped = await partitions.drop_before(pool, parent, cutoff, locks)
    except (asyncpg.PostgresError, partitions.PartitionBusyError) as exc:
        problems.append(f"{parent}: {exc}")
        return touched
    if dropped:
        _log.info("partitions_dropped", table=parent, partitions=dropped)
    return touched + len(dropped)


def _months_before(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
