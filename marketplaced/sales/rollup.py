"""The sales rollup: per-day rows of SKUs, products, sellers and categories, kept current.

The minute job (`catch_up`) reads only the batches committed since its watermark in the commit
log (`writer_commits`, commit order: a late-committing batch is never skipped) and takes the
products they touched. Most are counted by addition (increment.py): the intervals the batch
closed, against what each product was last counted against, added to its day rows. The others
— new products, a late batch whose rows land between two earlier ones, a product moved to
another seller or category — have their day rows recomputed from history, from the first day
a new row can reach (its interval's window) to today.
Seller and category rows (every level: a category includes its subcategories) change by the
difference between each product's new and old rows, so no sum over a whole category is redone
per batch. `compute_day` recomputes one day from scratch (the nightly analytics, `jobs run
analytics --day/--since`). One transaction at a time writes the rollup (an advisory lock),
so the two never interleave. Counting rules: intervals.py. SQL: rollup_sql.py.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import asyncpg

from marketplaced import commit_log, log
from marketplaced.db import Conn
from marketplaced.jobs import coverage, triggers
from marketplaced.jobs.config import JobsConfig
from marketplaced.jobs.state import load_state, save_state
from marketplaced.sales import increment, intervals, sums
from marketplaced.sales import rollup_sql as q

_log = log.get(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATE = "sales"
#: products counted between two visits of the event loop (see _recompute): ≈ 0.2 s of counting
RECOUNT_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class SalesSettings:
    tz: tzinfo
    revisit: timedelta
    max_span: timedelta
    gap: timedelta

    @classmethod
    def from_config(cls, cfg: JobsConfig) -> SalesSettings:
        return cls(
            tz=triggers.timezone(cfg.timezone),
            revisit=timedelta(minutes=cfg.sales_revisit_min),
            max_span=timedelta(hours=cfg.sales_max_span_h),
            gap=timedelta(minutes=cfg.gap_minutes),
        )

    @classmethod
    def from_analytics(cls, a: Any) -> SalesSettings:
        """The same settings as the nightly analytics run with (an AnalyticsSettings)."""
        return cls(tz=a.tz, revisit=a.revisit, max_span=a.max_span, gap=a.gap)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tz)


async def catch_up(pool: asyncpg.Pool, settings: SalesSettings, now: datetime) -> int:
    """The minute job: fold the batches committed since the last run into the day rows;
    returns the product rows written. The first run computes today whole."""
    today = now.astimezone(settings.tz).date()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(q.LOCK_FOLD)
        state = await load_state(conn, _STATE)
        if "seq" not in state:
            upto = await commit_log.top(conn)
            rows = await _recompute_day(conn, today, settings, now)
        else:
            upto, stamps = await commit_log.pending(conn, int(state["seq"]), _EPOCH)
            rows = await _fold(conn, stamps, today, settings, now) if stamps else 0
        await save_state(conn, _STATE, {"seq": upto})
    return rows


async def compute_day(
    pool: asyncpg.Pool, day: date, settings: SalesSettings, now: datetime | None = None
) -> int:
    """Recompute `day` from scratch (its rows of every table); returns the product rows."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(q.LOCK)
        return await _recompute_day(conn, day, settings, now)


async def _recompute_day(conn: Conn, day: date, settings: SalesSettings, now: datetime) -> int:
    start, end = _midnight(day, settings.tz), _midnight(day + timedelta(days=1), settings.tz)
    # a row after the day can reach back into it (its window): look max_span past its end
    pids = [
        r["product_id"] for r in await conn.fetch(q.PRODUCTS_IN, start, end + settings.max_span)
    ]
    # The same rows as deleting the day and counting it again, but only what differs is
    # written: the seller and category rows are sums of the product rows, so they move by the
    # differences (every writer of these tables keeps them so), then lose the rows a count
    # from scratch would not have.
    stale = await conn.fetch(q.STALE_PRODUCTS, day, pids)
    await conn.execute(q.STALE_SKUS, day, pids)
    await sums.write(conn, sums.of_rows(stale, []))
    today = now.astimezone(settings.tz).date()
    rows = await _recompute(conn, pids, day, day, settings, keep_carry=day >= today)
    for statement in q.EMPTY_SUMS:
        await conn.execute(statement, day)
    await _mark_days(conn, [day], settings, now)
    return rows


async def _fold(
    conn: Conn, stamps: list[datetime], today: date, settings: SalesSettings, now: datetime
) -> int:
    started = time.monotonic()
    batches, recompute = await increment.split(conn, stamps)
    old: dict[tuple[date, int], asyncpg.Record] = {}
    reach = today  # the first day the added intervals touch (worked out once: it is per row)
    if batches:
        reach = increment.days_reached(batches.values(), settings, today)
        old = await increment.old_rows(conn, batches, reach)
        moved = increment.reattributed(batches, old)
        for pid in moved:
            del batches[pid]
            recompute.append(pid)
        old = {k: v for k, v in old.items() if k[1] in batches}
        if moved and batches:
            reach = increment.days_reached(batches.values(), settings, today)
    groups: dict[date, list[int]] = defaultdict(list)
    if recompute:
        for r in await conn.fetch(q.NEW_PRODUCTS, stamps, recompute):
            t, prev = r["t"], r["prev"]
            since = t if prev is None else max(prev, t - settings.max_span)
            groups[min(since.astimezone(settings.tz).date(), today)].append(r["product_id"])
    rows = 0
    for first, pids in sorted(groups.items()):
        rows += await _recompute(conn, pids, first, today, settings, keep_carry=True)
    reached = list(groups)
    if batches:
        added, differences = await increment.add(conn, batches, old, settings, (reach, today))
        await sums.write(conn, differences)
        rows += added
        reached.append(reach)
    # every day whose rows changed, and the days since (one may have ended since the last run)
    first_day = min([*reached, *(min(s.astimezone(settings.tz).date(), today) for s in stamps)])
    await _mark_days(conn, _days(first_day, today), settings, now)
    _log.info(
        "sales_rollup_folded",
        batches=len(stamps),
        products=sum(len(p) for p in groups.values()) + len(batches),
        added=len(batches),
        rows=rows,
        ms=round((time.monotonic() - started) * 1000),
    )
    return rows


async def _recompute(
    conn: Conn,
    pids: list[int],
    first: date,
    last: date,
    settings: SalesSettings,
    *,
    keep_carry: bool = False,
) -> int:
    """Replace the rows of `pids` for the days first..last, and move the seller and category
    rows by the difference. `keep_carry`: `last` is today, so every row was read — store what
    the next batch of each product is counted against (increment.py).

    The products are counted `RECOUNT_CHUNK` at a time: the counting is Python, and the
    nightly recount of a day at full scale (≈ 100 000 products) counted in one go held the
    daemon's event loop for ≈ 20 s, with the scanner, the writer, the dashboard and the
    watchdog's pings waiting behind it. Each product is counted on its own and every write is
    scoped to the chunk's products (the sums move by differences), so the rows are the same."""
    if not pids:
        return 0
    start = _midnight(first, settings.tz)
    until = _midnight(last + timedelta(days=1), settings.tz) + settings.max_span
    gaps = await coverage.unobserved(conn, start - settings.max_span, until, settings.gap)
    rules = intervals.Rules(settings.tz, settings.revisit, settings.max_span, tuple(gaps))
    rows = 0
    for i in range(0, len(pids), RECOUNT_CHUNK):
        part = pids[i : i + RECOUNT_CHUNK]
        rows += await _recompute_part(conn, part, (first, last, start, until), rules, keep_carry)
    return rows


async def _recompute_part(
    conn: Conn,
    pids: list[int],
    span: tuple[date, date, datetime, datetime],
    rules: intervals.Rules,
    keep_carry: bool,
) -> int:
    """`_recompute` of some of the products: `span` is the days first..last and the instants
    the history is read from and until."""
    first, last, start, until = span
    carried: dict[int, intervals.Carried] = defaultdict(intervals.Carried)
    for r in await conn.fetch(q.STATS_CARRY, pids, start):
        c = carried[r["product_id"]]
        c.orders = r["orders_amount"]
        c.at = max(c.at or r["observed_at"], r["observed_at"])
    for r in await conn.fetch(q.SKU_CARRY, pids, start):
        c = carried[r["product_id"]]
        c.skus[r["sku_id"]] = (r["purchase_price"], r["available_amount"])
        c.at = max(c.at or r["observed_at"], r["observed_at"])
    observed = intervals.group_rows(tuple(r) for r in await conn.fetch(q.ROWS, pids, start, until))
    result = intervals.Result()
    for pid in pids:
        part = intervals.count(pid, carried[pid], observed.get(pid, ()), rules)
        result.products.update(part.products)
        result.skus.update(part.skus)
    keep = {k: v for k, v in result.products.items() if first <= k[0] <= last}
    skus = {k: v for k, v in result.skus.items() if first <= k[0] <= last}
    attribution = {
        r["id"]: (r["seller_id"], r["category_id"]) for r in await conn.fetch(q.ATTRIBUTION, pids)
    }
    new = [
        _product_row(day, pid, attribution.get(pid, (None, None)), v)
        for (day, pid), v in keep.items()
    ]
    sku_rows = [
        (day, sku, pid, v.units, v.revenue, v.units_split, v.restocked)
        for (day, sku), (pid, v) in skus.items()
    ]
    old, written = await _write_changes(conn, q.PRODUCT_TABLE, (pids, first, last), new)
    await _write_changes(conn, q.SKU_TABLE, (pids, first, last), sku_rows)
    await sums.write(conn, sums.of_rows(old, written))
    if keep_carry:
        finals = {pid: intervals.final_state(carried[pid], observed.get(pid, ())) for pid in pids}
        await increment.save_carry(conn, finals)
    return len(new)


async def _write_changes(
    conn: Conn, table: q.DayTable, scope: tuple[list[int], date, date], rows: list[tuple[Any, ...]]
) -> tuple[list[asyncpg.Record], list[tuple[Any, ...]]]:
    """Make the stored rows of `scope` (products, first and last day) equal `rows`, writing
    only those that differ: a recomputation mostly finds what the minute job counted already
    (the nightly one nearly always), and rewriting every row was most of its cost. Returns the
    stored rows replaced or deleted and the rows written (their difference moves the sums)."""
    stored = {(r[0], r[1]): r for r in await conn.fetch(table.select, *scope)}
    replaced: list[asyncpg.Record] = []
    written: list[tuple[Any, ...]] = []
    for row in rows:
        old = stored.pop((row[0], row[1]), None)
        if old is None or tuple(old) != row:
            written.append(row)
            if old is not None:
                replaced.append(old)
    gone = list(stored.values())
    if gone:
        await conn.execute(table.delete, [r[0] for r in gone], [r[1] for r in gone])
    if written:
        await conn.execute(table.upsert, *_columns(written, len(written[0])))
    return [*replaced, *gone], written


def _product_row(
    day: date, pid: int, attribution: tuple[int | None, int | None], v: intervals.ProductDay
) -> tuple[Any, ...]:
    seller, category = attribution
    return (
        day, pid, seller, category, v.units, v.revenue, v.units_orders, v.units_stock,
        v.units_split, v.revenue_split, v.restocked, v.observations, v.first_seen,
    )  # fmt: skip


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


async def _mark_days(conn: Conn, days: list[date], settings: SalesSettings, now: datetime) -> None:
    """How much of each day was observed so far (a finished day: all of it)."""
    for day in days:
        start, end = _midnight(day, settings.tz), _midnight(day + timedelta(days=1), settings.tz)
        final = now >= end
        cov = await coverage.day_coverage(
            conn, start, min(end, now) if not final else end, settings.gap
        )
        await conn.execute(
            q.UPSERT_DAY, day, cov.observed_pct, cov.max_gap_min, cov.complete, final
        )
