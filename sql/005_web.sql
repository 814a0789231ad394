-- The dashboard's read side: indexes for its sorts and filters, trigram title search, and
-- summary tables (materialized views) that the web app refreshes in the background, so that
-- rankings and category overviews over millions of rows answer in milliseconds.

-- Trigram search for product titles (uz and ru) when pg_trgm can be installed: it is a trusted
-- extension since PostgreSQL 13, so the database owner may create it; where it cannot be, the
-- search still works (ILIKE) but scans.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm is not available: product title search will scan the table';
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        -- the expression is repeated verbatim by the product search query
        EXECUTE 'CREATE INDEX products_title_trgm ON products USING gin '
                '((title || '' '' || coalesce(title_uz, '''') || '' '' || coalesce(title_ru, '''')) '
                'gin_trgm_ops)';
    END IF;
END $$;

-- Keyset pagination: one index per sort order, id as the tie-breaker.
CREATE INDEX products_orders_id ON products (orders_amount DESC, id DESC);
CREATE INDEX products_rating_id ON products ((coalesce(rating, 0)) DESC, id DESC);
CREATE INDEX products_reviews_id ON products (reviews_amount DESC, id DESC);
CREATE INDEX products_category_orders ON products (category_id, orders_amount DESC, id DESC);
CREATE INDEX products_seller_orders ON products (seller_id, orders_amount DESC, id DESC);
-- cheapest SKU of a product (index-only) and the price-ordered walk of the price sorts
CREATE INDEX skus_product_price ON skus (product_id, purchase_price, id);
CREATE INDEX skus_price_id ON skus (purchase_price, id);
-- recent changes for the price-drop summary
CREATE INDEX price_history_observed ON price_history (observed_at);
CREATE INDEX sellers_orders_id ON sellers ((coalesce(orders, 0)) DESC, id DESC);
CREATE INDEX sellers_rating_id ON sellers ((coalesce(rating, 0)) DESC, id DESC);
CREATE INDEX sellers_reviews_id ON sellers ((coalesce(reviews, 0)) DESC, id DESC);

-- UZEX lists: by type, newest (deal date, else start date) first; and by cost.
-- The sentinels (1970, -1) keep the keys NOT NULL so keyset row comparisons stay exact; the
-- expressions are repeated verbatim in web/queries/uzex.py.
CREATE INDEX uzex_lots_type_date ON uzex_lots
    (lot_type, (coalesce(deal_date, start_date, timestamptz '1970-01-01 00:00:00+00')) DESC, lot_id DESC);
CREATE INDEX uzex_lots_type_cost ON uzex_lots
    (lot_type, (coalesce(deal_cost, start_cost, -1)) DESC, lot_id DESC);

-- Price bands in so'm used by the category overview; the same edges are in web/queries/analytics.py.
CREATE FUNCTION web_price_band(price bigint) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN price IS NULL THEN NULL
                WHEN price < 50000 THEN 0 WHEN price < 100000 THEN 1 WHEN price < 250000 THEN 2
                WHEN price < 500000 THEN 3 WHEN price < 1000000 THEN 4 WHEN price < 5000000 THEN 5
                ELSE 6 END
$$;

-- Per product: cheapest SKU price (the "from" price) and the estimated lifetime revenue
-- (orders x cheapest price: Uzum publishes order counts, not revenue).
CREATE MATERIALIZED VIEW web_product_prices AS
SELECT p.id AS product_id, p.category_id, p.seller_id, p.orders_amount, p.total_available,
       m.price, p.orders_amount * m.price AS revenue_est
FROM products p
LEFT JOIN (SELECT product_id, min(purchase_price) AS price FROM skus GROUP BY product_id) m
       ON m.product_id = p.id
WITH DATA;
CREATE UNIQUE INDEX web_product_prices_pk ON web_product_prices (product_id);

-- Per seller: catalogue size and estimated revenue (ranking by products / revenue).
CREATE MATERIALIZED VIEW web_seller_totals AS
SELECT seller_id, count(*) AS products, count(*) FILTER (WHERE total_available > 0) AS in_stock,
       sum(orders_amount)::bigint AS orders, coalesce(sum(revenue_est), 0)::bigint AS revenue_est,
       count(DISTINCT category_id) AS categories
FROM web_product_prices WHERE seller_id IS NOT NULL GROUP BY seller_id
WITH DATA;
CREATE UNIQUE INDEX web_seller_totals_pk ON web_seller_totals (seller_id);
CREATE INDEX web_seller_totals_products ON web_seller_totals (products DESC, seller_id DESC);
CREATE INDEX web_seller_totals_revenue ON web_seller_totals (revenue_est DESC, seller_id DESC);

-- Per category (every level: a parent includes its subcategories) and seller, so the top
-- sellers of any category are one index range. `direct` marks the product's own category.
-- The ancestor walk stops at depth 10 (Uzum's tree has 4-5 levels) so a cycle cannot loop.
CREATE MATERIALIZED VIEW web_category_sellers AS
WITH RECURSIVE up (category_id, ancestor_id, depth) AS (
    SELECT id, id, 0 FROM categories
    UNION ALL
    SELECT up.category_id, c.parent_id, up.depth + 1
    FROM up JOIN categories c ON c.id = up.ancestor_id
    WHERE c.parent_id IS NOT NULL AND up.depth < 10
)
SELECT up.ancestor_id AS category_id, pp.seller_id, bool_or(up.depth = 0) AS direct,
       count(*) AS products, sum(pp.orders_amount)::bigint AS orders,
       coalesce(sum(pp.revenue_est), 0)::bigint AS revenue_est
FROM web_product_prices pp JOIN up ON up.category_id = pp.category_id
WHERE pp.seller_id IS NOT NULL
GROUP BY up.ancestor_id, pp.seller_id
WITH DATA;
CREATE UNIQUE INDEX web_category_sellers_pk ON web_category_sellers (category_id, seller_id);
CREATE INDEX web_category_sellers_revenue
    ON web_category_sellers (category_id, revenue_est DESC, seller_id DESC);
CREATE INDEX web_category_sellers_orders
    ON web_category_sellers (category_id, orders DESC, seller_id DESC);
CREATE INDEX web_category_sellers_seller ON web_category_sellers (seller_id) WHERE direct;

-- Per category (every level, subcategories included): size, orders, revenue and the number of
-- products in each price band (b0 … b6, edges in web_price_band); a product counts once per
-- ancestor, through the same bounded walk as above.
CREATE MATERIALIZED VIEW web_category_totals AS
WITH RECURSIVE up (category_id, ancestor_id, depth) AS (
    SELECT id, id, 0 FROM categories
    UNION ALL
    SELECT up.category_id, c.parent_id, up.depth + 1
    FROM up JOIN categories c ON c.id = up.ancestor_id
    WHERE c.parent_id IS NOT NULL AND up.depth < 10
)
SELECT up.ancestor_id AS category_id, count(*) AS products,
       count(*) FILTER (WHERE pp.total_available > 0) AS in_stock,
       sum(pp.orders_amount)::bigint AS orders,
       coalesce(sum(pp.revenue_est), 0)::bigint AS revenue_est,
       coalesce(sum(pp.price), 0)::bigint AS price_sum, count(pp.price) AS priced,
       count(*) FILTER (WHERE web_price_band(pp.price) = 0) AS b0,
       count(*) FILTER (WHERE web_price_band(pp.price) = 1) AS b1,
       count(*) FILTER (WHERE web_price_band(pp.price) = 2) AS b2,
       count(*) FILTER (WHERE web_price_band(pp.price) = 3) AS b3,
       count(*) FILTER (WHERE web_price_band(pp.price) = 4) AS b4,
       count(*) FILTER (WHERE web_price_band(pp.price) = 5) AS b5,
       count(*) FILTER (WHERE web_price_band(pp.price) = 6) AS b6
FROM web_product_prices pp JOIN up ON up.category_id = pp.category_id
GROUP BY up.ancestor_id
WITH DATA;
CREATE UNIQUE INDEX web_category_totals_pk ON web_category_totals (category_id);

-- Price drops of the last 14 days: each change compared with the SKU's previous row.
-- Bounded by the window (an index range on observed_at) and one PK probe per change.
CREATE MATERIALIZED VIEW web_price_drops AS
SELECT h.sku_id, h.product_id, h.observed_at, prev.purchase_price AS old_price,
       h.purchase_price AS new_price,
       round(100.0 * (prev.purchase_price - h.purchase_price) / prev.purchase_price, 2) AS drop_pct
FROM price_history h
CROSS JOIN LATERAL (
    SELECT purchase_price FROM price_history p
    WHERE p.sku_id = h.sku_id AND p.observed_at < h.observed_at
    ORDER BY p.observed_at DESC LIMIT 1
) prev
WHERE h.observed_at >= now() - interval '14 days'
  AND prev.purchase_price > 0 AND h.purchase_price < prev.purchase_price
WITH DATA;
CREATE UNIQUE INDEX web_price_drops_pk ON web_price_drops (sku_id, observed_at);
CREATE INDEX web_price_drops_pct ON web_price_drops (drop_pct DESC, sku_id DESC, observed_at DESC);
CREATE INDEX web_price_drops_product ON web_price_drops (product_id);

-- When each summary was last refreshed (shown on the pages as "as of").
CREATE TABLE web_summary_refreshes (
    name         text PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    duration_ms  integer NOT NULL
);
