"""Scan cursors and the daemon's live state.

Durable truth lives in PostgreSQL: a `CursorMark` travels through the writer queue behind the
records it covers and is upserted into `scan_cursors` in the same transaction, so a cursor can
never run ahead of committed data. Dead letters and parse failures travel the same way.

Redis holds what other processes read while the daemon runs — scanner heartbeats, rates,
recent errors, job schedules and a copy of every cursor — keyed by the database the daemon
writes to. `LiveState` swallows Redis outages (logging the
transition once) so scanning never stops because Redis did.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from marketplaced import log
from marketplaced.config import Config

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


def live_prefix(cfg: Config) -> str:
    """The Redis key prefix of the daemon writing to `cfg`'s database: `redis.key_prefix`
    plus that database, so daemons (and the demo, tests, a staging copy) sharing one Redis
    never read each other's heartbeats, and `marketplaced status` reads only the daemon of
    the database it is configured for."""
    d = cfg.database
    return f"{cfg.redis.key_prefix}{d.host}:{d.port}/{d.name}:"


def heartbeat_limit_s(cfg: Config) -> float:
    """A daemon whose heartbeat is older than this is not running: it publishes every
    `daemon.status_interval_s`, so three missed publications are no hiccup."""
    return 3 * cfg.daemon.status_interval_s


class LiveState:
    """The Redis side: heartbeats, live scanner figures and cursor copies, under the key
    prefix of one daemon (`live_prefix`).

    Every method is best-effort: on a Redis error it records the outage, logs
    `redis_unavailable` once, and returns; `redis_recovered` is logged when it answers again.
    """

    #: heartbeat keys expire so a dead daemon's scanners do not linger for ever; until then
    #: readers judge them by the age of their heartbeat (`heartbeat_limit_s`)
    TTL_S = 300

    def __init__(
        self, client: aioredis.Redis, prefix: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._r = client
        self._prefix = prefix
        self._clock = clock
        self.down_since: float | None = None

    @classmethod
    def of(
        cls, client: aioredis.Redis, cfg: Config, *, clock: Callable[[], float] = time.time
    ) -> LiveState:
        """The live state of the daemon that writes to `cfg`'s database."""
        return cls(client, live_prefix(cfg), clock=clock)

    def key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    async def ping(self) -> bool:
        return await self._guard(self._r.ping()) is not None

    async def publish(self, kind: str, name: str, fields: Mapping[str, Any]) -> None:
        """HSET the figures of a scanner/service with a TTL; values JSON-encoded."""
        key = self.key(kind, name)
        mapping = {k: json.dumps(v, default=str) for k, v in fields.items()}
        mapping["heartbeat"] = json.dumps(self._clock())

        async def op() -> None:
            async with self._r.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping=cast(Any, mapping))
                pipe.expire(key, self.TTL_S)
                pipe.sadd(self.key("index", kind), name)
                await pipe.execute()

        await self._guard(op())

    async def read_all(self, kind: str) -> dict[str, dict[str, Any]]:
        names = await self._guard(self._r.smembers(self.key("index", kind)))
        out: dict[str, dict[str, Any]] = {}
        for raw_name in sorted(names or ()):
            name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
            data = await self._guard(self._r.hgetall(self.key(kind, name)))
            if data:
                out[name] = {_s(k): json.loads(_s(v)) for k, v in data.items()}
        return out

    async def _guard(self, awaitable: Any) -> Any:
        try:
            result = await awaitable
        except (TimeoutError, RedisError, OSError) as exc:
            if self.down_since is None:
                self.down_since = time.time()
                _log.warning("redis_unavailable", error=str(exc) or type(exc).__name__)
            return None
        if self.down_since is not None:
            _log.info("redis_recovered", down_s=round(time.time() - self.down_since, 1))
            self.down_since = None
        return result


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
