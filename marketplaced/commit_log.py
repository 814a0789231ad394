"""The commit log: one `writer_commits` row per writer batch, numbered in commit order.

History rows carry the instant their batch was stamped, which is not when they became visible:
a batch waiting on a lock commits late, behind readers that had already moved past its stamp.
So every batch ends by taking a transaction-scoped advisory lock and adding its row: the lock
is held until the commit, hence a batch can only draw its number after the one before it has
committed, and a reader that sees number N knows every smaller number is visible too. Readers
(alerts, analytics) keep the last number they handled instead of a time; the new batches are
the numbers above it, whatever their stamps. The lock is held only for the commit itself, so
writers on several hosts queue for a moment at the end of a batch, not for the whole batch
(their commits no longer overlap: about one WAL flush per batch, small next to a batch of
upserts; tests/benchmarks/bench_commit_log.py measures it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

#: key of the advisory lock that orders the commits ('cmit')
_LOCK_KEY = 0x636D6974
# one round trip: the row (and with it its number) exists only once the lock is held
_STAMP = """
INSERT INTO writer_commits (observed_at)
SELECT $1 FROM (SELECT pg_advisory_xact_lock($2)) AS held"""
_TOP = "SELECT coalesce(max(seq), 0) FROM writer_commits"
_AFTER = """
SELECT DISTINCT observed_at FROM writer_commits
WHERE seq > $1 AND seq <= $2 AND observed_at >= $3 ORDER BY observed_at"""
_SINCE = """
SELECT DISTINCT observed_at FROM writer_commits
WHERE seq <= $1 AND observed_at > $2 ORDER BY observed_at"""
# the highest number and the stamps above `$1` up to it, from one snapshot: one round trip
_PENDING = """
WITH t AS (SELECT coalesce(max(seq), 0) AS upto FROM writer_commits)
SELECT t.upto, ARRAY(
    SELECT DISTINCT observed_at FROM writer_commits
    WHERE seq > $1 AND seq <= t.upto AND observed_at >= $2 ORDER BY observed_at) AS stamps
FROM t"""
_DAYS_AFTER = """
SELECT DISTINCT (observed_at AT TIME ZONE $3)::date AS day FROM writer_commits
WHERE seq > $1 AND seq <= $2 ORDER BY day"""
_PRUNE = "DELETE FROM writer_commits WHERE observed_at < $1 AND seq < $2"


async def stamp(conn: Any, observed_at: datetime) -> None:
    """The last step of a batch's transaction: number it in commit order."""
    await conn.execute(_STAMP, observed_at, _LOCK_KEY)


async def top(conn: Any) -> int:
    """The highest committed number (0 before the first batch)."""
    value: int = await conn.fetchval(_TOP)
    return value


async def stamps_after(conn: Any, seq: int, upto: int, not_before: datetime) -> list[datetime]:
    """Stamps of the batches numbered in (seq, upto] stamped at or after `not_before`."""
    return [r["observed_at"] for r in await conn.fetch(_AFTER, seq, upto, not_before)]


async def pending(conn: Any, seq: int, not_before: datetime) -> tuple[int, list[datetime]]:
    """`top` and the `stamps_after(seq, top, not_before)` in one statement."""
    row = await conn.fetchrow(_PENDING, seq, not_before)
    return int(row["upto"]), list(row["stamps"])


async def stamps_since(conn: Any, upto: int, after: datetime) -> list[datetime]:
    """Stamps after `after` of the batches numbered up to `upto` (a reader's first run)."""
    return [r["observed_at"] for r in await conn.fetch(_SINCE, upto, after)]


async def local_days_after(conn: Any, seq: int, upto: int, tz_name: str) -> list[date]:
    """The local dates (zone `tz_name`) stamped on the batches numbered in (seq, upto]."""
    return [r["day"] for r in await conn.fetch(_DAYS_AFTER, seq, upto, tz_name)]


async def prune(conn: Any, before: datetime) -> int:
    """Forget batches stamped before `before`, always keeping the newest row (the numbering
    must never look as if it went back)."""
    status: str = await conn.execute(_PRUNE, before, await top(conn))
    return int(status.rsplit(" ", 1)[-1])
