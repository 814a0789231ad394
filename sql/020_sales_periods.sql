-- The last 7 and 30 finished days summed once, per product, seller and category, so a list
-- ordered by a period's revenue, units or growth walks an index instead of summing millions of
-- day rows on every request (1.5 M products: ≈ 3.4 M day rows in 30 days). Built by the minute
-- job (marketplaced/sales/periods.py) when a day has ended and again when a finished day of
-- the period was recounted; the web reads a build only for exactly its period (days and last
-- day) and sums the day rows otherwise, as before.
CREATE TABLE sales_period_builds (
    days        smallint PRIMARY KEY,     -- 7 or 30
    last_day    date NOT NULL,            -- the period: last_day - days + 1 .. last_day
    built_at    timestamptz NOT NULL,
    build_ms    integer NOT NULL
);

CREATE TABLE sales_periods (
    level         char(1) NOT NULL,       -- p(roduct), s(eller), c(ategory, subcategories included)
    days          smallint NOT NULL,
    id            bigint NOT NULL,
    -- a product's seller and category as its latest day row in the period attributes it
    seller_id     bigint,
    category_id   integer,
    current       boolean NOT NULL,       -- has day rows in the period (else only in the one before)
    units         bigint NOT NULL,
    revenue       bigint NOT NULL,
    units_orders  bigint NOT NULL,
    units_stock   bigint NOT NULL,
    units_split   bigint NOT NULL,
    observations  bigint NOT NULL,
    prev_units    bigint,                 -- the previous period of the same length (NULL: no rows)
    prev_revenue  bigint,
    -- units growth from a base of 5 units (web/sales_window.py MIN_BASE_UNITS), NULL below it
    growth_pct    double precision,
    -- first observed in the period, with no day row before it
    is_new        boolean NOT NULL,
    PRIMARY KEY (level, days, id)
);
CREATE INDEX sales_periods_revenue ON sales_periods (level, days, revenue DESC, id DESC);
CREATE INDEX sales_periods_units ON sales_periods (level, days, units DESC, id DESC);
CREATE INDEX sales_periods_growth ON sales_periods (level, days, growth_pct DESC NULLS LAST,
    units DESC, id DESC);
CREATE INDEX sales_periods_category ON sales_periods (level, days, category_id, revenue DESC,
    id DESC);
