-- Uzum Market: the old system's table names (sellers, categories, products, skus,
-- price_history) so users' existing queries keep working, plus change-based history.

CREATE TABLE categories (
    id             integer PRIMARY KEY,
    title          text NOT NULL,
    parent_id      integer,                   -- NULL for top-level; no FK: a chain may arrive leaf-first
    product_amount integer,
    first_seen     timestamptz NOT NULL DEFAULT now(),
    last_seen      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX categories_parent ON categories (parent_id);

CREATE TABLE sellers (
    id                bigint PRIMARY KEY,
    title             text NOT NULL,
    link              text,
    description       text,
    registration_date timestamptz,
    rating            real,
    reviews           bigint,
    orders            bigint,
    official          boolean NOT NULL DEFAULT false,
    account_id        bigint,
    first_seen        timestamptz NOT NULL DEFAULT now(),
    last_seen         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sellers_link ON sellers (link);

CREATE TABLE products (
    id               bigint PRIMARY KEY,
    title            text NOT NULL,
    title_uz         text,
    title_ru         text,
    category_id      integer,
    seller_id        bigint,
    rating           real,
    reviews_amount   bigint NOT NULL DEFAULT 0,
    orders_amount    bigint NOT NULL DEFAULT 0,
    r_orders_amount  bigint,
    total_available  bigint NOT NULL DEFAULT 0,
    is_eco           boolean NOT NULL DEFAULT false,
    adult            boolean NOT NULL DEFAULT false,
    is_perishable    boolean NOT NULL DEFAULT false,
    description      text,
    photo_keys       text[] NOT NULL DEFAULT '{}',
    attributes       text[] NOT NULL DEFAULT '{}',
    tags             text[] NOT NULL DEFAULT '{}',
    characteristics  jsonb NOT NULL DEFAULT '[]',
    badges           text[] NOT NULL DEFAULT '{}',
    warranty         text,
    first_seen       timestamptz NOT NULL DEFAULT now(),
    last_seen        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()  -- last time a stored value changed
);
CREATE INDEX products_category ON products (category_id);
CREATE INDEX products_seller ON products (seller_id);
CREATE INDEX products_last_seen ON products (last_seen);

CREATE TABLE skus (
    id               bigint PRIMARY KEY,
    product_id       bigint NOT NULL,
    full_price       bigint,
    purchase_price   bigint NOT NULL,
    available_amount bigint NOT NULL DEFAULT 0,
    barcode          bigint,
    stock_type       text,
    delivery_days    integer,
    characteristics  text NOT NULL DEFAULT '',
    discount_badge   text,
    first_seen       timestamptz NOT NULL DEFAULT now(),
    last_seen        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX skus_product ON skus (product_id);

-- A row only when purchase price, full price or available amount of a SKU changed.
CREATE TABLE price_history (
    sku_id           bigint NOT NULL,
    observed_at      timestamptz NOT NULL,
    product_id       bigint NOT NULL,
    purchase_price   bigint NOT NULL,
    full_price       bigint,
    available_amount bigint NOT NULL,
    PRIMARY KEY (sku_id, observed_at)
) PARTITION BY RANGE (observed_at);
CREATE INDEX price_history_product ON price_history (product_id, observed_at);

-- A row only when orders, reviews, rating or total stock of a product changed.
CREATE TABLE product_stats_history (
    product_id       bigint NOT NULL,
    observed_at      timestamptz NOT NULL,
    orders_amount    bigint NOT NULL,
    reviews_amount   bigint NOT NULL,
    rating           real,
    total_available  bigint NOT NULL,
    PRIMARY KEY (product_id, observed_at)
) PARTITION BY RANGE (observed_at);

-- Safety nets: a row whose month has no partition yet lands here instead of failing the batch;
-- maintenance creates partitions ahead of time so these stay empty.
CREATE TABLE price_history_default PARTITION OF price_history DEFAULT;
CREATE TABLE product_stats_history_default PARTITION OF product_stats_history DEFAULT;
SELECT marketplaced_ensure_partitions('price_history', 1, 3);
SELECT marketplaced_ensure_partitions('product_stats_history', 1, 3);

-- Ids without a product, compactly: one bit per id, 8192 ids per row (1 KiB). A set bit means
-- "the last visit found no product". ~3 M ids fit in ~370 rows instead of a row per id per cycle.
CREATE TABLE uzum_missing (
    chunk      bigint PRIMARY KEY,              -- id / 8192
    bits       bit(8192) NOT NULL,              -- bit (id % 8192), leftmost first; updated with | and &
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- How the upstream said "no product" (404, empty body, payload null …): the real behaviour
-- is not documented, so we count the forms we actually see.
CREATE TABLE uzum_miss_forms (
    form       text PRIMARY KEY,
    seen       bigint NOT NULL DEFAULT 0,
    last_id    bigint,
    last_seen  timestamptz NOT NULL DEFAULT now()
);
