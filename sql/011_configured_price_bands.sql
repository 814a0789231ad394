-- The category overview counts products per price band with the edges of [jobs] price_bands
-- (the ones the analytics job uses), instead of edges fixed in SQL. The web app writes the
-- configured edges into web_price_band_edges before each summary refresh; the summary keeps the
-- edges it was computed with, so labels always match counts even right after a config change.

CREATE TABLE web_price_band_edges (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    edges bigint[] NOT NULL
);
-- the edges the overview had so far, until the web app writes the configured ones
INSERT INTO web_price_band_edges (edges) VALUES ('{50000,100000,250000,500000,1000000,5000000}');

DROP MATERIALIZED VIEW web_category_totals;
DROP FUNCTION web_price_band(bigint);

-- Per category (every level, subcategories included): size, orders, revenue and `bands`, the
-- number of priced products per band (band b: edges[b] <= price < edges[b+1], as width_bucket
-- counts, 0 below the first edge); a product counts once per ancestor, through the same
-- bounded walk as web_category_sellers.
CREATE MATERIALIZED VIEW web_category_totals AS
WITH RECURSIVE up (category_id, ancestor_id, depth) AS (
    SELECT id, id, 0 FROM categories
    UNION ALL
    SELECT up.category_id, c.parent_id, up.depth + 1
    FROM up JOIN categories c ON c.id = up.ancestor_id
    WHERE c.parent_id IS NOT NULL AND up.depth < 10
), e AS (
    SELECT edges FROM web_price_band_edges
), per AS (
    SELECT up.ancestor_id, pp.total_available, pp.orders_amount, pp.revenue_est, pp.price,
           width_bucket(pp.price, (SELECT edges FROM e)) AS band
    FROM web_product_prices pp JOIN up ON up.category_id = pp.category_id
), banded AS (
    SELECT ancestor_id, band, count(*) AS n FROM per WHERE band IS NOT NULL GROUP BY 1, 2
)
SELECT per.ancestor_id AS category_id, count(*) AS products,
       count(*) FILTER (WHERE per.total_available > 0) AS in_stock,
       sum(per.orders_amount)::bigint AS orders,
       coalesce(sum(per.revenue_est), 0)::bigint AS revenue_est,
       coalesce(sum(per.price), 0)::bigint AS price_sum, count(per.price) AS priced,
       (SELECT edges FROM e) AS band_edges,
       (SELECT array_agg(coalesce(b.n, 0) ORDER BY g.i)
        FROM generate_series(0, cardinality((SELECT edges FROM e))) AS g(i)
        LEFT JOIN banded b ON b.ancestor_id = per.ancestor_id AND b.band = g.i) AS bands
FROM per
GROUP BY per.ancestor_id
WITH DATA;
CREATE UNIQUE INDEX web_category_totals_pk ON web_category_totals (category_id);
