"""Daily analytics: turn change-based history into per-SKU, product, seller and category days.

One day (a local date in `jobs.timezone`) is computed in one transaction: its rows are deleted
and written again, so a run is idempotent and any past day can be recomputed (`jobs run
analytics --day/--since`). The daily run computes yesterday, every missing day of the backfill
window (a day nothing was observed on gets its row, marked as a gap) and every computed day
that batches committed since the last run wrote rows into (the commit log), so late rows count.
The flow: coverage of the day (was anything observed, how long was the worst gap) → the day's
history rows → the products they touch → the values in effect at 00:00 → per SKU (units from
stock decreases, restocks apart, revenue at the price in effect) → per product (orders from the
order-counter growth, each growth priced at the price in effect between the two observations
around it) → sellers → categories (every
level, price bands). Figures say how they were obtained (`sales_source`, `price_basis`) and how
complete the observations were (`quality`); a day with a scan gap is marked, not filled in.
UZEX monthly rollups run in the same job when the UZEX tables exist. SQL: analytics_sql.py.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import asyncpg

from marketplaced import commit_log, log, partitions, price_bands
from marketplaced.db import Conn
from marketplaced.jobs import analytics_sql as q
from marketplaced.jobs import coverage, triggers
from marketplaced.jobs.config import JobsConfig
from marketplaced.jobs.state import load_state, save_state
from marketplaced.sales import rollup

_log = log.get(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: days of the commit log kept beyond the backfill window, so a late run still finds its batches
_LOG_MARGIN_DAYS = 2


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    tz: tzinfo
    gap: timedelta
    work_mem_mb: int
    bands: tuple[int, ...]
    backfill_days: int
    top_parties: int
    revisit: timedelta = timedelta(hours=8)
    max_span: timedelta = timedelta(hours=48)

    @classmethod
    def from_config(cls, cfg: JobsConfig) -> AnalyticsSettings:
        return cls(
            tz=triggers.timezone(cfg.timezone),
            gap=timedelta(minutes=cfg.gap_minutes),
            work_mem_mb=cfg.analytics_work_mem_mb,
            bands=price_bands.edges(cfg.price_bands),
            backfill_days=cfg.analytics_backfill_days,
            top_parties=cfg.uzex_top_parties,
            revisit=timedelta(minutes=cfg.sales_revisit_min),
            max_span=timedelta(hours=cfg.sales_max_span_h),
        )


@dataclass(frozen=True, slots=True)
class DayResult:
    day: date
    complete: bool
    observed_pct: float
    max_gap_min: int
    products: int
    skus: int
    sellers: int
    categories: int
    ms: int
    #: milliseconds and rows per step, for the log and the benchmark
    steps_ms: dict[str, int] = field(default_factory=dict)
    steps_rows: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.products + self.skus + self.sellers + self.categories


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Local midnight to local midnight (23 or 25 hours long where clocks change)."""
    start = datetime.combine(day, datetime.min.time(), tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)


async def run(pool: asyncpg.Pool, settings: AnalyticsSettings, now: datetime | None = None) -> int:
    """The scheduled job: yesterday, earlier days missing or touched by late batches, then the
    UZEX rollups."""
    now = now or datetime.now(settings.tz)
    yesterday = now.astimezone(settings.tz).date() - timedelta(days=1)
    state = await load_state(pool, "analytics")
    upto = await commit_log.top(pool)
    rows = 0
    for day in await days_to_compute(pool, yesterday, settings, state.get("seq"), upto):
        rows += (await compute_day(pool, day, settings)).rows
    await save_state(pool, "analytics", {"seq": upto})
    # the log is read back over the backfill window at most (alerts: one day)
    await commit_log.prune(pool, now - timedelta(days=settings.backfill_days + _LOG_MARGIN_DAYS))
    return rows + await uzex_rollup(pool, settings, now)


async def days_to_compute(
    pool: asyncpg.Pool,
    yesterday: date,
    settings: AnalyticsSettings,
    seq: int | None = None,
    upto: int = 0,
) -> list[date]:
    """Yesterday (always), and within the backfill window: days not computed yet — every one
    since the first computed day (a day nothing was observed on gets its row, marked as a
    gap), earlier ones only when they have history — and computed days that batches committed
    since the last run (`seq`, commit order) wrote rows into: late rows are not left out."""
    first = yesterday - timedelta(days=settings.backfill_days)
    done = {r["day"] for r in await pool.fetch(q.COMPUTED_DAYS, first, yesterday)}
    first_ever = await pool.fetchval(q.FIRST_COMPUTED_DAY)
    touched: set[date] = set()
    if seq is not None:
        tz_name = str(getattr(settings.tz, "key", "UTC"))
        touched = set(await commit_log.local_days_after(pool, int(seq), upto, tz_name))
    # before the first day with data there is nothing to mark: the daemon was not there yet
    started = first_ever is not None
    days = []
    for i in range(settings.backfill_days, 0, -1):
        day = yesterday - timedelta(days=i)
        if day in done:
            if day in touched:
                days.append(day)
        elif started or await pool.fetchval(q.HAS_HISTORY, *day_bounds(day, settings.tz)):
            started = True
            days.append(day)
    return [*days, yesterday]


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included (`jobs run analytics --since`)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


async def compute_day(pool: asyncpg.Pool, day: date, settings: AnalyticsSettings) -> DayResult:
    """(Re)compute one day: the analytics in one transaction and, beside it on a second
    connection, the recount of the day's sales rows (late rows included)."""
    started = time.monotonic()
    for table in q.ANALYTICS_TABLES:
        # before the day's long transaction, which would otherwise hold the parent's exclusive
        # lock (and block the dashboard's reads of it) until it commits
        await partitions.ensure_for(pool, table, day)
    # The two read the same history and write different tables, each in its own transaction
    # (the recount under the rollup's lock, which the analytics never takes), so neither waits
    # for the other: side by side the day takes the longer of the two, not their sum.
    async with asyncio.TaskGroup() as group:
        sales = group.create_task(_sales_day(pool, day, settings))
        cov, counts, ms, steps = await _analytics_day(pool, day, settings, started)
    steps.rows["sales_rollup"], steps.ms["sales_rollup"] = sales.result()
    products, skus, sellers, categories = counts
    result = DayResult(
        day, cov.complete, cov.observed_pct, cov.max_gap_min, *counts, ms, steps.ms, steps.rows
    )
    _log.info(
        "analytics_day_computed",
        day=day.isoformat(),
        complete=cov.complete,
        max_gap_min=cov.max_gap_min,
        products=products,
        skus=skus,
        sellers=sellers,
        categories=categories,
        ms=ms,
        steps_ms=steps.ms,
    )
    return result


async def _analytics_day(
    pool: asyncpg.Pool, day: date, settings: AnalyticsSettings, started: float
) -> tuple[coverage.DayCoverage, tuple[int, int, int, int], int, _Steps]:
    start, end = day_bounds(day, settings.tz)
    async with pool.acquire() as conn, conn.transaction():
        steps = _Steps(conn)
        # sorts and hashes over a million rows: in memory, not in temp files
        await steps.run("work_mem", _WORK_MEM, f"{settings.work_mem_mb}MB")
        cov = await coverage.day_coverage(conn, start, end, settings.gap)
        quality = "complete" if cov.complete else "gap"
        for statement in q.DELETE_DAY:
            await steps.run("delete", statement, day)
        await steps.run("sku_rows", q.SKU_ROWS, start, end)
        await steps.run("stats_rows", q.STATS_ROWS, start, end)
        await steps.run("active", q.ACTIVE)
        # temp tables have no statistics until analysed; the carry-in joins need good estimates
        await steps.run("analyze", "ANALYZE t_active")
        await steps.run("sku_carry", q.SKU_CARRY, start, end)
        await steps.run("stats_carry", q.STATS_CARRY, start)
        await steps.run("sku_day", q.SKU_DAY)
        await steps.run("stats_day", q.STATS_DAY)
        skus = await steps.run("sku_daily", q.INSERT_SKU_DAILY, day)
        await steps.run("interval_revenue", q.INTERVAL_REVENUE)
        products = await steps.run("product_daily", q.INSERT_PRODUCT_DAILY, day, cov.complete)
        await steps.run("listed", q.LISTED, start, end)
        sellers = await steps.run("seller_daily", q.INSERT_SELLER_DAILY, day, quality)
        await steps.run("closure", q.CLOSURE)
        bands = list(settings.bands)
        categories = await steps.run("category_daily", q.INSERT_CATEGORY_DAILY, day, quality, bands)
        ms = round((time.monotonic() - started) * 1000)
        counts = (products, skus, sellers, categories)
        coverage_row = (cov.observed_pct, cov.max_gap_min, cov.complete)
        await conn.execute(q.UPSERT_DAY, day, start, end, *coverage_row, *counts, ms)
    return cov, counts, ms, steps


async def _sales_day(pool: asyncpg.Pool, day: date, settings: AnalyticsSettings) -> tuple[int, int]:
    """The recount of the day's sales rows: (product rows, milliseconds)."""
    started = time.monotonic()
    rows = await rollup.compute_day(pool, day, rollup.SalesSettings.from_analytics(settings))
    return rows, round((time.monotonic() - started) * 1000)


_WORK_MEM = "SELECT set_config('work_mem', $1, true)"


class _Steps:
    """Runs the day's statements in order and keeps each one's time and row count."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        self.ms: dict[str, int] = {}
        self.rows: dict[str, int] = {}

    async def run(self, name: str, sql: str, *args: Any) -> int:
        started = time.monotonic()
        rows = _count(await self._conn.execute(sql, *args))
        self.ms[name] = self.ms.get(name, 0) + round((time.monotonic() - started) * 1000)
        self.rows[name] = self.rows.get(name, 0) + rows
        return rows


def _count(status: str) -> int:
    """Rows of a command status ('INSERT 0 n', 'SELECT n', 'DELETE n'); 0 when it has none."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


# -- UZEX --------------------------------------------------------------------------------------
_UZEX_MONTHS = """
SELECT DISTINCT date_trunc('month', deal_date AT TIME ZONE $1)::date AS month FROM uzex_lots
WHERE status = 'completed' AND deal_date IS NOT NULL AND last_seen >= $2"""
_UZEX_DELETE = (
    "DELETE FROM uzex_category_monthly WHERE month = $1",
    "DELETE FROM uzex_item_monthly WHERE month = $1",
    "DELETE FROM uzex_party_monthly WHERE month = $1",
)
_UZEX_CATEGORIES = """
INSERT INTO uzex_category_monthly (month, category, deals, total_cost)
SELECT $1, coalesce(category_name, ''), count(*), coalesce(sum(deal_cost), 0) FROM uzex_lots
WHERE status = 'completed' AND deal_date >= $2 AND deal_date < $3
GROUP BY 2"""
_UZEX_ITEMS = """
INSERT INTO uzex_item_monthly (month, category, item_name, deals, quantity, total_cost,
    median_unit_price)
SELECT $1, coalesce(l.category_name, ''), lower(btrim(i.name)),
       count(DISTINCT l.lot_type || ':' || l.lot_id), sum(i.quantity), sum(i.cost),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY i.unit_price)::numeric
FROM uzex_lots l JOIN uzex_lot_items i ON i.lot_type = l.lot_type AND i.lot_id = l.lot_id
WHERE l.status = 'completed' AND l.deal_date >= $2 AND l.deal_date < $3
  AND btrim(coalesce(i.name, '')) <> ''
GROUP BY 2, 3"""
_UZEX_PARTIES = """
INSERT INTO uzex_party_monthly (month, kind, inn, name, deals, total_cost, rank)
SELECT $1, kind, inn, name, deals, total_cost, rank FROM (
    SELECT kind, inn, max(name) AS name, count(*) AS deals,
           coalesce(sum(deal_cost), 0) AS total_cost,
           row_number() OVER (PARTITION BY kind
                              ORDER BY coalesce(sum(deal_cost), 0) DESC, count(*) DESC, inn)
               AS rank
    FROM (
        SELECT 'customer' AS kind, customer_inn AS inn, customer_name AS name, deal_cost
        FROM uzex_lots WHERE status = 'completed' AND deal_date >= $2 AND deal_date < $3
            AND customer_inn IS NOT NULL
        UNION ALL
        SELECT 'provider', provider_inn, provider_name, deal_cost
        FROM uzex_lots WHERE status = 'completed' AND deal_date >= $2 AND deal_date < $3
            AND provider_inn IS NOT NULL
    ) parties GROUP BY kind, inn
) ranked WHERE rank <= $4"""


async def uzex_rollup(pool: asyncpg.Pool, settings: AnalyticsSettings, now: datetime) -> int:
    """Recompute the months with new or changed deals (and always this and last month)."""
    state = await load_state(pool, "uzex_rollup")
    # the first run rolls up every month there is
    since = datetime.fromisoformat(state["since"]) if "since" in state else _EPOCH
    tz_name = str(getattr(settings.tz, "key", "UTC"))
    this_month = now.astimezone(settings.tz).date().replace(day=1)
    months = {this_month, (this_month - timedelta(days=1)).replace(day=1)}
    months |= {r["month"] for r in await pool.fetch(_UZEX_MONTHS, tz_name, since)}
    rows = 0
    for month in sorted(months):
        start = datetime.combine(month, datetime.min.time(), settings.tz)
        following = (month + timedelta(days=32)).replace(day=1)
        end = datetime.combine(following, datetime.min.time(), settings.tz)
        async with pool.acquire() as conn, conn.transaction():
            for statement in _UZEX_DELETE:
                await conn.execute(statement, month)
            for statement in (_UZEX_CATEGORIES, _UZEX_ITEMS):
                rows += _count(await conn.execute(statement, month, start, end))
            rows += _count(
                await conn.execute(_UZEX_PARTIES, month, start, end, settings.top_parties)
            )
    await save_state(pool, "uzex_rollup", {"since": now.isoformat()})
    _log.info("uzex_rollup_done", months=len(months), rows=rows)
    return rows
