"""What the adaptive schedule is doing, per class (`schedule.class_sql`): ids, visits in the
last hour, the revisit interval achieved, the backlog (due now, oldest overdue), and the new
products found in the last hour. Read by the status page, `marketplaced status` and /metrics.

One aggregate over `uzum_schedule` (a sequential scan: the table is narrow, ~60 bytes a row,
and every figure needs every row; on 1 M rows 1.5–2.5 s on a busy 2-core machine, about 15× a
plain count(*), half of it the median's sort — tests/benchmarks/bench_schedule_figures.py),
plus the products first seen in the last hour. Seconds as date_part (double precision), not
extract (numeric since PostgreSQL 14), which made the same read about 40 % slower. The
achieved interval of a row is greatest(next_due, now) - checked_at: the interval the policy
planned, or longer while the row waits overdue, so a backlog shows as longer intervals instead
of hiding behind the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from marketplaced.db import Conn
from marketplaced.platforms.uzum import schedule

_FIGURES = f"""
WITH rows AS (
    SELECT {schedule.class_sql("(SELECT coalesce(max(product_id), 0) FROM uzum_visits)")}
        AS class, next_due, checked_at
    FROM uzum_schedule),
agg AS (
    SELECT class, count(*) AS ids,
        count(*) FILTER (WHERE checked_at > $1::timestamptz - interval '1 hour') AS visits_1h,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY date_part('epoch', greatest(next_due, $1::timestamptz) - checked_at))
            FILTER (WHERE checked_at IS NOT NULL) AS interval_s,
        count(*) FILTER (WHERE next_due <= $1::timestamptz) AS due,
        date_part('epoch', $1::timestamptz - min(next_due) FILTER (WHERE next_due <= $1))
            AS overdue_s
    FROM rows GROUP BY class)
SELECT c.class, coalesce(a.ids, 0) AS ids, coalesce(a.visits_1h, 0) AS visits_1h,
    a.interval_s, coalesce(a.due, 0) AS due, coalesce(a.overdue_s, 0) AS overdue_s,
    (SELECT count(*) FROM products WHERE first_seen > $1 - interval '1 hour') AS new_1h
FROM unnest($2::text[]) WITH ORDINALITY AS c(class, ord)
LEFT JOIN agg a USING (class)
ORDER BY c.ord"""  # noqa: S608 - constants


@dataclass(frozen=True, slots=True)
class ClassFigures:
    name: str
    ids: int
    visits_last_hour: int
    interval_s: float | None  # median achieved revisit interval; None: no row visited yet
    due: int
    oldest_overdue_s: float  # 0: nothing overdue


@dataclass(frozen=True, slots=True)
class ScheduleFigures:
    classes: tuple[ClassFigures, ...]
    new_products_last_hour: int

    @property
    def due(self) -> int:
        return sum(c.due for c in self.classes)

    @property
    def oldest_overdue_s(self) -> float:
        return max((c.oldest_overdue_s for c in self.classes), default=0.0)


async def read(conn: asyncpg.Connection | asyncpg.Pool, now: datetime) -> ScheduleFigures:
    rows = await conn.fetch(_FIGURES, now, list(schedule.CLASSES))
    classes = tuple(
        ClassFigures(
            r["class"],
            int(r["ids"]),
            int(r["visits_1h"]),
            None if r["interval_s"] is None else float(r["interval_s"]),
            int(r["due"]),
            float(r["overdue_s"]),
        )
        for r in rows
    )
    return ScheduleFigures(classes, int(rows[0]["new_1h"]) if rows else 0)


def duration(seconds: float | None) -> str:
    """A short human duration (`2.5 h`), `—` when unknown."""
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def backlog_line(f: ScheduleFigures) -> str:
    return f"due now: {f.due}, oldest overdue: {duration(f.oldest_overdue_s)}"


async def next_check(
    conn: Conn | asyncpg.Pool, product_id: int
) -> tuple[datetime | None, datetime] | None:
    """(checked_at, next_due) of one id, None when it has no schedule row (round-robin)."""
    row = await conn.fetchrow(
        "SELECT checked_at, next_due FROM uzum_schedule WHERE product_id = $1", product_id
    )
    return None if row is None else (row["checked_at"], row["next_due"])


def next_check_text(next_due: datetime, now: datetime) -> str:
    """`next check in 12 min`, or `due now` once its time has come (the scanner is behind)."""
    seconds = (next_due - now).total_seconds()
    if seconds <= 0:
        return "next check due now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"next check in {seconds / size:.0f} {unit}"
    return f"next check in {seconds:.0f} s"
