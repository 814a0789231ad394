"""Reads of what failed: dead-lettered ids (the list and its counts) and parse failures, for the
status page, its dead-letter list and the metrics."""

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


async def dead_letter_counts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT scope, kind, count(*) AS n, max(last_failed_at) AS last, "
        "count(retry_requested_at) AS requested "
        "FROM dead_letters GROUP BY scope, kind ORDER BY scope, kind"
    )


async def parse_failure_counts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT scope, count(*) AS n, sum(occurrences) AS occurrences, max(last_seen) AS last "
        "FROM parse_failures GROUP BY scope ORDER BY scope"
    )
