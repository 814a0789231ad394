"""Trends over a period against the previous one of the same length: the fastest-growing
products, sellers and categories, the products losing sales, and new products that already sell.

Growth is units growth from the `sales_*_daily` rollups (sql/014_sales.sql). It is ranked only
from a base of `sales_window.MIN_BASE_UNITS` units in the previous period — 1 → 3 units would
be "+200 %" and top every list — and only when every day of the previous period was observed
(growth from an unknown base is no growth). A new product is one whose first observation
(`first_seen`) falls in the period and that sold at least one unit in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from marketplaced.web.listing import Reader
from marketplaced.web.sales_window import MIN_BASE_UNITS, SalesWindow

Level = Literal["product", "seller", "category"]
_SOURCE: dict[str, tuple[str, str, str]] = {
    "product": ("sales_product_daily", "product_id", "products"),
    "seller": ("sales_seller_daily", "seller_id", "sellers"),
    "category": ("sales_category_daily", "category_id", "categories"),
}


@dataclass(frozen=True, slots=True)
class Trend:
    id: int
    title: str | None
    units: int
    revenue: int
    #: units in the previous period (None for a new product: it was not there)
    prev_units: int | None
    growth_pct: float | None


def _growth_sql(level: Level, growing: bool) -> str:
    table, key, names = _SOURCE[level]
    sign, direction = (">", "DESC") if growing else ("<", "ASC")
    return f"""
WITH cur AS (
    SELECT {key} AS id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue
    FROM {table} WHERE day >= $1 AND day <= $2 GROUP BY 1
), prev AS (
    SELECT {key} AS id, sum(units)::bigint AS units
    FROM {table} WHERE day >= $3 AND day <= $4 GROUP BY 1 HAVING sum(units) >= $5
), g AS (
    SELECT prev.id, coalesce(cur.units, 0) AS units, coalesce(cur.revenue, 0) AS revenue,
           prev.units AS prev_units,
           round((100.0 * (coalesce(cur.units, 0) - prev.units) / prev.units)::numeric, 2)::float8
               AS growth_pct
    FROM prev LEFT JOIN cur USING (id)
)
SELECT g.*, n.title FROM g LEFT JOIN {names} n ON n.id = g.id
WHERE g.growth_pct {sign} 0
ORDER BY g.growth_pct {direction}, g.prev_units DESC, g.id
LIMIT $6"""  # noqa: S608 - table, key and names come from the constant map above


_NEW = """
SELECT d.product_id AS id, p.title, sum(d.units)::bigint AS units,
       sum(d.revenue)::bigint AS revenue
FROM sales_product_daily d LEFT JOIN products p ON p.id = d.product_id
WHERE d.day >= $1 AND d.day <= $2
GROUP BY d.product_id, p.title
HAVING bool_or(d.first_seen) AND sum(d.units) > 0
   AND NOT EXISTS (SELECT 1 FROM sales_product_daily e
                   WHERE e.product_id = d.product_id AND e.day < $1)
ORDER BY units DESC, revenue DESC, id
LIMIT $3"""


# the same lists from a precomputed period (sales_periods: growth and "new" already worked out
# by the same rules, sales/periods.py), an index walk instead of two sums over the day rows
def _built_growth_sql(level: Level, growing: bool) -> str:
    names = _SOURCE[level][2]
    sign, direction = (">", "DESC") if growing else ("<", "ASC")
    return f"""
SELECT t.id, n.title, t.units, t.revenue, t.prev_units, t.growth_pct
FROM sales_periods t LEFT JOIN {names} n ON n.id = t.id
WHERE t.level = $1 AND t.days = $2 AND t.growth_pct {sign} 0
ORDER BY t.growth_pct {direction}, t.prev_units DESC, t.id
LIMIT $3"""  # noqa: S608 - names and the order come from the constants above


_BUILT_NEW = """
SELECT t.id, p.title, t.units, t.revenue
FROM sales_periods t LEFT JOIN products p ON p.id = t.id
WHERE t.level = 'p' AND t.days = $1 AND t.is_new AND t.units > 0
ORDER BY t.units DESC, t.revenue DESC, t.id
LIMIT $2"""


async def changes(
    pool: Reader, w: SalesWindow, level: Level, *, growing: bool, limit: int
) -> list[Trend]:
    """The `limit` fastest growing (or, `growing=False`, shrinking) of `level`."""
    if not w.previous_known:
        return []
    p, q = w.period, w.previous
    if w.precomputed:
        sql = _built_growth_sql(level, growing)
        rows = await pool.fetch(sql, level[0], p.days, limit)
    else:
        sql = _growth_sql(level, growing)
        rows = await pool.fetch(sql, p.first, p.last, q.first, q.last, MIN_BASE_UNITS, limit)
    return [
        Trend(r["id"], r["title"], r["units"], r["revenue"], r["prev_units"], r["growth_pct"])
        for r in rows
    ]


async def new_products(pool: Reader, w: SalesWindow, *, limit: int) -> list[Trend]:
    """Products first seen in the period that already sold, best-selling first."""
    if w.precomputed:
        rows = await pool.fetch(_BUILT_NEW, w.period.days, limit)
    else:
        rows = await pool.fetch(_NEW, w.period.first, w.period.last, limit)
    return [Trend(r["id"], r["title"], r["units"], r["revenue"], None, None) for r in rows]
