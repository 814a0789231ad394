"""Scan checkpoints: the durable records of how far each scanner got and what it could not do.

Durable truth lives in PostgreSQL: a `CursorMark` travels through the writer queue behind the
records it covers and is upserted into `scan_cursors` in the same transaction, so a cursor can
never run ahead of committed data. Dead letters and parse failures travel the same way. (What
other processes read while the daemon runs is in Redis: see `live_state`.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from marketplaced import log

_log = log.get(__name__)


@dataclass(slots=True)
class CursorMark:
    """Everything up to `position` in `cycle` is covered by records queued before this mark."""

    scanner: str
    position: int
    cycle: int
    frontier: int
    highest_seen: int
    cycle_started_at: datetime | None = None
    state: Mapping[str, Any] | None = None
    ack: asyncio.Future[None] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    scope: str
    entity_id: int
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParseFailure:
    scope: str
    entity_id: str
    reason: str
    archive_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    scanner: str
    position: int
    cycle: int
    frontier: int
    highest_seen: int
    cycle_started_at: datetime
    state: dict[str, Any]


class CheckpointSink:
    """Writes dead letters, parse failures and cursor marks (last in every batch)."""

    types: tuple[type, ...] = (DeadLetter, ParseFailure, CursorMark)

    async def write(
        self, conn: asyncpg.Connection, groups: Mapping[type, list[Any]], now: datetime
    ) -> int:
        rows = 0
        if letters := groups.get(DeadLetter):
            rows += await write_dead_letters(conn, letters, now)
        if failures := groups.get(ParseFailure):
            lastf = {(f.scope, f.entity_id): f for f in failures}
            await conn.executemany(
                _UPSERT_PARSE_FAILURE,
                [(f.scope, f.entity_id, f.reason, f.archive_ref, now) for f in lastf.values()],
            )
            rows += len(lastf)
        if marks := groups.get(CursorMark):
            lastm = {m.scanner: m for m in marks}
            await conn.executemany(
                _UPSERT_CURSOR,
                [
                    (
                        m.scanner,
                        m.position,
                        m.cycle,
                        m.frontier,
                        m.highest_seen,
                        m.cycle_started_at or now,
                        json.dumps(dict(m.state or {})),
                        now,
                    )
                    for m in lastm.values()
                ],
            )
            rows += len(lastm)
        return rows

    def identify(self, item: Any) -> tuple[str, int]:
        return (getattr(item, "scope", "checkpoint"), 0)


async def write_dead_letters(
    conn: asyncpg.Connection, letters: list[DeadLetter], now: datetime
) -> int:
    """Upsert dead letters (last one per id wins) inside the caller's transaction."""
    last = {(d.scope, d.entity_id): d for d in letters}
    await conn.executemany(
        _UPSERT_DEAD_LETTER,
        [(d.scope, d.entity_id, d.kind, d.reason, now) for d in last.values()],
    )
    return len(last)


_UPSERT_DEAD_LETTER = """
INSERT INTO dead_letters (scope, entity_id, kind, reason, first_failed_at, last_failed_at)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (scope, entity_id) DO UPDATE
SET kind = EXCLUDED.kind, reason = EXCLUDED.reason, attempts = dead_letters.attempts + 1,
    last_failed_at = EXCLUDED.last_failed_at, retry_requested_at = NULL"""

_UPSERT_PARSE_FAILURE = """
INSERT INTO parse_failures (scope, entity_id, reason, archive_ref, first_seen, last_seen)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (scope, entity_id) DO UPDATE
SET reason = EXCLUDED.reason,
    archive_ref = COALESCE(EXCLUDED.archive_ref, parse_failures.archive_ref),
    occurrences = parse_failures.occurrences + 1, last_seen = EXCLUDED.last_seen"""

_UPSERT_CURSOR = """
INSERT INTO scan_cursors
    (scanner, position, cycle, frontier, highest_seen, cycle_started_at, state, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
ON CONFLICT (scanner) DO UPDATE
SET position = EXCLUDED.position, cycle = EXCLUDED.cycle, frontier = EXCLUDED.frontier,
    highest_seen = GREATEST(scan_cursors.highest_seen, EXCLUDED.highest_seen),
    cycle_started_at = EXCLUDED.cycle_started_at, state = EXCLUDED.state,
    updated_at = EXCLUDED.updated_at"""


_DUE_DEAD_LETTERS = """
(SELECT entity_id, 0 AS rank, last_failed_at FROM dead_letters
 WHERE scope = $1 AND retry_requested_at IS NOT NULL)
UNION ALL
(SELECT entity_id, 1, last_failed_at FROM dead_letters
 WHERE scope = $1 AND retry_requested_at IS NULL
   AND last_failed_at < now() - make_interval(secs => $2))
ORDER BY rank, last_failed_at LIMIT $3"""


async def load_cursor(pool: asyncpg.Pool, scanner: str) -> Cursor | None:
    row = await pool.fetchrow(
        "SELECT scanner, position, cycle, frontier, highest_seen, cycle_started_at, state "
        "FROM scan_cursors WHERE scanner = $1",
        scanner,
    )
    if row is None:
        return None
    state = row["state"]
    return Cursor(
        row["scanner"],
        row["position"],
        row["cycle"],
        row["frontier"],
        row["highest_seen"],
        row["cycle_started_at"],
        json.loads(state) if isinstance(state, str) else dict(state),
    )


async def due_dead_letters(
    pool: asyncpg.Pool, scope: str, older_than_s: float, limit: int
) -> list[int]:
    """Ids of `scope` to fetch again: those an operator asked to retry first, then those whose
    last failure is older than `older_than_s`."""
    rows = await pool.fetch(_DUE_DEAD_LETTERS, scope, older_than_s, limit)
    return [r["entity_id"] for r in rows]
