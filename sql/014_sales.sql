-- Sales per day, kept current as observations land (the `sales` job, every minute) and
-- recomputed for finished days by the nightly analytics: units and revenue per SKU, product,
-- seller and category, each with how it was counted and how much of it was observed.
-- Any period is a sum of days. Counts are whole units: a delta split over several days is
-- apportioned so its parts add up exactly to it.
--
-- methods: units_orders (order-counter growth), units_stock (stock decreases, where the
-- counter went back), units_split (the part of either that came from a delta spread over
-- several days because its interval crossed midnight or a scan gap).

CREATE TABLE sales_product_daily (
    day            date NOT NULL,             -- local date in jobs.timezone
    product_id     bigint NOT NULL,
    seller_id      bigint,                    -- as the product was attributed when computed
    category_id    integer,
    units          bigint NOT NULL,
    revenue        bigint NOT NULL,           -- so'm: each delta at the price in effect in its interval
    units_orders   bigint NOT NULL,
    units_stock    bigint NOT NULL,
    units_split    bigint NOT NULL,
    revenue_split  bigint NOT NULL,
    restocked      bigint NOT NULL,
    observations   integer NOT NULL,          -- history rows (observed changes) of the product that day
    first_seen     boolean NOT NULL,          -- first observed that day: no delta before its first row
    PRIMARY KEY (day, product_id)
);
CREATE INDEX sales_product_daily_product ON sales_product_daily (product_id, day);
CREATE INDEX sales_product_daily_seller ON sales_product_daily (seller_id, day);
CREATE INDEX sales_product_daily_category ON sales_product_daily (category_id, day);

-- Per SKU: stock decreases only (the order counter is per product, it cannot be told per SKU).
CREATE TABLE sales_sku_daily (
    day            date NOT NULL,
    sku_id         bigint NOT NULL,
    product_id     bigint NOT NULL,
    units          bigint NOT NULL,
    revenue        bigint NOT NULL,
    units_split    bigint NOT NULL,
    restocked      bigint NOT NULL,
    PRIMARY KEY (day, sku_id)
);
CREATE INDEX sales_sku_daily_product ON sales_sku_daily (product_id, day);

-- Sums of the product rows: per seller, and per category at every level (a category includes
-- its subcategories). Maintained by adding the difference of each recomputed product row.
CREATE TABLE sales_seller_daily (
    day            date NOT NULL,
    seller_id      bigint NOT NULL,
    units          bigint NOT NULL,
    revenue        bigint NOT NULL,
    units_orders   bigint NOT NULL,
    units_stock    bigint NOT NULL,
    units_split    bigint NOT NULL,
    revenue_split  bigint NOT NULL,
    observations   bigint NOT NULL,
    products_with_sales integer NOT NULL,
    PRIMARY KEY (day, seller_id)
);
CREATE INDEX sales_seller_daily_seller ON sales_seller_daily (seller_id, day);

CREATE TABLE sales_category_daily (
    day            date NOT NULL,
    category_id    integer NOT NULL,
    units          bigint NOT NULL,
    revenue        bigint NOT NULL,
    units_orders   bigint NOT NULL,
    units_stock    bigint NOT NULL,
    units_split    bigint NOT NULL,
    revenue_split  bigint NOT NULL,
    observations   bigint NOT NULL,
    products_with_sales integer NOT NULL,
    PRIMARY KEY (day, category_id)
);
CREATE INDEX sales_category_daily_category ON sales_category_daily (category_id, day);

-- How much of each day was observed (scan coverage), so a period can say which of its days
-- were never observed (unknown, not zero) and its longest scan gap. `final`: the day had ended.
CREATE TABLE sales_days (
    day            date PRIMARY KEY,
    observed_pct   real NOT NULL,
    max_gap_min    integer NOT NULL,
    complete       boolean NOT NULL,
    final          boolean NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
