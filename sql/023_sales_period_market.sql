-- A category's market over the last 7 or 30 finished days (seller shares, concentration, price
-- bands, best-selling products) and the sellers list of a category summed from the period's
-- sums per product instead of every product-day of the subtree (a top-level category over 30
-- days: hundreds of thousands of day rows per request at full scale). Built with the periods
-- of sql/020_sales_periods.sql (marketplaced/sales/period_market.py), by the configured price
-- bands: the web reads them only for exactly the build's period and band edges.
ALTER TABLE sales_period_builds ADD COLUMN band_edges integer[];

CREATE TABLE sales_period_market (
    days          smallint NOT NULL,
    -- false: the period's rows; true: the previous period's, one per category and seller
    previous      boolean NOT NULL,
    -- the product-day rows' own attribution (a product that moved has a row per category)
    category_id   integer,
    seller_id     bigint,
    product_id    bigint,             -- NULL on previous rows
    -- sold: the rows with units; band: width_bucket of their average price over the build's
    -- edges, NULL when sold without a known price (revenue 0) or not sold
    sold          boolean NOT NULL,
    band          smallint,
    units         bigint NOT NULL,
    revenue       bigint NOT NULL,
    units_orders  bigint NOT NULL,
    units_stock   bigint NOT NULL,
    units_split   bigint NOT NULL,
    observations  bigint NOT NULL
);
CREATE INDEX sales_period_market_category ON sales_period_market (days, previous, category_id);
