-- UZEX (government procurement exchange): lots of every module, their items, the parties behind
-- them, the reference lists and change-based status history. The old system's table names are
-- kept (uzex_lots, uzex_lot_items, uzex_categories, uzex_products) so existing queries keep
-- working. Auction, shop, national-shop and e-tender number their lots independently, so every
-- lot is keyed by (lot_type, lot_id). Upstream dates carry no zone: they are Asia/Tashkent local
-- time, stored here as timestamptz. Money is so'm with tiyin: NUMERIC(20,2).

CREATE TABLE uzex_lots (
    lot_type             text NOT NULL CHECK (lot_type IN ('auction', 'shop', 'national', 'etender')),
    lot_id               bigint NOT NULL,             -- lot_id / id (active lists) / trade_id (e-tender)
    display_no           text,                        -- the number the website shows
    deal_id              bigint,                      -- NULL while the lot is active
    status               text NOT NULL CHECK (status IN ('active', 'completed')),
    start_date           timestamptz,
    end_date             timestamptz,
    deal_date            timestamptz,
    start_cost           numeric(20, 2),
    deal_cost            numeric(20, 2),
    currency             text,
    participants         integer,
    category_name        text,
    customer_inn         text,                        -- 9-digit INN or 14-digit PINFL; NULL when absent
    customer_name        text,
    customer_region      text,
    provider_inn         text,
    provider_name        text,
    provider_region      text,
    is_budget            boolean,                     -- state-funded customer vs corporate
    type_name            text,
    kazna_status         text,                        -- treasury registration of the contract
    kazna_payment_status text,                        -- treasury payment status ("Оплачен" …)
    deal_status_name     text,
    extra                jsonb NOT NULL DEFAULT '{}', -- every upstream field not mapped to a column
    first_seen           timestamptz NOT NULL DEFAULT now(),
    last_seen            timestamptz NOT NULL DEFAULT now(),
    completed_seen       timestamptz,                 -- when we first saw it completed
    PRIMARY KEY (lot_type, lot_id)
);
-- "what did customer X buy", "what did provider Y win", both by period; partial because a
-- NULL INN is never asked for and active lots have no provider
CREATE INDEX uzex_lots_customer ON uzex_lots (customer_inn, deal_date) WHERE customer_inn IS NOT NULL;
CREATE INDEX uzex_lots_provider ON uzex_lots (provider_inn, deal_date) WHERE provider_inn IS NOT NULL;
-- "by month": range scans over deal dates of every type
CREATE INDEX uzex_lots_deal_date ON uzex_lots (deal_date);
-- the active lots still open, for refresh and the dashboard
CREATE INDEX uzex_lots_active ON uzex_lots (lot_type, end_date) WHERE status = 'active';

-- One line of a lot. Shop rows are their own single item (line 1).
CREATE TABLE uzex_lot_items (
    lot_type    text NOT NULL,
    lot_id      bigint NOT NULL,
    line_no     integer NOT NULL,                    -- order_num upstream, else the position
    name        text,                                -- product_name, else the description's start
    description text,
    quantity    numeric,                             -- floats upstream (0.5 kg, 285 pieces)
    unit        text,                                -- the "Единица измерения" property
    unit_price  numeric(20, 2),
    cost        numeric(20, 2),                      -- line total
    country     text,
    currency    text,
    properties  jsonb NOT NULL DEFAULT '[]',
    -- 'active': start prices from an open lot; 'completed': the deal's prices. A completed line
    -- is never overwritten by an active one (an active list read late must not undo a deal).
    priced_as   text NOT NULL CHECK (priced_as IN ('active', 'completed')),
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lot_type, lot_id, line_no)
);
-- "price of item Z across lots": equality or prefix on the lower-cased name
CREATE INDEX uzex_lot_items_name ON uzex_lot_items (lower(name) text_pattern_ops);

-- The catalogue of distinct item names (one row per lower-cased name) with the latest unit and
-- unit price seen, so a user can look a product up by name and then list its prices across
-- lots through uzex_lot_items (lower(name) = name_key, served by uzex_lot_items_name). The
-- "latest" is by the lot's deal (or start) date, not by when we read it: the backfill runs
-- newest first, so the order of reading says nothing about the order of deals.
CREATE TABLE uzex_products (
    name_key   text PRIMARY KEY,                     -- lower(name)
    name       text NOT NULL,                        -- the spelling of the latest lot
    unit       text,
    unit_price numeric(20, 2),
    price_at   timestamptz,                          -- deal (or start) date of that lot
    lot_type   text,
    lot_id     bigint,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uzex_products_prefix ON uzex_products (name_key text_pattern_ops);

-- Customers and providers by INN (9 digits, legal entity) or PINFL (14 digits, individual).
-- Names change over time: `name` is the one of the most recent deal (`name_at`), not of the
-- last row read. first_deal/last_deal bound the deals (or lot starts) the party appears in.
CREATE TABLE uzex_parties (
    inn        text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('customer', 'provider')),
    name       text,
    name_at    timestamptz,
    first_deal timestamptz,
    last_deal  timestamptz,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (inn, kind)
);
CREATE INDEX uzex_parties_name ON uzex_parties (lower(name) text_pattern_ops);

CREATE TABLE uzex_categories (
    id         bigint PRIMARY KEY,
    name       text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE uzex_regions (
    id         bigint PRIMARY KEY,
    name       text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);

-- A row when a lot is first seen and whenever its status, deal cost, treasury or deal status
-- changed (active → completed, "Не оплачен" → "Оплачен" …). A few rows per lot and well under
-- a million lots a year: no partitioning needed.
CREATE TABLE uzex_lot_status_history (
    lot_type             text NOT NULL,
    lot_id               bigint NOT NULL,
    observed_at          timestamptz NOT NULL,
    status               text NOT NULL,
    deal_cost            numeric(20, 2),
    kazna_status         text,
    kazna_payment_status text,
    deal_status_name     text,
    PRIMARY KEY (lot_type, lot_id, observed_at)
);
CREATE INDEX uzex_lot_status_history_observed ON uzex_lot_status_history (observed_at);
