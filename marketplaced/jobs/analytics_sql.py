"""The SQL of the daily analytics, one named statement per step (see analytics.py for the flow).

Parameters: $1 day start, $2 day end (timestamptz, local midnight in jobs.timezone), $3 the
day (date). Temp tables live for the day's one transaction (ON COMMIT DROP).
"""

from __future__ import annotations

from marketplaced.jobs.category_sql import closure_table
from marketplaced.sales.carry_sql import latest_before

ANALYTICS_TABLES = (
    "analytics_sku_daily",
    "analytics_product_daily",
    "analytics_seller_daily",
    "analytics_category_daily",
)


DELETE_DAY = (
    "DELETE FROM analytics_sku_daily WHERE day = $1",
    "DELETE FROM analytics_product_daily WHERE day = $1",
    "DELETE FROM analytics_seller_daily WHERE day = $1",
    "DELETE FROM analytics_category_daily WHERE day = $1",
)

# -- inputs: the day's history rows, the products they touch, values in effect at 00:00 --------
SKU_ROWS = """
CREATE TEMP TABLE t_sku_rows ON COMMIT DROP AS
SELECT sku_id, product_id, observed_at, purchase_price, full_price, available_amount
FROM price_history WHERE observed_at >= $1 AND observed_at < $2"""

STATS_ROWS = """
CREATE TEMP TABLE t_stats_rows ON COMMIT DROP AS
SELECT product_id, observed_at, orders_amount, reviews_amount, rating, total_available
FROM product_stats_history WHERE observed_at >= $1 AND observed_at < $2"""

ACTIVE = """
CREATE TEMP TABLE t_active ON COMMIT DROP AS
SELECT product_id FROM t_sku_rows UNION SELECT product_id FROM t_stats_rows"""

# Every SKU of an active product that existed that day, with the row in effect at 00:00: the
# latest one before the day (backward index probes on the history's primary key, newest month
# first: carry_sql.py).
SKU_CARRY = f"""
CREATE TEMP TABLE t_sku_carry ON COMMIT DROP AS
SELECT k.id AS sku_id, k.product_id, c.purchase_price, c.full_price, c.available_amount
FROM t_active a
JOIN skus k ON k.product_id = a.product_id AND k.first_seen < $2
JOIN uzum_visits v ON v.product_id = a.product_id AND coalesce(k.last_seen, v.last_seen) >= $1
CROSS JOIN LATERAL {
    latest_before(
        "price_history",
        "h.sku_id = k.id",
        "h.purchase_price, h.full_price, h.available_amount",
        "$1",
    )
} c"""  # noqa: S608 - constant fragments

STATS_CARRY = f"""
CREATE TEMP TABLE t_stats_carry ON COMMIT DROP AS
SELECT a.product_id, c.orders_amount, c.reviews_amount, c.rating, c.total_available
FROM t_active a
CROSS JOIN LATERAL {
    latest_before(
        "product_stats_history",
        "h.product_id = a.product_id",
        "h.orders_amount, h.reviews_amount, h.rating, h.total_available",
        "$1",
    )
} c"""  # noqa: S608 - constant fragments

# -- per SKU: the carried row first ('-infinity'), then the day's rows in time order ------------
# A decrease between two observations is units sold at the price in effect before it; an
# increase is a restock (never negative sales). n = 1 is the opening row, n = cnt the closing.
SKU_DAY = """
CREATE TEMP TABLE t_sku_day ON COMMIT DROP AS
WITH seq AS (
    SELECT sku_id, product_id, '-infinity'::timestamptz AS t,
           purchase_price, full_price, available_amount
    FROM t_sku_carry
    UNION ALL
    SELECT sku_id, product_id, observed_at, purchase_price, full_price, available_amount
    FROM t_sku_rows
), steps AS (
    SELECT seq.*,
           lag(available_amount) OVER w AS prev_stock,
           lag(purchase_price) OVER w AS prev_price,
           row_number() OVER w AS n,
           count(*) OVER (PARTITION BY sku_id) AS cnt
    FROM seq WINDOW w AS (PARTITION BY sku_id ORDER BY t)
)
SELECT sku_id, min(product_id) AS product_id,
       min(purchase_price) AS price_min, max(purchase_price) AS price_max,
       max(purchase_price) FILTER (WHERE n = 1) AS price_open,
       max(purchase_price) FILTER (WHERE n = cnt) AS price_last,
       max(full_price) FILTER (WHERE n = cnt) AS full_price_last,
       max(available_amount) FILTER (WHERE n = 1) AS stock_start,
       max(available_amount) FILTER (WHERE n = cnt) AS stock_end,
       coalesce(sum(greatest(prev_stock - available_amount, 0)), 0) AS units,
       coalesce(sum(greatest(available_amount - prev_stock, 0)), 0) AS restocked,
       coalesce(sum(greatest(prev_stock - available_amount, 0) * prev_price), 0) AS revenue,
       count(*) FILTER (WHERE t > '-infinity') AS observations,
       bool_and(t > '-infinity') AS is_new
FROM steps GROUP BY sku_id"""

INSERT_SKU_DAILY = """
INSERT INTO analytics_sku_daily (day, sku_id, product_id, price_min, price_max, price_last,
    full_price_last, stock_start, stock_end, units, restocked, revenue, observations, is_new)
SELECT $1, sku_id, product_id, price_min, price_max, price_last, full_price_last,
       stock_start, stock_end, units, restocked, revenue, observations, is_new
FROM t_sku_day WHERE observations > 0"""

STATS_DAY = """
CREATE TEMP TABLE t_stats_day ON COMMIT DROP AS
WITH seq AS (
    SELECT product_id, '-infinity'::timestamptz AS t, orders_amount, reviews_amount, rating,
           total_available
    FROM t_stats_carry
    UNION ALL
    SELECT product_id, observed_at, orders_amount, reviews_amount, rating, total_available
    FROM t_stats_rows
), steps AS (
    SELECT seq.*, row_number() OVER w AS n, count(*) OVER (PARTITION BY product_id) AS cnt
    FROM seq WINDOW w AS (PARTITION BY product_id ORDER BY t)
)
SELECT product_id,
       max(orders_amount) FILTER (WHERE n = 1) AS orders_start,
       max(orders_amount) FILTER (WHERE n = cnt) AS orders_end,
       max(reviews_amount) FILTER (WHERE n = 1) AS reviews_start,
       max(reviews_amount) FILTER (WHERE n = cnt) AS reviews_end,
       max(rating) FILTER (WHERE n = cnt) AS rating,
       max(total_available) FILTER (WHERE n = cnt) AS stock_end,
       count(*) FILTER (WHERE t > '-infinity') AS observations,
       bool_and(t > '-infinity') AS is_new
FROM steps GROUP BY product_id"""

# Each growth of the order counter is priced at the price in effect between the product's two
# observations around it: the prices units sold at in that interval (stock decreases seen at
# its end, at the prices before them), else the card price (cheapest SKU) at its start. The
# start, because change-based history keeps a price in effect until a new one is observed, and
# the counter held its old value whenever the product was observed before (any history row of
# the product at an instant without a counter change proves it). Not the day's first price: a
# price changed at noon without stock moving prices the afternoon's orders at the new price.
INTERVAL_REVENUE = """
CREATE TEMP TABLE t_interval_revenue ON COMMIT DROP AS
WITH inst AS (
    SELECT product_id, '-infinity'::timestamptz AS t FROM t_active
    UNION SELECT product_id, observed_at FROM t_sku_rows
    UNION SELECT product_id, observed_at FROM t_stats_rows
), ordered AS (
    SELECT product_id, t, lag(t) OVER (PARTITION BY product_id ORDER BY t) AS prev_t FROM inst
), sku_seq AS (
    SELECT sku_id, product_id, '-infinity'::timestamptz AS t, purchase_price, available_amount
    FROM t_sku_carry
    UNION ALL
    SELECT sku_id, product_id, observed_at, purchase_price, available_amount FROM t_sku_rows
), card AS (
    SELECT product_id, t, min(purchase_price) AS price FROM (
        SELECT DISTINCT ON (i.product_id, i.t, s.sku_id) i.product_id, i.t, s.purchase_price
        FROM inst i JOIN sku_seq s ON s.product_id = i.product_id AND s.t <= i.t
        ORDER BY i.product_id, i.t, s.sku_id, s.t DESC
    ) latest GROUP BY product_id, t
), sku_steps AS (
    SELECT product_id, t,
           greatest(lag(available_amount) OVER w - available_amount, 0) AS units,
           greatest(lag(available_amount) OVER w - available_amount, 0)
               * lag(purchase_price) OVER w AS revenue
    FROM sku_seq WINDOW w AS (PARTITION BY sku_id ORDER BY t)
), mix AS (
    SELECT product_id, t, sum(units) AS units, sum(revenue) AS revenue FROM sku_steps
    WHERE units > 0 GROUP BY product_id, t
), stats_seq AS (
    SELECT product_id, '-infinity'::timestamptz AS t, orders_amount FROM t_stats_carry
    UNION ALL
    SELECT product_id, observed_at, orders_amount FROM t_stats_rows
), deltas AS (
    SELECT product_id, t, orders_amount - lag(orders_amount) OVER w AS delta
    FROM stats_seq WINDOW w AS (PARTITION BY product_id ORDER BY t)
), priced AS (
    SELECT d.product_id, d.delta,
           CASE WHEN m.units > 0 THEN round(m.revenue::numeric / m.units)::bigint
                ELSE c.price END AS price,
           CASE WHEN m.units > 0 THEN 'stock_mix' WHEN c.price IS NOT NULL THEN 'card_price'
           END AS basis
    FROM deltas d
    JOIN ordered o ON o.product_id = d.product_id AND o.t = d.t
    LEFT JOIN mix m ON m.product_id = d.product_id AND m.t = d.t
    LEFT JOIN card c ON c.product_id = d.product_id AND c.t = o.prev_t
    WHERE d.delta IS NOT NULL AND d.delta <> 0
)
SELECT product_id, sum(delta * coalesce(price, 0)) AS revenue,
       CASE WHEN count(DISTINCT basis) > 1 THEN 'mixed' ELSE min(basis) END AS basis
FROM priced GROUP BY product_id"""

# sales: the order-counter growth; only when the counter went backwards (a reset or a glitch)
# the stock decreases stand in. Revenue: the intervals' orders at their prices (above), or the
# stock decreases at the prices before them. price_in_effect: revenue / sales. $2: complete.
INSERT_PRODUCT_DAILY = """
WITH sku AS (
    SELECT product_id, sum(units) AS units, sum(restocked) AS restocked,
           sum(revenue) AS revenue, min(price_min) AS price_min, max(price_max) AS price_max,
           min(price_last) AS card_last, min(price_open) AS card_open,
           sum(observations) AS observations
    FROM t_sku_day GROUP BY product_id
), base AS (
    SELECT a.product_id, p.seller_id, p.category_id,
           coalesce(st.orders_start, 0) AS orders_start, coalesce(st.orders_end, 0) AS orders_end,
           coalesce(sku.units, 0) AS units, coalesce(sku.restocked, 0) AS restocked,
           coalesce(sku.revenue, 0) AS stock_revenue,
           greatest(coalesce(ir.revenue, 0), 0) AS orders_revenue, ir.basis AS orders_basis,
           CASE WHEN sku.units > 0 THEN round(sku.revenue::numeric / sku.units)::bigint
                ELSE sku.card_open END AS stock_price,
           sku.price_min, sku.price_max, sku.card_last, sku.card_open,
           coalesce(st.stock_end, 0) AS stock_end, st.rating,
           coalesce(st.reviews_end - st.reviews_start, 0) AS reviews_delta,
           coalesce(st.observations, 0) + coalesce(sku.observations, 0) AS observations,
           coalesce(st.is_new, true) AS is_new
    FROM t_active a
    LEFT JOIN t_stats_day st ON st.product_id = a.product_id
    LEFT JOIN sku ON sku.product_id = a.product_id
    LEFT JOIN t_interval_revenue ir ON ir.product_id = a.product_id
    LEFT JOIN products p ON p.id = a.product_id
), judged AS (
    SELECT base.*, orders_end >= orders_start AS by_orders,
           CASE WHEN orders_end >= orders_start THEN orders_end - orders_start ELSE units END
               AS sales
    FROM base
), valued AS (
    SELECT judged.*,
           CASE WHEN sales = 0 THEN 0 WHEN by_orders THEN orders_revenue ELSE stock_revenue END
               AS revenue
    FROM judged
)
INSERT INTO analytics_product_daily (day, product_id, seller_id, category_id, orders, orders_end,
    units_stock, restocked, sales, sales_source, revenue, price_in_effect, price_basis,
    price_min, price_max, price_last, stock_end, rating, reviews_delta, observations, quality)
SELECT $1, product_id, seller_id, category_id,
       greatest(orders_end - orders_start, 0), orders_end, units, restocked, sales,
       CASE WHEN by_orders THEN 'orders' ELSE 'stock' END, revenue,
       CASE WHEN sales > 0 THEN round(revenue::numeric / sales)::bigint ELSE card_open END,
       CASE WHEN sales > 0 AND by_orders THEN coalesce(orders_basis, 'none')
            WHEN sales > 0 THEN 'stock_mix'
            WHEN card_open IS NOT NULL THEN 'card_price' ELSE 'none' END,
       price_min, price_max, card_last, stock_end, rating, reviews_delta, observations,
       CASE WHEN NOT $2 THEN 'gap' WHEN is_new THEN 'new' ELSE 'complete' END
FROM valued"""

# "listed on the day": first seen before it ended, still seen on or after it began
LISTED = """
CREATE TEMP TABLE t_listed ON COMMIT DROP AS
SELECT p.id AS product_id, p.seller_id, p.category_id
FROM products p JOIN uzum_visits v ON v.product_id = p.id
WHERE p.first_seen < $2 AND v.last_seen >= $1"""

INSERT_SELLER_DAILY = """
WITH d AS (
    SELECT * FROM analytics_product_daily WHERE day = $1 AND seller_id IS NOT NULL
), agg AS (
    SELECT seller_id, sum(revenue) AS revenue, sum(sales) AS sales, sum(orders) AS orders,
           sum(units_stock) AS units, count(*) AS active,
           count(*) FILTER (WHERE sales > 0) AS with_sales,
           count(DISTINCT category_id) FILTER (WHERE sales > 0) AS categories
    FROM d GROUP BY seller_id
), cat_revenue AS (
    SELECT category_id, sum(revenue) AS revenue FROM analytics_product_daily
    WHERE day = $1 GROUP BY category_id
), market AS (
    SELECT s.seller_id, sum(c.revenue) AS revenue
    FROM (SELECT DISTINCT seller_id, category_id FROM d WHERE sales > 0) s
    JOIN cat_revenue c ON c.category_id = s.category_id
    GROUP BY s.seller_id
), listed AS (
    SELECT seller_id, count(*) AS n FROM t_listed
    WHERE seller_id IN (SELECT seller_id FROM agg) GROUP BY seller_id
)
INSERT INTO analytics_seller_daily (day, seller_id, revenue, sales, orders, units_stock,
    products_active, products_with_sales, products_listed, categories, category_share,
    rank_revenue, quality)
SELECT $1, agg.seller_id, agg.revenue, agg.sales, agg.orders, agg.units, agg.active,
       agg.with_sales, coalesce(listed.n, 0), agg.categories,
       CASE WHEN market.revenue > 0 THEN agg.revenue::real / market.revenue END,
       CASE WHEN agg.sales > 0 THEN rank() OVER (ORDER BY (agg.sales > 0) DESC, agg.revenue DESC)
       END,
       $2
FROM agg LEFT JOIN market USING (seller_id) LEFT JOIN listed USING (seller_id)"""

# leaf → every ancestor (itself included), see category_sql.py
CLOSURE = closure_table("t_closure")

# $3: the price-band boundaries (bigint[]); band b holds prices in [bounds[b], bounds[b+1])
INSERT_CATEGORY_DAILY = """
WITH d AS (
    SELECT cl.cat, p.* FROM analytics_product_daily p
    JOIN t_closure cl ON cl.leaf = p.category_id WHERE p.day = $1
), agg AS (
    SELECT cat, sum(revenue) AS revenue, sum(sales) AS sales, sum(orders) AS orders,
           count(*) AS active, count(*) FILTER (WHERE sales > 0) AS with_sales,
           count(DISTINCT seller_id) FILTER (WHERE sales > 0) AS sellers_with_sales,
           round(avg(price_last))::bigint AS avg_price,
           CASE WHEN sum(sales) > 0 THEN round(sum(revenue)::numeric / sum(sales))::bigint
           END AS avg_sale_price
    FROM d GROUP BY cat
), banded AS (
    SELECT cat, width_bucket(price_last, $3::bigint[]) AS b, count(*) AS products,
           count(*) FILTER (WHERE sales > 0) AS with_sales, sum(sales) AS sales,
           sum(revenue) AS revenue
    FROM d WHERE price_last IS NOT NULL GROUP BY cat, b
), bands AS (
    SELECT cat, jsonb_agg(jsonb_build_object(
               'from', CASE WHEN b = 0 THEN 0 ELSE ($3::bigint[])[b] END,
               'to', ($3::bigint[])[b + 1], 'products', products, 'with_sales', with_sales,
               'sales', sales, 'revenue', revenue) ORDER BY b) AS bands
    FROM banded GROUP BY cat
), listed AS (
    SELECT cl.cat, count(*) AS products, count(DISTINCT l.seller_id) AS sellers
    FROM t_listed l JOIN t_closure cl ON cl.leaf = l.category_id GROUP BY cl.cat
)
INSERT INTO analytics_category_daily (day, category_id, revenue, sales, orders, products_listed,
    products_active, products_with_sales, sellers_active, sellers_with_sales, avg_price,
    avg_sale_price, price_bands, quality)
SELECT $1, coalesce(agg.cat, listed.cat), coalesce(agg.revenue, 0), coalesce(agg.sales, 0),
       coalesce(agg.orders, 0), coalesce(listed.products, 0), coalesce(agg.active, 0),
       coalesce(agg.with_sales, 0), coalesce(listed.sellers, 0),
       coalesce(agg.sellers_with_sales, 0), agg.avg_price, agg.avg_sale_price,
       coalesce(bands.bands, '[]'::jsonb), $2
FROM agg FULL JOIN listed ON listed.cat = agg.cat
LEFT JOIN bands ON bands.cat = coalesce(agg.cat, listed.cat)"""

UPSERT_DAY = """
INSERT INTO analytics_days (day, day_start, day_end, computed_at, observed_pct, max_gap_min,
    complete, products, skus, sellers, categories, ms)
VALUES ($1, $2, $3, now(), $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (day) DO UPDATE SET day_start = EXCLUDED.day_start, day_end = EXCLUDED.day_end,
    computed_at = EXCLUDED.computed_at, observed_pct = EXCLUDED.observed_pct,
    max_gap_min = EXCLUDED.max_gap_min, complete = EXCLUDED.complete,
    products = EXCLUDED.products, skus = EXCLUDED.skus, sellers = EXCLUDED.sellers,
    categories = EXCLUDED.categories, ms = EXCLUDED.ms"""

COMPUTED_DAYS = "SELECT day FROM analytics_days WHERE day >= $1 AND day <= $2"

FIRST_COMPUTED_DAY = "SELECT min(day) FROM analytics_days"

# any history in [$1, $2)? Price changes alone count too. (The BRIN indexes on observed_at keep
# this to the day's blocks.)
HAS_HISTORY = """
SELECT EXISTS (SELECT 1 FROM product_stats_history WHERE observed_at >= $1 AND observed_at < $2)
    OR EXISTS (SELECT 1 FROM price_history WHERE observed_at >= $1 AND observed_at < $2)"""
