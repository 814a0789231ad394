"""The minute job's fast path: count only the intervals a batch added, and add them.

A batch's rows of a product close exactly one interval each, from the observation before them,
so their units and revenue follow from those rows and the values in effect before them — which
the rollup keeps per product in `sales_carry` (sql/018_sales_carry.sql) as it folds. Counting
them with the rules of intervals.py and adding the result to the day rows gives the same rows
as recomputing the product's days from history (the nightly recomputation checks it in the
tests), at the cost of the batch's own rows: one carry row read per product instead of its
whole day of history and a probe of every history partition per SKU.

The recomputation (rollup.py) stays for what an addition cannot get right, decided per product
by `split`: no carry row yet (a new product, or one not folded since the table exists), rows
not newer than the carry (a late batch: the intervals after it change), or a day row attributed
to another seller or category than the product has now (the recomputation re-attributes its
days). Coverage known only later (a scan gap recorded after the batch was counted) is taken
into account by the nightly recomputation of the finished day, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Protocol

import asyncpg
import orjson

from marketplaced.db import Conn
from marketplaced.jobs import coverage
from marketplaced.sales import intervals, sums
from marketplaced.sales import rollup_sql as q

#: a product row's tuple (rollup._product_row): day, product, seller, category, then these
_FIELDS = (
    "units", "revenue", "units_orders", "units_stock", "units_split", "revenue_split",
    "restocked", "observations",
)  # fmt: skip


class Settings(Protocol):
    """rollup.SalesSettings (which imports this module)."""

    @property
    def tz(self) -> tzinfo: ...
    @property
    def revisit(self) -> timedelta: ...
    @property
    def max_span(self) -> timedelta: ...
    @property
    def gap(self) -> timedelta: ...


@dataclass(slots=True)
class Batch:
    """What the batches of one fold hold for one product, and what it was counted against."""

    product_id: int
    observations: list[intervals.Observation]
    carried: intervals.Carried
    attribution: tuple[int | None, int | None]

    @property
    def first_at(self) -> datetime:
        return self.observations[0].at


def midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tz)


async def split(conn: Conn, stamps: list[datetime]) -> tuple[dict[int, Batch], list[int]]:
    """The products of the batches stamped `stamps`: those an addition can count (with their
    rows and carry) and those to recompute."""
    batches: dict[int, Batch] = {}
    recompute = []
    rows = await conn.fetch(q.BATCH, stamps)
    for i, (pid, at, orders, ids, prices, stocks, *carry) in enumerate(rows):
        obs = intervals.Observation(at, orders, _skus(ids, prices, stocks))
        if i and rows[i - 1][0] == pid:  # a later observation of the same product
            if pid in batches:
                batches[pid].observations.append(obs)
            continue
        carried_at, carried_orders, carried_ids, carried_prices, carried_stocks = carry[:5]
        if carried_at is None or at <= carried_at:  # rows in time order: `at` is the first
            recompute.append(pid)
            continue
        skus = _skus(carried_ids, carried_prices, carried_stocks)
        carried = intervals.Carried(carried_at, carried_orders, skus)
        batches[pid] = Batch(pid, [obs], carried, (carry[5], carry[6]))
    return batches, recompute


def _skus(
    ids: list[int] | None, prices: list[int] | None, stocks: list[int] | None
) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    assert prices is not None and stocks is not None
    return dict(zip(ids, zip(prices, stocks, strict=True), strict=True))


async def old_rows(
    conn: Conn, batches: dict[int, Batch], first: date
) -> dict[tuple[date, int], asyncpg.Record]:
    """The day rows of these products from `first` on (an addition's starting point)."""
    rows = await conn.fetch(q.PRODUCT_ROWS_FROM, list(batches), first)
    return {(r["day"], r["product_id"]): r for r in rows}


def reattributed(
    batches: dict[int, Batch], old: dict[tuple[date, int], asyncpg.Record]
) -> set[int]:
    """Products whose stored day rows name another seller or category than they have now."""
    return {
        pid
        for (_, pid), r in old.items()
        if (r["seller_id"], r["category_id"]) != batches[pid].attribution
    }


def count(batches: Iterable[Batch], rules: intervals.Rules) -> intervals.Result:
    result = intervals.Result()
    for b in batches:
        part = intervals.count(b.product_id, b.carried, b.observations, rules)
        result.products.update(part.products)
        result.skus.update(part.skus)
    return result


async def add(
    conn: Conn,
    batches: dict[int, Batch],
    old: dict[tuple[date, int], asyncpg.Record],
    settings: Settings,
    days: tuple[date, date],
) -> tuple[int, sums.Differences]:
    """Count the batches and write old + counted into the product and SKU rows; returns the
    product rows written and what the seller and category rows move by: what was counted
    (the old rows have the product's attribution, `reattributed` saw to it). `days`: the
    first day reached (`days_reached`) and today."""
    first, today = days
    # the scan gaps a recomputation from the first day reached would see
    begin = midnight(first, settings.tz) - settings.max_span
    end = midnight(today + timedelta(days=1), settings.tz) + settings.max_span
    gaps = await coverage.unobserved(conn, begin, end, settings.gap)
    rules = intervals.Rules(settings.tz, settings.revisit, settings.max_span, tuple(gaps))
    counted = count(batches.values(), rules)
    rows = []
    differences = sums.Differences()
    for (day, pid), v in counted.products.items():
        seller, category = batches[pid].attribution
        values = (v.units, v.revenue, v.units_orders, v.units_stock, v.units_split,
                  v.revenue_split, v.restocked, v.observations)  # fmt: skip
        prev = old.get((day, pid))
        had_sales, first_seen = False, v.first_seen
        if prev is not None:
            had_sales, first_seen = prev["units"] > 0, v.first_seen or prev["first_seen"]
            values = tuple(a + prev[f] for a, f in zip(values, _FIELDS, strict=True))
        rows.append((day, pid, seller, category, *values, first_seen))
        # new minus old is what was counted (restocked is not summed), and the product has
        # sales that day now or not, as it had before or not
        differences.add(day, seller, category, (
            v.units, v.revenue, v.units_orders, v.units_stock, v.units_split, v.revenue_split,
            v.observations, int(values[0] > 0) - int(had_sales),
        ))  # fmt: skip
    skus = [
        (day, sku, pid, v.units, v.revenue, v.units_split, v.restocked)
        for (day, sku), (pid, v) in counted.skus.items()
    ]
    finals = {pid: intervals.final_state(b.carried, b.observations) for pid, b in batches.items()}
    # the product rows, the SKU rows and the carry in one round trip
    await conn.execute(
        q.FOLD_WRITES, *_columns(rows, 13), *_columns(skus, 7), _carry_document(finals)
    )
    return len(rows), differences


async def save_carry(conn: Conn, finals: dict[int, intervals.Carried]) -> None:
    if any(c.at is not None for c in finals.values()):
        await conn.execute(q.UPSERT_CARRY, _carry_document(finals))


def _carry_document(finals: dict[int, intervals.Carried]) -> str:
    # one JSON document for the whole batch: an array per product of varying length does not
    # fit a parameter of arrays, and encoding one document is cheaper than 3 × 500 literals
    rows = [
        {"id": pid, "at": c.at, "orders": c.orders, "skus": list(c.skus),
         "prices": [p for p, _ in c.skus.values()], "stocks": [s for _, s in c.skus.values()]}
        for pid, c in finals.items() if c.at is not None
    ]  # fmt: skip
    return orjson.dumps(rows).decode()


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


def days_reached(batches: Iterable[Batch], settings: Settings, today: date) -> date:
    """The first day this fold's intervals can touch: an interval's window starts no earlier
    than its previous observation and no earlier than `max_span` before its end."""
    reach = (max(b.carried.at or b.first_at, b.first_at - settings.max_span) for b in batches)
    return min(min(t.astimezone(settings.tz).date() for t in reach), today)
