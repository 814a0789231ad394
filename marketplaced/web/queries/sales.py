"""Sales over a period: units and revenue per product, seller or category, with growth, method
and confidence — for the dashboard's sales pages and the API.

A period is a sum of days of the `sales_*_daily` rollups (sql/014_sales.sql), today's row
included (kept current every minute). Every figure says how it was counted (`units_orders`:
order-counter growth, `units_stock`: stock decreases where the counter went back,
`units_split`: the part spread over several days) and how well the period was observed
(`Coverage`: observed days, the days never observed — unknown, not zero —, the longest scan
gap). Growth compares with the previous period of the same length and is None when that
period had no sales or a day of it was never observed (a growth from unknown is no growth).
A category's figures include its subcategories (its rows are kept per level).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

import asyncpg

from marketplaced.db import Conn

Level = Literal["product", "seller", "category"]

_SOURCE: dict[str, tuple[str, str]] = {
    "product": ("sales_product_daily", "product_id"),
    "seller": ("sales_seller_daily", "seller_id"),
    "category": ("sales_category_daily", "category_id"),
}
_ORDER = {"revenue": "revenue", "units": "units"}


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length right before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def today(now: datetime, tz: tzinfo) -> Period:
    """Today so far (the local date of `now` in `tz`, the analytics zone)."""
    d = now.astimezone(tz).date()
    return Period(d, d)


def yesterday(now: datetime, tz: tzinfo) -> Period:
    d = now.astimezone(tz).date() - timedelta(days=1)
    return Period(d, d)


def last_days(n: int, now: datetime, tz: tzinfo) -> Period:
    """The `n` finished days before today (7 → the last week, 30 → the last month)."""
    if n < 1:
        raise ValueError(f"a period has at least one day, not {n}")
    end = now.astimezone(tz).date() - timedelta(days=1)
    return Period(end - timedelta(days=n - 1), end)


def date_range(first: date, last: date) -> Period:
    """Any range of days, both included."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it begins ({first})")
    return Period(first, last)


@dataclass(frozen=True, slots=True)
class Coverage:
    days: int
    observed_days: int
    #: days nothing was observed on: their figures are unknown, never zero
    unobserved: tuple[date, ...]
    #: longest scan gap touching a day of the period, in minutes
    longest_gap_min: int
    #: the period includes today (its figures still grow)
    live: bool


@dataclass(frozen=True, slots=True)
class Figure:
    id: int
    units: int
    revenue: int
    units_orders: int
    units_stock: int
    units_split: int
    revenue_split: int
    #: observed changes (history rows) in the period
    observations: int
    prev_units: int | None
    prev_revenue: int | None
    units_growth_pct: float | None
    revenue_growth_pct: float | None

    @property
    def method(self) -> str:
        """'orders', 'stock', 'split', 'mixed' or 'none': how the units were counted."""
        kinds = [k for k, v in (("orders", self.units_orders), ("stock", self.units_stock)) if v]
        if self.units_split and self.units_split == self.units:
            return "split"
        return (
            kinds[0] if len(kinds) == 1 and not self.units_split else ("mixed" if kinds else "none")
        )


_DAYS = """
SELECT day, observed_pct, max_gap_min, final FROM sales_days WHERE day >= $1 AND day <= $2"""


async def coverage(conn: Conn, period: Period) -> Coverage:
    """How well the period's days were observed."""
    return coverage_of(await conn.fetch(_DAYS, period.first, period.last), period)


def coverage_of(found: Sequence[asyncpg.Record], period: Period) -> Coverage:
    """`coverage` from `sales_days` rows read for a span holding the period (rows of other
    days are left out)."""
    rows = {
        r["day"]: r
        for r in found
        if r["day"] is not None and period.first <= r["day"] <= period.last
    }
    days = [period.first + timedelta(days=i) for i in range(period.days)]
    unobserved = tuple(d for d in days if d not in rows or rows[d]["observed_pct"] <= 0)
    return Coverage(
        days=period.days,
        observed_days=period.days - len(unobserved),
        unobserved=unobserved,
        longest_gap_min=max((r["max_gap_min"] for r in rows.values()), default=0),
        live=any(not r["final"] for r in rows.values()),
    )


def _sql(level: Level, order: str) -> str:
    table, key = _SOURCE[level]
    where = f" AND ($5::bigint[] IS NULL OR {key} = ANY($5::bigint[]))"
    return f"""
WITH cur AS (
    SELECT {key} AS id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue,
           sum(units_orders)::bigint AS units_orders, sum(units_stock)::bigint AS units_stock,
           sum(units_split)::bigint AS units_split, sum(revenue_split)::bigint AS revenue_split,
           sum(observations)::bigint AS observations
    FROM {table} WHERE day >= $1 AND day <= $2{where} GROUP BY 1
), prev AS (
    SELECT {key} AS id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue
    FROM {table} WHERE day >= $3 AND day <= $4{where} GROUP BY 1
)
SELECT cur.*, prev.units AS prev_units, prev.revenue AS prev_revenue
FROM cur LEFT JOIN prev USING (id)
ORDER BY cur.{order} DESC, cur.id
LIMIT $6"""  # noqa: S608 - table, key and order come from the constant maps above


async def figures(
    conn: Conn,
    level: Level,
    period: Period,
    *,
    ids: Sequence[int] | None = None,
    order: str = "revenue",
    limit: int = 100,
) -> list[Figure]:
    """Units and revenue of products, sellers or categories (`ids`: only these) over `period`,
    best first by `order` ('revenue' or 'units'), with growth against the previous period."""
    if level not in _SOURCE:
        raise ValueError(f"unknown level {level!r} (product, seller or category)")
    if order not in _ORDER:
        raise ValueError(f"unknown order {order!r} (revenue or units)")
    prev = period.previous()
    prev_known = not (await coverage(conn, prev)).unobserved
    wanted = None if ids is None else list(ids)
    sql = _sql(level, _ORDER[order])
    rows = await conn.fetch(sql, period.first, period.last, prev.first, prev.last, wanted, limit)
    out = []
    for r in rows:
        pu = r["prev_units"] if prev_known else None
        pr = r["prev_revenue"] if prev_known else None
        if prev_known and pu is None:
            pu = pr = 0  # observed, and nothing sold
        out.append(
            Figure(
                id=r["id"],
                units=r["units"],
                revenue=r["revenue"],
                units_orders=r["units_orders"],
                units_stock=r["units_stock"],
                units_split=r["units_split"],
                revenue_split=r["revenue_split"],
                observations=r["observations"],
                prev_units=pu,
                prev_revenue=pr,
                units_growth_pct=growth_pct(r["units"], pu),
                revenue_growth_pct=growth_pct(r["revenue"], pr),
            )
        )
    return out


def growth_pct(current: int, previous: int | None) -> float | None:
    """Growth in percent; None when the previous figure is unknown or zero."""
    if not previous:
        return None
    return round(100 * (current - previous) / previous, 2)
