"""A period's sums per product, seller and category as a category's market reads them
(sql/023_sales_period_market.sql), built with the 7- and 30-day periods (sales/periods.py).

The category page and the sellers list of a category summed every product-day of the
category's subtree on each request; over 30 days a top-level category holds hundreds of
thousands of them at full scale. Every figure they show is a sum over the subtree's product
rows, so the period's rows are summed here once per (category, seller, product, price band)
— the same grouping keys the page's query groups by, so it sums these rows into exactly the
figures it sums the day rows into. A product-day's band is the band of its average price that
day (web/queries/category_market.py), which the build has to know: the edges it used are kept
with the build, and the page reads these rows only when they are the configured ones. The
previous period is kept per (category, seller) only: the sellers list needs its units for
growth, nothing needs it per product.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from marketplaced.db import Conn

_DELETE = "DELETE FROM sales_period_market WHERE days = $1"

_SUMS = (
    "sum(units)::bigint, sum(revenue)::bigint, sum(units_orders)::bigint, "
    "sum(units_stock)::bigint, sum(units_split)::bigint, sum(observations)::bigint"
)
_COLUMNS = (
    "(days, previous, category_id, seller_id, product_id, sold, band, units, revenue, "
    "units_orders, units_stock, units_split, observations)"
)
# $1 days, $2 first day, $3 last day, $4 band edges (ordered by category: a category's rows
# are read together, so they are stored together)
_CURRENT = f"""
INSERT INTO sales_period_market {_COLUMNS}
SELECT $1, false, category_id, seller_id, product_id, units > 0,
       CASE WHEN units > 0 AND revenue > 0
            THEN width_bucket(revenue::float8 / units, $4::float8[]) END,
       {_SUMS}
FROM sales_product_daily WHERE day >= $2 AND day <= $3
GROUP BY 3, 4, 5, 6, 7 ORDER BY 3"""  # noqa: S608 - constant fragments
# $1 days, $2 and $3 the previous period's first and last days
_PREVIOUS = f"""
INSERT INTO sales_period_market {_COLUMNS}
SELECT $1, true, category_id, seller_id, NULL, false, NULL, {_SUMS}
FROM sales_product_daily WHERE day >= $2 AND day <= $3
GROUP BY 3, 4 ORDER BY 3"""  # noqa: S608 - constant fragments


async def build(
    conn: Conn,
    days: int,
    period: tuple[date, date, date, date],
    band_edges: Sequence[int],
) -> int:
    """Replace the rows of the `days` period; `period`: (first, last, previous first, previous
    last) as periods.bounds gives them. Runs in the caller's transaction; returns the rows."""
    first, last, prev_first, prev_last = period
    await conn.execute(_DELETE, days)
    current = await conn.execute(_CURRENT, days, first, last, list(map(float, band_edges)))
    previous = await conn.execute(_PREVIOUS, days, prev_first, prev_last)
    return sum(int(status.rsplit(" ", 1)[-1]) for status in (current, previous))
