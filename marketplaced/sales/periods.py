"""Yesterday and the 7- and 30-day periods summed once (sql/020_sales_periods.sql), for the
lists that rank by a period's revenue, units or growth.

A period's figures are a sum of day rows; a list ordered by that sum has no index to walk, so at
full scale every request summed millions of rows. The periods that every list offers — yesterday,
the last 7 and the last 30 finished days — are summed here instead, with the previous period of the
same length, growth and "new product" already worked out, by the same rules as the live sums
(web/sales_window.py, web/queries/trends.py). They cover finished days only, so they change
when a day ends — built then, by the `periods` job — and when a finished day of theirs is
recounted (a late batch, the nightly recomputation): rebuilt then, at most once per
`REBUILD_EVERY` so that a morning of late rows does not rebuild every minute. Today's figures
are never taken from here. One transaction replaces a period's rows (readers see the old rows
until it commits).

The builds are a job of their own (`periods`), not a step of the minute rollup, and they do not
take the rollup's lock: at full scale a 30-day build sums tens of millions of day rows for
minutes, and under the rollup's lock today's figures stood still that long (and, past the
rollup's budget, the build was cancelled every minute and never finished). A build holds the
rollup's lock only while it takes its REPEATABLE READ snapshot: every fold or recount that
committed before is in it, none is half in it, and one that commits later marks the finished
days it changed (`sales_days.updated_at`, its transaction's start) after the build's
`built_at`, which rebuilds the period later as any late row does — `built_at` is moved back to
the start of any transaction already waiting for the lock, whose changes the snapshot cannot
see. Builders exclude each other with a lock of their own, taken without waiting: a daemon that
finds another one building leaves the period to it.
The same transaction builds the period's market rows (sales/period_market.py) by the configured
price bands, and a change of those bands rebuilds it too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

import asyncpg

from marketplaced import log
from marketplaced.db import Conn
from marketplaced.sales import period_market, rollup_sql

_log = log.get(__name__)

#: the periods the lists offer ("yesterday", "7d", "30d" in web/sales_window.py PERIODS; a
#: day's build costs a thirtieth of the month's, and yesterday is as read as the others)
DAYS = (1, 7, 30)
#: a build whose finished days were recounted since is rebuilt after this long at the latest
REBUILD_EVERY = timedelta(hours=1)
#: growth needs this many units in the previous period (web/sales_window.py MIN_BASE_UNITS)
MIN_BASE_UNITS = 5

#: builders of periods exclude each other (not the rollup): 'peri'
_TRY_LOCK = "SELECT pg_try_advisory_xact_lock(1885696617)"
_ROLLUP_WAIT = f"SELECT pg_advisory_lock({rollup_sql.LOCK_KEY})"
_ROLLUP_RELEASE = f"SELECT pg_advisory_unlock({rollup_sql.LOCK_KEY})"
# the transactions queued behind the rollup's lock (one bigint key: classid 0, objsubid 1)
_WAITING_SINCE = f"""
SELECT min(a.xact_start) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = 0
  AND l.objid = {rollup_sql.LOCK_KEY} AND l.objsubid = 1"""  # noqa: S608 - constant
_BUILT = "SELECT days, last_day, built_at, band_edges FROM sales_period_builds"
_CHANGED = "SELECT max(updated_at) FROM sales_days WHERE day >= $1 AND day <= $2"
_DELETE = "DELETE FROM sales_periods WHERE days = $1"
_SAVE = """
INSERT INTO sales_period_builds (days, last_day, built_at, build_ms, band_edges)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (days) DO UPDATE SET last_day = EXCLUDED.last_day, built_at = EXCLUDED.built_at,
    build_ms = EXCLUDED.build_ms, band_edges = EXCLUDED.band_edges"""

_SUMS = (
    "sum(units)::bigint AS units, sum(revenue)::bigint AS revenue, "
    "sum(units_orders)::bigint AS units_orders, sum(units_stock)::bigint AS units_stock, "
    "sum(units_split)::bigint AS units_split, sum(observations)::bigint AS observations"
)
# $1 days, $2 first day, $3 last day, $4 first day of the previous period, $5 its last day;
# {attr}: the attribution columns of a level ({new}: whether a row is a new product)
_BUILD = """
INSERT INTO sales_periods (level, days, id, seller_id, category_id, current, units, revenue,
    units_orders, units_stock, units_split, observations, prev_units, prev_revenue, growth_pct,
    is_new)
WITH cur AS (
    SELECT {key} AS id, {sums}{attr} FROM {table} WHERE day >= $2 AND day <= $3 GROUP BY 1
), prev AS (
    SELECT {key} AS id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue
    FROM {table} WHERE day >= $4 AND day <= $5 GROUP BY 1
)
SELECT '{level}', $1, coalesce(cur.id, prev.id), {attr_cols}, cur.id IS NOT NULL,
       coalesce(cur.units, 0), coalesce(cur.revenue, 0), coalesce(cur.units_orders, 0),
       coalesce(cur.units_stock, 0), coalesce(cur.units_split, 0), coalesce(cur.observations, 0),
       prev.units, prev.revenue,
       CASE WHEN prev.units >= {base} THEN round((100.0 * (coalesce(cur.units, 0) - prev.units)
           / prev.units)::numeric, 2)::float8 END,
       {new}
FROM cur FULL JOIN prev USING (id)
-- in the lists' order: a walk of the revenue index then reads the table's pages in order,
-- a few hundred rows per page, instead of one page per row
ORDER BY coalesce(cur.revenue, 0) DESC"""
_PRODUCT_ATTR = (
    ", (array_agg(seller_id ORDER BY day DESC))[1] AS seller_id"
    ", (array_agg(category_id ORDER BY day DESC))[1] AS category_id"
    ", bool_or(first_seen) AS first_seen"
)
_PRODUCT_NEW = (
    "coalesce(cur.first_seen, false) AND NOT EXISTS (SELECT 1 FROM sales_product_daily e "
    "WHERE e.product_id = cur.id AND e.day < $2)"
)
_LEVELS = {
    "p": ("sales_product_daily", "product_id", _PRODUCT_ATTR,
          "cur.seller_id, cur.category_id", _PRODUCT_NEW),
    "s": ("sales_seller_daily", "seller_id", "", "NULL::bigint, NULL::integer", "false"),
    "c": ("sales_category_daily", "category_id", "", "NULL::bigint, NULL::integer", "false"),
}  # fmt: skip
BUILDS = {
    level: _BUILD.format(
        table=table, key=key, sums=_SUMS, attr=attr, attr_cols=cols, new=new, level=level,
        base=MIN_BASE_UNITS,
    )
    for level, (table, key, attr, cols, new) in _LEVELS.items()
}  # fmt: skip


def bounds(days: int, last_day: date) -> tuple[date, date, date, date]:
    """The period and the one before it: (first, last, previous first, previous last)."""
    first = last_day - timedelta(days=days - 1)
    return first, last_day, first - timedelta(days=days), first - timedelta(days=1)


async def build(
    conn: Conn,
    days: int,
    last_day: date,
    now: datetime,
    band_edges: Sequence[int] = (),
    timeout_s: float | None = None,
) -> int:
    """Replace the rows of the `days` period ending `last_day` (and its market rows by
    `band_edges`); returns the rows written. Runs in the caller's transaction; `timeout_s`
    bounds each statement (None: the pool's command timeout)."""
    started = time.monotonic()
    await conn.execute(_DELETE, days, timeout=timeout_s)
    rows = 0
    for sql in BUILDS.values():
        status = await conn.execute(sql, days, *bounds(days, last_day), timeout=timeout_s)
        rows += int(status.rsplit(" ", 1)[-1])
    period = bounds(days, last_day)
    rows += await period_market.build(conn, days, period, band_edges, MIN_BASE_UNITS, timeout_s)
    ms = round((time.monotonic() - started) * 1000)
    await conn.execute(_SAVE, days, last_day, now, ms, list(band_edges))
    _log.info("sales_period_built", days=days, last_day=last_day.isoformat(), rows=rows, ms=ms)
    return rows


async def refresh(
    pool: asyncpg.Pool,
    tz: tzinfo,
    now: datetime,
    work_mem_mb: int,
    band_edges: Sequence[int] = (),
    timeout_s: float | None = None,
) -> int:
    """Build each period that ended yesterday and is not built yet, was built by other price
    bands than `band_edges`, or whose days were recounted since it was built (at most once per
    REBUILD_EVERY); returns the rows written (0 for a period another builder holds)."""
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    rows = 0
    for days in DAYS:
        async with pool.acquire() as conn:
            rows += await _refresh_one(
                conn, days, yesterday, now, work_mem_mb, band_edges, timeout_s
            )
    return rows


async def _refresh_one(
    conn: Conn,
    days: int,
    yesterday: date,
    now: datetime,
    work_mem_mb: int,
    band_edges: Sequence[int],
    timeout_s: float | None,
) -> int:
    # a session lock, taken before the transaction: the snapshot is then taken after every
    # fold that held it committed, and released as soon as it is taken
    await conn.execute(_ROLLUP_WAIT, timeout=timeout_s)
    held = True
    try:
        async with conn.transaction(isolation="repeatable_read"):
            if not await conn.fetchval(_TRY_LOCK):  # the snapshot's first statement
                _log.info("sales_period_skipped", days=days, reason="another build runs")
                return 0
            waiting_since = await conn.fetchval(_WAITING_SINCE)
            await conn.execute(_ROLLUP_RELEASE)
            held = False
            if not await _due(conn, days, yesterday, now, band_edges):
                return 0
            built_at = now if waiting_since is None else min(now, waiting_since)
            # sums over millions of rows: in memory, not in temporary files
            await conn.execute("SELECT set_config('work_mem', $1, true)", f"{work_mem_mb}MB")
            return await build(conn, days, yesterday, built_at, band_edges, timeout_s)
    finally:
        if held:
            await conn.execute(_ROLLUP_RELEASE)


async def _due(
    conn: Conn, days: int, yesterday: date, now: datetime, band_edges: Sequence[int]
) -> bool:
    b = await conn.fetchrow(_BUILT + " WHERE days = $1", days)
    if b is None or b["last_day"] != yesterday or b["band_edges"] != list(band_edges):
        return True
    if now - b["built_at"] < REBUILD_EVERY:
        return False
    _, _, prev_first, _ = bounds(days, yesterday)
    changed = await conn.fetchval(_CHANGED, prev_first, yesterday)
    return changed is not None and changed > b["built_at"]
