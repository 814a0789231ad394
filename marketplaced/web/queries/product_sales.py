"""One product's units and revenue per day from the sales rollups (sql/014_sales.sql), today so
far included: the product page's bars.

A day is one of three things: counted (the product has a row: its units, revenue and how they
were counted), observed without a change of the product (scan coverage that day, no row: the
counter did not move, nothing sold — a zero that was seen), or never observed (no coverage:
unknown, never a zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from marketplaced.db import Conn
from marketplaced.web.queries import sales


@dataclass(frozen=True, slots=True)
class ProductSalesDay:
    day: date
    #: None: never observed
    units: int | None
    revenue: int | None
    units_orders: int = 0
    units_stock: int = 0
    units_split: int = 0
    first_seen: bool = False
    #: the day has no row: observed, and nothing changed
    unchanged: bool = False


_DAYS = """
SELECT day, units, revenue, units_orders, units_stock, units_split, first_seen
FROM sales_product_daily WHERE product_id = $1 AND day >= $2 AND day <= $3"""


async def product_days(conn: Conn, pid: int, first: date, last: date) -> list[ProductSalesDay]:
    """Every day from `first` to `last` (local days of `jobs.timezone`), in order."""
    if last < first:
        return []
    period = sales.date_range(first, last)
    unknown = set((await sales.coverage(conn, period)).unobserved)
    rows = {r["day"]: r for r in await conn.fetch(_DAYS, pid, first, last)}
    out = []
    for i in range(period.days):
        d = first + timedelta(days=i)
        r = rows.get(d)
        if r is not None:
            out.append(
                ProductSalesDay(
                    d,
                    r["units"],
                    r["revenue"],
                    r["units_orders"],
                    r["units_stock"],
                    r["units_split"],
                    r["first_seen"],
                )
            )
        elif d in unknown:
            out.append(ProductSalesDay(d, None, None))
        else:
            out.append(ProductSalesDay(d, 0, 0, unchanged=True))
    return out
