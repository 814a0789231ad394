-- The sellers list of a category sorted by a built period's units, revenue or growth, per
-- category (its subtree included): each seller's sums of the category's product rows, worked
-- out with the period (marketplaced/sales/period_market.py), so the list walks an index of
-- the category's sellers in its order instead of summing every product of the subtree.
CREATE TABLE sales_period_category_sellers (
    days          smallint NOT NULL,
    category_id   integer NOT NULL,
    seller_id     bigint NOT NULL,
    units         bigint NOT NULL,
    revenue       bigint NOT NULL,
    units_orders  bigint NOT NULL,
    units_stock   bigint NOT NULL,
    units_split   bigint NOT NULL,
    observations  bigint NOT NULL,
    prev_units    bigint,             -- the previous period's (NULL: no rows in it)
    growth_pct    double precision,   -- as sales_periods.growth_pct
    PRIMARY KEY (days, category_id, seller_id)
);
CREATE INDEX sales_period_category_sellers_revenue ON sales_period_category_sellers
    (days, category_id, revenue DESC, seller_id DESC);
CREATE INDEX sales_period_category_sellers_units ON sales_period_category_sellers
    (days, category_id, units DESC, seller_id DESC);
