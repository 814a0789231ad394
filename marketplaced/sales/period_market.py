"""A period's sums per product, seller and category as a category's market reads them
(sql/023_sales_period_market.sql), built with the periods of sales/periods.py.

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

A top-level category still holds tens of thousands of products at full scale, so the page's
answer itself — the rows its query returns: the `TOP_SELLERS` sellers and the others with
their sums of squared revenue, every band, the `TOP_PRODUCTS` best-selling products — is
worked out here for every category of the tree (sales_period_nodes), by the same query run per
category over the tree's closure, and so is the sellers list of each category by the
period's sales (sales_period_category_sellers: walked in its order through an index). A
category sums its subtree as the tree stood at the build.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from marketplaced.db import Conn

#: the sellers named and the products listed on a category's page (web/queries/category_market.py)
TOP_SELLERS, TOP_PRODUCTS = 10, 10

_DELETE = "DELETE FROM sales_period_market WHERE days = $1"
_DELETE_NODES = "DELETE FROM sales_period_nodes WHERE days = $1"
_DELETE_SELLERS = "DELETE FROM sales_period_category_sellers WHERE days = $1"
_ANALYZE = "ANALYZE sales_period_market"

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

# every category a product row counts in (its own and each one above it), as the rollup walks
# the tree (sales/rollup_sql.py ADD_SUMS)
_CLOSURE = """leaves AS (
    SELECT DISTINCT category_id AS leaf FROM sales_period_market
    WHERE days = $1 AND category_id IS NOT NULL
), up (leaf, cat, parent, depth) AS (
    SELECT l.leaf, l.leaf, c.parent_id, 0 FROM leaves l LEFT JOIN categories c ON c.id = l.leaf
    UNION ALL
    SELECT up.leaf, c.id, c.parent_id, up.depth + 1
    FROM up JOIN categories c ON c.id = up.parent WHERE up.depth < 12
), closure AS (
    SELECT DISTINCT leaf, cat FROM up
)"""

# The category page's query (web/queries/category_market.py _MARKET) per category: each
# product row counts in its category and every one above it. $1 days, $2 top sellers, $3 top
# products.
_NODES = f"""
INSERT INTO sales_period_nodes (days, category_id, part, top, rank, key, units, revenue,
    products, sellers, revenue_sq)
WITH RECURSIVE {_CLOSURE}, d AS MATERIALIZED (
    SELECT closure.cat AS node, m.seller_id, m.product_id, m.units, m.revenue, m.band
    FROM sales_period_market m JOIN closure ON closure.leaf = m.category_id
    WHERE m.days = $1 AND NOT m.previous AND m.sold
), sp AS (
    SELECT node, seller_id, product_id, sum(units)::bigint AS units,
           sum(revenue)::bigint AS revenue
    FROM d GROUP BY node, seller_id, product_id
), s AS (
    SELECT node, seller_id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue,
           count(*) AS products
    FROM sp GROUP BY node, seller_id
), r AS (
    SELECT s.*, row_number() OVER (PARTITION BY node
        ORDER BY s.seller_id IS NULL, s.revenue DESC, s.units DESC, s.seller_id) AS rank
    FROM s
), bp AS (
    SELECT node, band, product_id, sum(units) AS units, sum(revenue) AS revenue
    FROM d GROUP BY node, band, product_id
), pp AS (
    SELECT node, product_id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue,
           row_number() OVER (PARTITION BY node
               ORDER BY sum(revenue) DESC, sum(units) DESC, product_id) AS rank
    FROM sp GROUP BY node, product_id
)
SELECT $1, node, 'seller', r.rank <= $2 AND r.seller_id IS NOT NULL, min(r.rank),
       CASE WHEN r.rank <= $2 THEN r.seller_id END,
       sum(r.units)::bigint, sum(r.revenue)::bigint, sum(r.products)::bigint,
       count(r.seller_id),
       coalesce(sum(r.revenue::numeric * r.revenue) FILTER (WHERE r.seller_id IS NOT NULL), 0)
FROM r GROUP BY node, 4, 6
UNION ALL
SELECT $1, node, 'band', NULL, NULL, band, sum(units)::bigint, sum(revenue)::bigint, count(*),
       NULL, NULL
FROM bp GROUP BY node, band
UNION ALL
SELECT $1, node, 'product', NULL, NULL, product_id, units, revenue, NULL, NULL, NULL
FROM pp WHERE rank <= $3"""  # noqa: S608 - constant fragments

# The sellers list of a category by the period's sales (web/queries/sellers.py): each known
# seller with rows in the period, its sums and growth by the rules of sales/periods.py. $1 days,
# $2 the units growth needs before
_SELLERS = f"""
INSERT INTO sales_period_category_sellers (days, category_id, seller_id, units, revenue,
    units_orders, units_stock, units_split, observations, prev_units, growth_pct)
WITH RECURSIVE {_CLOSURE}, cur AS (
    SELECT closure.cat AS node, m.seller_id, sum(m.units)::bigint AS units,
           sum(m.revenue)::bigint AS revenue, sum(m.units_orders)::bigint AS units_orders,
           sum(m.units_stock)::bigint AS units_stock, sum(m.units_split)::bigint AS units_split,
           sum(m.observations)::bigint AS observations
    FROM sales_period_market m JOIN closure ON closure.leaf = m.category_id
    WHERE m.days = $1 AND NOT m.previous AND m.seller_id IS NOT NULL GROUP BY 1, 2
), prev AS (
    SELECT closure.cat AS node, m.seller_id, sum(m.units)::bigint AS units
    FROM sales_period_market m JOIN closure ON closure.leaf = m.category_id
    WHERE m.days = $1 AND m.previous AND m.seller_id IS NOT NULL GROUP BY 1, 2
)
SELECT $1, cur.node, cur.seller_id, cur.units, cur.revenue, cur.units_orders, cur.units_stock,
       cur.units_split, cur.observations, prev.units,
       CASE WHEN prev.units >= $2 THEN round((100.0 * (cur.units - prev.units)
           / prev.units)::numeric, 2)::float8 END
FROM cur LEFT JOIN prev USING (node, seller_id)
ORDER BY cur.node, cur.revenue DESC"""  # noqa: S608 - constant fragments


async def build(
    conn: Conn,
    days: int,
    period: tuple[date, date, date, date],
    band_edges: Sequence[int],
    base_units: int,
    timeout_s: float | None = None,
) -> int:
    """Replace the rows of the `days` period; `period`: (first, last, previous first, previous
    last) as periods.bounds gives them; `base_units`: the previous period's units growth
    needs (periods.MIN_BASE_UNITS). Runs in the caller's transaction; returns the rows.
    `timeout_s` bounds each statement (None: the pool's command timeout)."""
    first, last, prev_first, prev_last = period
    t = timeout_s
    await conn.execute(_DELETE, days, timeout=t)
    edges = list(map(float, band_edges))
    current = await conn.execute(_CURRENT, days, first, last, edges, timeout=t)
    previous = await conn.execute(_PREVIOUS, days, prev_first, prev_last, timeout=t)
    # The two statements below read the rows just written, which the table's statistics have
    # never seen (a first 30-day build: "days = 30" estimated at one row). Planned on that,
    # they joined a million rows by nested loops: over 14 minutes at full scale instead of
    # seconds. ANALYZE inside the transaction samples its own rows too.
    await conn.execute(_ANALYZE, timeout=t)
    await conn.execute(_DELETE_NODES, days, timeout=t)
    nodes = await conn.execute(_NODES, days, TOP_SELLERS, TOP_PRODUCTS, timeout=t)
    await conn.execute(_DELETE_SELLERS, days, timeout=t)
    sellers = await conn.execute(_SELLERS, days, base_units, timeout=t)
    statuses = (current, previous, nodes, sellers)
    return sum(int(status.rsplit(" ", 1)[-1]) for status in statuses)
