"""A seller's sales over a period: units and revenue per day, the share of its revenue in each
category, and the side-by-side comparison of a few sellers.

Everything is read from the `sales_*_daily` rollups (sql/014_sales.sql), today's row included;
over a built period (yesterday, the last 7 or 30 days) the category mix sums that period's rows
per product instead (sales/period_market.py), which are the same day rows grouped once.
A day of the period that was never observed (no scan coverage: `SalesWindow.unobserved`) has
unknown figures and comes back as None, never as zero; an observed day without a row sold
nothing. A product's sales count for the seller it was attributed to when its day was computed
(`sales_product_daily.seller_id`, the same rows `sales_seller_daily` sums), so the category mix
adds up to the seller's revenue. Growth follows the lists' rule (sales_window.py): against the
previous period of the same length, only from a base of `MIN_BASE_UNITS` units and only when
every day before was observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from marketplaced.db import Conn
from marketplaced.web.queries import sales
from marketplaced.web.sales_window import MIN_BASE_UNITS, SalesWindow

#: the comparison shows at most this many sellers: more lines than that are unreadable
MAX_COMPARED = 5
#: categories listed one by one in a seller's mix; the rest are summed as "other categories"
MIX_ROWS = 20


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    #: None: the day was never observed (unknown, not zero)
    units: int | None
    revenue: int | None


@dataclass(frozen=True, slots=True)
class CategoryShare:
    #: None for the row summing the categories past `MIX_ROWS` (and products without one)
    category_id: int | None
    title: str
    units: int
    revenue: int
    #: share of the seller's revenue in the period, percent (None when it sold nothing)
    share_pct: float | None


@dataclass(frozen=True, slots=True)
class SellerTotals:
    id: int
    title: str | None
    units: int | None
    revenue: int | None
    prev_units: int | None
    prev_revenue: int | None
    units_growth_pct: float | None
    revenue_growth_pct: float | None
    days: tuple[Day, ...]


_DAILY = """
SELECT seller_id, day, units, revenue FROM sales_seller_daily
WHERE seller_id = ANY($1::bigint[]) AND day >= $2 AND day <= $3"""


async def daily(conn: Conn, ids: Sequence[int], w: SalesWindow) -> dict[int, tuple[Day, ...]]:
    """Each seller's units and revenue per day of the window's period."""
    p = w.period
    rows = await conn.fetch(_DAILY, list(ids), p.first, p.last)
    found = {(r["seller_id"], r["day"]): r for r in rows}
    unknown = set(w.unobserved)
    days = [p.first + timedelta(days=i) for i in range(p.days)]
    out: dict[int, tuple[Day, ...]] = {}
    for sid in ids:
        series = []
        for d in days:
            r = found.get((sid, d))
            if r is not None:
                series.append(Day(d, r["units"], r["revenue"]))
            elif d in unknown:
                series.append(Day(d, None, None))
            else:
                series.append(Day(d, 0, 0))
        out[sid] = tuple(series)
    return out


_MIX = """
SELECT d.category_id, c.title, sum(d.units)::bigint AS units, sum(d.revenue)::bigint AS revenue
FROM sales_product_daily d LEFT JOIN categories c ON c.id = d.category_id
WHERE d.seller_id = $1 AND d.day >= $2 AND d.day <= $3
GROUP BY d.category_id, c.title
HAVING sum(d.units) > 0 OR sum(d.revenue) > 0
ORDER BY revenue DESC, units DESC, d.category_id"""


# the same sums from a built period's rows per (category, seller, product, band)
# (sales/period_market.py): they group the same day rows by the keys the mix groups by, so
# their sums are the mix's — a row per product of the seller instead of one per product-day
_BUILT_MIX = """
SELECT m.category_id, c.title, sum(m.units)::bigint AS units, sum(m.revenue)::bigint AS revenue
FROM sales_period_market m LEFT JOIN categories c ON c.id = m.category_id
WHERE m.seller_id = $1 AND m.days = $2 AND NOT m.previous
GROUP BY m.category_id, c.title
HAVING sum(m.units) > 0 OR sum(m.revenue) > 0
ORDER BY revenue DESC, units DESC, m.category_id"""


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


async def category_mix(conn: Conn, sid: int, w: SalesWindow) -> list[CategoryShare]:
    """The seller's units and revenue per (leaf) category over the period, biggest revenue
    first, with each category's share of the seller's revenue."""
    if w.precomputed:
        rows = await conn.fetch(_BUILT_MIX, sid, w.period.days)
    else:
        rows = await conn.fetch(_MIX, sid, w.period.first, w.period.last)
    total = sum(r["revenue"] for r in rows)
    out = [
        CategoryShare(
            r["category_id"],
            r["title"] or ("no category" if r["category_id"] is None else str(r["category_id"])),
            r["units"],
            r["revenue"],
            share(r["revenue"], total),
        )
        for r in rows[:MIX_ROWS]
    ]
    rest = rows[MIX_ROWS:]
    if rest:
        revenue = sum(r["revenue"] for r in rest)
        units = sum(r["units"] for r in rest)
        out.append(
            CategoryShare(
                None, f"{len(rest)} other categories", units, revenue, share(revenue, total)
            )
        )
    return out


def based_growth(current: int | None, previous: int | None, base: int | None) -> float | None:
    """Growth in percent, only from a base of `MIN_BASE_UNITS` units before."""
    if current is None or base is None or base < MIN_BASE_UNITS:
        return None
    return sales.growth_pct(current, previous)


_TITLES = "SELECT id, title FROM sellers WHERE id = ANY($1::bigint[])"


async def titles(conn: Conn, ids: Sequence[int]) -> dict[int, str | None]:
    """Titles of the sellers in the database among `ids` (an id missing here is unknown)."""
    return {r["id"]: r["title"] for r in await conn.fetch(_TITLES, list(ids))}


# both periods in one pass over each seller's rows; a seller without a row sums to NULL
_TOTALS = """
SELECT s.id,
       sum(d.units) FILTER (WHERE d.day >= $2)::bigint AS units,
       sum(d.revenue) FILTER (WHERE d.day >= $2)::bigint AS revenue,
       sum(d.units) FILTER (WHERE d.day < $2)::bigint AS prev_units,
       sum(d.revenue) FILTER (WHERE d.day < $2)::bigint AS prev_revenue
FROM unnest($1::bigint[]) AS s(id)
LEFT JOIN sales_seller_daily d ON d.seller_id = s.id AND d.day >= $3 AND d.day <= $4
GROUP BY s.id"""


async def comparison(
    conn: Conn, ids: Sequence[int], w: SalesWindow, names: dict[int, str | None]
) -> list[SellerTotals]:
    """Period totals, growth and days of each seller in `ids`, in the order given."""
    rows = await conn.fetch(_TOTALS, list(ids), w.period.first, w.previous.first, w.period.last)
    sums = {r["id"]: r for r in rows}
    days = await daily(conn, ids, w)
    # nothing observed: unknown; observed and no row: nothing sold
    zero = 0 if w.observed_days else None
    out = []
    for sid in ids:
        r = sums[sid]
        units = r["units"] if r["units"] is not None else zero
        revenue = r["revenue"] if r["revenue"] is not None else zero
        prev_units = prev_revenue = None
        if w.previous_known:
            prev_units, prev_revenue = r["prev_units"] or 0, r["prev_revenue"] or 0
        out.append(
            SellerTotals(
                id=sid,
                title=names.get(sid),
                units=units,
                revenue=revenue,
                prev_units=prev_units,
                prev_revenue=prev_revenue,
                units_growth_pct=based_growth(units, prev_units, prev_units),
                revenue_growth_pct=based_growth(revenue, prev_revenue, prev_units),
                days=days[sid],
            )
        )
    return out
