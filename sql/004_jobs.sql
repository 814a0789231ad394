-- Scheduled jobs: scan coverage (gap detection), daily analytics (per SKU, product, seller and
-- category; UZEX monthly rollups), alert rules/state/events/deliveries, health-check results,
-- small per-job state, and the partition helpers maintenance uses.
--
-- Sizing: the daily tables hold only what moved on a day (a product or SKU with no history row
-- that day has no row: nothing changed), and are partitioned by month so retention is a DROP.
-- At 1.5 M products that is a few hundred thousand product rows per day, not 1.5 M.

-- The daily analytics and the alert scans read one day / one quarter-hour of history by
-- observed_at; the history's indexes lead with the id. BRIN indexes are a few pages per month
-- of append-ordered rows and cost the writer next to nothing.
CREATE INDEX price_history_observed_brin ON price_history USING brin (observed_at);
CREATE INDEX product_stats_history_observed_brin ON product_stats_history USING brin (observed_at);

-- Products seen per sampling period: "products whose last_seen fell in (period_start,
-- period_end]". A stretch of the day covered by no period with seen > 0 is a scan gap.
CREATE TABLE scan_coverage (
    scope         text NOT NULL,              -- 'uzum.products'
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    seen          bigint NOT NULL,
    PRIMARY KEY (scope, period_end)
);

-- One row per computed day: when, how complete the observations were, what was written.
CREATE TABLE analytics_days (
    day           date PRIMARY KEY,           -- local date in jobs.timezone
    day_start     timestamptz NOT NULL,
    day_end       timestamptz NOT NULL,
    computed_at   timestamptz NOT NULL DEFAULT now(),
    observed_pct  real NOT NULL,              -- share of the day inside periods that saw products
    max_gap_min   integer NOT NULL,           -- longest unobserved stretch touching the day
    complete      boolean NOT NULL,           -- false: a gap; figures are as observed, not guessed
    products      integer NOT NULL,
    skus          integer NOT NULL,
    sellers       integer NOT NULL,
    categories    integer NOT NULL,
    ms            integer NOT NULL
);

-- Per SKU per day, for SKUs with at least one price_history row that day.
CREATE TABLE analytics_sku_daily (
    day           date NOT NULL,
    sku_id        bigint NOT NULL,
    product_id    bigint NOT NULL,
    price_min     bigint NOT NULL,            -- purchase price, including the one in effect at 00:00
    price_max     bigint NOT NULL,
    price_last    bigint NOT NULL,
    full_price_last bigint,
    stock_start   bigint NOT NULL,
    stock_end     bigint NOT NULL,
    units         bigint NOT NULL,            -- sum of stock decreases between observations
    restocked     bigint NOT NULL,            -- sum of stock increases (never negative sales)
    revenue       bigint NOT NULL,            -- each decrease x the price in effect before it
    observations  integer NOT NULL,
    is_new        boolean NOT NULL,           -- first observed this day (no value before 00:00)
    PRIMARY KEY (day, sku_id)
) PARTITION BY RANGE (day);

-- Per product per day, for products with a stats or SKU history row that day.
CREATE TABLE analytics_product_daily (
    day           date NOT NULL,
    product_id    bigint NOT NULL,
    seller_id     bigint,
    category_id   integer,
    orders        bigint NOT NULL,            -- growth of ordersAmount over the day
    orders_end    bigint NOT NULL,
    units_stock   bigint NOT NULL,            -- sum of the SKUs' stock decreases
    restocked     bigint NOT NULL,
    sales         bigint NOT NULL,            -- the estimate revenue uses
    sales_source  text NOT NULL,              -- 'orders' (counter delta) or 'stock' (counter went back)
    revenue       bigint NOT NULL,            -- sales x price_in_effect
    price_in_effect bigint,                   -- NULL: no known price (price_basis none)
    price_basis   text NOT NULL,              -- 'stock_mix' (prices units sold at) or 'card_price'
    price_min     bigint,                     -- lowest SKU price in effect during the day
    price_max     bigint,                     -- highest SKU price in effect during the day
    price_last    bigint,                     -- card price (cheapest SKU) at the end of the day
    stock_end     bigint NOT NULL,
    rating        real,
    reviews_delta bigint NOT NULL,
    observations  integer NOT NULL,
    quality       text NOT NULL,              -- 'complete', 'gap' (day has a scan gap), 'new'
    PRIMARY KEY (day, product_id)
) PARTITION BY RANGE (day);
CREATE INDEX analytics_product_daily_product ON analytics_product_daily (product_id, day);
CREATE INDEX analytics_product_daily_seller ON analytics_product_daily (seller_id, day);

CREATE TABLE analytics_seller_daily (
    day           date NOT NULL,
    seller_id     bigint NOT NULL,
    revenue       bigint NOT NULL,
    sales         bigint NOT NULL,
    orders        bigint NOT NULL,
    units_stock   bigint NOT NULL,
    products_active integer NOT NULL,         -- products with a change that day
    products_with_sales integer NOT NULL,
    products_listed integer NOT NULL,         -- seen on or after the day, first seen before its end
    categories    integer NOT NULL,           -- leaf categories with sales
    category_share real,                      -- revenue / revenue of the leaf categories it sold in
    rank_revenue  integer,                    -- 1 = highest revenue of the day (sellers with sales)
    quality       text NOT NULL,
    PRIMARY KEY (day, seller_id)
) PARTITION BY RANGE (day);
CREATE INDEX analytics_seller_daily_seller ON analytics_seller_daily (seller_id, day);

-- Every level of the category tree: a parent includes its subcategories.
CREATE TABLE analytics_category_daily (
    day           date NOT NULL,
    category_id   integer NOT NULL,
    revenue       bigint NOT NULL,
    sales         bigint NOT NULL,
    orders        bigint NOT NULL,
    products_listed integer NOT NULL,
    products_active integer NOT NULL,
    products_with_sales integer NOT NULL,
    sellers_active integer NOT NULL,          -- sellers with a listed product in the category
    sellers_with_sales integer NOT NULL,
    avg_price     bigint,                     -- mean card price of the products active that day
    avg_sale_price bigint,                    -- revenue / sales
    price_bands   jsonb NOT NULL,             -- [{"from","to","products","with_sales","sales","revenue"}]
    quality       text NOT NULL,
    PRIMARY KEY (day, category_id)
) PARTITION BY RANGE (day);
CREATE INDEX analytics_category_daily_category ON analytics_category_daily (category_id, day);

-- UZEX rollups per calendar month (filled when the UZEX tables exist).
CREATE TABLE uzex_category_monthly (
    month         date NOT NULL,              -- first day of the month
    category      text NOT NULL,              -- '' when the lot has none
    deals         integer NOT NULL,
    total_cost    numeric NOT NULL,
    PRIMARY KEY (month, category)
);

CREATE TABLE uzex_item_monthly (
    month         date NOT NULL,
    category      text NOT NULL,
    item_name     text NOT NULL,
    deals         integer NOT NULL,
    quantity      numeric,
    total_cost    numeric,
    median_unit_price numeric,
    PRIMARY KEY (month, category, item_name)
);

CREATE TABLE uzex_party_monthly (
    month         date NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('customer', 'provider')),
    inn           text NOT NULL,
    name          text,
    deals         integer NOT NULL,
    total_cost    numeric NOT NULL,
    rank          integer NOT NULL,           -- by total_cost within (month, kind)
    PRIMARY KEY (month, kind, inn)
);

-- Alert rules: from the config file (source 'config', synced on start and reload) or written
-- here directly (source 'db'). NULL options fall back to the [alerts] defaults.
CREATE TABLE alert_rules (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    source        text NOT NULL DEFAULT 'db' CHECK (source IN ('config', 'db')),
    kind          text NOT NULL CHECK (kind IN ('price_drop', 'new_low', 'out_of_stock',
                                                'back_in_stock', 'new_product', 'fake_discount')),
    scope         text NOT NULL CHECK (scope IN ('all', 'sku', 'product', 'seller', 'category')),
    target_id     bigint,
    pct           real,
    price         bigint,
    days          integer,
    daily_cap     integer,
    rearm_h       real,
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'all') = (target_id IS NULL))
);

-- Hysteresis: after firing for an item a rule is disarmed until rearm_h has passed.
CREATE TABLE alert_state (
    rule_id       bigint NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    item          text NOT NULL,              -- 'sku:7574456', 'product:1772350'
    last_fired_at timestamptz NOT NULL,
    last_value    bigint,
    PRIMARY KEY (rule_id, item)
);

CREATE TABLE alert_events (
    id            bigserial PRIMARY KEY,
    rule_id       bigint REFERENCES alert_rules (id) ON DELETE SET NULL,
    kind          text NOT NULL,              -- a rule kind, or 'health'
    item          text NOT NULL,
    product_id    bigint,
    sku_id        bigint,
    observed_at   timestamptz NOT NULL,
    old_value     bigint,
    new_value     bigint,
    title         text NOT NULL,
    message       text NOT NULL,
    -- pending → sent / failed; 'capped' over the daily cap, 'digest' waiting for the digest,
    -- 'stored' when no notification URL is configured
    status        text NOT NULL DEFAULT 'pending',
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX alert_events_created ON alert_events (created_at);
CREATE INDEX alert_events_rule_created ON alert_events (rule_id, created_at);
CREATE INDEX alert_events_unsent ON alert_events (status) WHERE status IN ('pending', 'failed', 'digest');

-- One row per channel per notification (an event, or a digest of many).
CREATE TABLE alert_deliveries (
    id            bigserial PRIMARY KEY,
    event_ids     bigint[] NOT NULL,
    channel       text NOT NULL,              -- the Apprise URL with secrets masked
    status        text NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts      integer NOT NULL,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_created ON alert_deliveries (created_at);

CREATE TABLE health_checks (
    id            bigserial PRIMARY KEY,
    checked_at    timestamptz NOT NULL DEFAULT now(),
    ok            boolean NOT NULL,
    checks        jsonb NOT NULL              -- {"postgres": {"ok": true, "detail": "…"}, …}
);
CREATE INDEX health_checks_checked ON health_checks (checked_at);

-- Small durable state of a job (the alerts watermark …), keyed by name.
CREATE TABLE job_state (
    name          text PRIMARY KEY,
    value         jsonb NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The monthly partition of `parent` holding `d` (same naming as marketplaced_ensure_partitions);
-- used before writing a day that may be older than the partitions kept ahead.
CREATE FUNCTION marketplaced_ensure_partition_for(parent text, d date)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    m date := date_trunc('month', d)::date;
    part text := format('%s_y%sm%s', parent, to_char(m, 'YYYY'), to_char(m, 'MM'));
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   part, parent, m::timestamptz, (m + interval '1 month')::timestamptz);
    RETURN true;
END $$;

-- Drop the monthly partitions of `parent` that end on or before `cutoff`; returns their names.
-- Only partitions named <parent>_yYYYYmMM are considered (the default partition never is).
CREATE FUNCTION marketplaced_drop_partitions_before(parent text, cutoff date)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    part record;
    m date;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent::regclass AND c.relname ~ '_y[0-9]{4}m[0-9]{2}$'
        ORDER BY c.relname
    LOOP
        m := to_date(substring(part.relname from '_y([0-9]{4})m[0-9]{2}$')
                     || substring(part.relname from '_y[0-9]{4}m([0-9]{2})$'), 'YYYYMM');
        IF m + interval '1 month' <= cutoff THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            RETURN NEXT part.relname;
        END IF;
    END LOOP;
END $$;

SELECT marketplaced_ensure_partitions('analytics_sku_daily', 1, 3);
SELECT marketplaced_ensure_partitions('analytics_product_daily', 1, 3);
SELECT marketplaced_ensure_partitions('analytics_seller_daily', 1, 3);
SELECT marketplaced_ensure_partitions('analytics_category_daily', 1, 3);
