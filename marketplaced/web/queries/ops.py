"""Operational reads for the status page: dead letters, parse failures, job runs, sizes."""

from __future__ import annotations

from typing import Any

import asyncpg

from marketplaced.web.listing import Column, ListQuery, Where

DEAD_LETTER_COLUMNS = (
    Column("scope", "Scope"),
    Column("entity_id", "ID", "int"),
    Column("kind", "Kind"),
    Column("reason", "Reason"),
    Column("attempts", "Attempts", "int"),
    Column("first_failed_at", "First failed", "datetime"),
    Column("last_failed_at", "Last failed", "datetime"),
    Column("retry_requested_at", "Retry requested", "datetime"),
)

JOB_RUN_COLUMNS = (
    Column("id", "Run", "int"),
    Column("job", "Job"),
    Column("started_at", "Started", "datetime"),
    Column("finished_at", "Finished", "datetime"),
    Column("outcome", "Outcome"),
    Column("rows_touched", "Rows", "int"),
    Column("error", "Error"),
)

#: the tables whose sizes the status page lists (the big ones first in practice)
_SIZE_TABLES = (
    "price_history",
    "product_stats_history",
    "products",
    "skus",
    "sellers",
    "categories",
    "uzex_lots",
    "uzex_lot_items",
    "dead_letters",
    "job_runs",
)


def dead_letters(scope: str | None, cursor: tuple[Any, ...] | None, limit: int) -> ListQuery:
    w = Where()
    if scope:
        w.add("scope = {}", scope)
    if cursor is not None:
        w.add("(last_failed_at, scope, entity_id) < ({}, {}, {})", *cursor)
    sql = (
        "SELECT scope, entity_id, kind, reason, attempts, first_failed_at, last_failed_at, "  # noqa: S608 - constant fragments, values are $n parameters
        "retry_requested_at "
        f"FROM dead_letters WHERE {w.sql} "
        "ORDER BY last_failed_at DESC, scope DESC, entity_id DESC "
        f"LIMIT {w.next_mark()}"
    )
    return ListQuery(
        sql,
        tuple(w.args),
        DEAD_LETTER_COLUMNS,
        limit,
        keyset=("last_failed_at", "scope", "entity_id"),
    )


def job_runs(job: str | None, cursor: tuple[Any, ...] | None, limit: int) -> ListQuery:
    w = Where()
    if job:
        w.add("job = {}", job)
    if cursor is not None:
        w.add("id < {}", cursor[0])
    sql = (
        "SELECT id, job, started_at, finished_at, outcome, rows_touched, error FROM job_runs "  # noqa: S608 - constant fragments, values are $n parameters
        f"WHERE {w.sql} ORDER BY id DESC LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), JOB_RUN_COLUMNS, limit, keyset=("id",))


async def dead_letter_counts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT scope, kind, count(*) AS n, max(last_failed_at) AS last, "
        "count(retry_requested_at) AS requested "
        "FROM dead_letters GROUP BY scope, kind ORDER BY scope, kind"
    )


async def last_job_runs(pool: asyncpg.Pool) -> dict[str, asyncpg.Record]:
    """The latest run of every job (index job_runs_job_started)."""
    rows = await pool.fetch(
        "SELECT DISTINCT ON (job) job, started_at, finished_at, outcome, rows_touched, error "
        "FROM job_runs ORDER BY job, started_at DESC"
    )
    return {r["job"]: r for r in rows}


async def job_run_counts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT job, outcome, count(*) AS n, max(finished_at) AS last FROM job_runs "
        "GROUP BY job, outcome ORDER BY job, outcome"
    )


async def parse_failure_counts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT scope, count(*) AS n, sum(occurrences) AS occurrences, max(last_seen) AS last "
        "FROM parse_failures GROUP BY scope ORDER BY scope"
    )


async def sizes(pool: asyncpg.Pool) -> tuple[int, list[asyncpg.Record]]:
    """Database size and the sizes of the main tables (partitions included)."""
    db_size = await pool.fetchval("SELECT pg_database_size(current_database())")
    rows = await pool.fetch(
        """
        SELECT t.name,
               coalesce((SELECT sum(pg_total_relation_size(i.inhrelid))
                         FROM pg_inherits i WHERE i.inhparent = c.oid), 0)
               + pg_total_relation_size(c.oid) AS bytes
        FROM unnest($1::text[]) AS t(name) JOIN pg_class c ON c.oid = to_regclass(t.name)
        ORDER BY bytes DESC""",
        list(_SIZE_TABLES),
    )
    return int(db_size), rows
