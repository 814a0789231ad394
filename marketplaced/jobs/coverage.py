"""Scan coverage: when were products being observed, and which days have a scan gap.

History is change-based, so "nothing changed" and "nobody looked" read the same in it. A small
periodic job therefore records, per sampling period, how many products were seen in it
(`uzum_visits.last_seen` in the period). Each period starts where the previous one ended, capped
so that a period never spans a long outage. Analytics asks `day_coverage` how much of a day was
observed and how long the longest unobserved stretch touching it was: a stretch longer than
`gap_minutes` marks the day, and also the day right after it when the stretch ended shortly
before that day began (its first observations then carry the gap's changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from marketplaced.db import Conn

SCOPE = "uzum.products"
#: a writer batch stamps last_seen before it commits; sampling this far behind "now" means the
#: rows of a batch still committing are not silently skipped by both neighbouring periods
COMMIT_LAG = timedelta(seconds=30)

_LAST_END = "SELECT max(period_end) FROM scan_coverage WHERE scope = $1"
# a sequential scan of the narrow visits table: an index on last_seen would make every visit
# a non-HOT update (sql/012), which costs far more than this query every few minutes
_SEEN = "SELECT count(*) FROM uzum_visits WHERE last_seen > $1 AND last_seen <= $2"
_INSERT = """
INSERT INTO scan_coverage (scope, period_start, period_end, seen) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING"""
_PERIODS = """
SELECT period_start, period_end FROM scan_coverage
WHERE scope = $1 AND seen > 0 AND period_end > $2 AND period_start < $3
ORDER BY period_start"""


@dataclass(frozen=True, slots=True)
class DayCoverage:
    observed_pct: float
    max_gap_min: int
    complete: bool


async def record(conn: Conn | asyncpg.Pool, now: datetime, max_period: timedelta) -> int:
    """Add the period since the last one (at most `max_period` long); returns products seen."""
    end = now - COMMIT_LAG
    last = await conn.fetchval(_LAST_END, SCOPE)
    start = end - max_period if last is None else max(last, end - max_period)
    if start >= end:
        return 0
    seen: int = await conn.fetchval(_SEEN, start, end)
    await conn.execute(_INSERT, SCOPE, start, end, seen)
    return seen


async def day_coverage(
    conn: Conn, day_start: datetime, day_end: datetime, gap: timedelta
) -> DayCoverage:
    # look back a day: a gap that ended just before this day began still shapes its first hours
    lookback = day_start - timedelta(days=1)
    rows = await conn.fetch(_PERIODS, SCOPE, lookback, day_end)
    observed = timedelta()
    worst = timedelta()
    cursor = lookback  # everything before `cursor` is accounted for
    for row in rows:
        start, end = max(row["period_start"], lookback), min(row["period_end"], day_end)
        if start > cursor:
            worst = max(worst, _touching(cursor, start, day_start, day_end, gap))
        overlap = min(end, day_end) - max(start, day_start, cursor)
        if overlap > timedelta():
            observed += overlap
        cursor = max(cursor, end)
    if cursor < day_end:
        worst = max(worst, _touching(cursor, day_end, day_start, day_end, gap))
    length = day_end - day_start
    return DayCoverage(
        observed_pct=round(100 * observed / length, 2),
        max_gap_min=int(worst.total_seconds() // 60),
        complete=worst <= gap,
    )


def _touching(
    a: datetime, b: datetime, day_start: datetime, day_end: datetime, gap: timedelta
) -> timedelta:
    """The length of unobserved stretch (a, b) if it matters for the day, else zero."""
    if a < day_end and b > day_start - gap:
        return b - a
    return timedelta()


async def unobserved(
    conn: Conn, start: datetime, end: datetime, longer_than: timedelta
) -> list[tuple[datetime, datetime]]:
    """The stretches of [start, end) covered by no period that saw products, longer than
    `longer_than` (shorter quiet stretches are cycle pauses, not gaps)."""
    out = []
    cursor = start
    for row in await conn.fetch(_PERIODS, SCOPE, start, end):
        if row["period_start"] - cursor > longer_than:
            out.append((cursor, row["period_start"]))
        cursor = max(cursor, row["period_end"])
    if end - cursor > longer_than:
        out.append((cursor, end))
    return out
