-- What each product's next observation is counted against, kept by the sales rollup itself
-- (marketplaced/sales/increment.py): the last observation folded into the day rows, the order
-- counter and every SKU's price and stock in effect after it. With it the minute job counts
-- only the intervals a batch added — one row per product read, instead of the product's whole
-- day of history and a per-SKU probe of every history partition — and adds them to the day
-- rows. A product without a row here (new, or before this table existed) or whose batch rows
-- are older than its row (a late batch) is recomputed from history as before, which rewrites
-- its row.
--
-- Narrow and updated in place once per visit that changed something: no index but the key and
-- room on each page for the new version, so the updates stay HOT.
CREATE TABLE sales_carry (
    product_id   bigint PRIMARY KEY,
    observed_at  timestamptz NOT NULL,     -- the last observation folded
    orders       bigint,                   -- the order counter in effect (NULL: never seen)
    sku_ids      bigint[] NOT NULL,        -- per SKU, in the same order:
    prices       bigint[] NOT NULL,        --   purchase price in effect
    stocks       bigint[] NOT NULL         --   available amount in effect
) WITH (fillfactor = 70);

-- Today's day rows are rewritten at every visit that changed something: leave room on each
-- page so the new version lands beside the old one (HOT: no new entries in their indexes).
-- Applies to pages written from now on.
ALTER TABLE sales_product_daily SET (fillfactor = 80);
ALTER TABLE sales_sku_daily SET (fillfactor = 80);
ALTER TABLE sales_seller_daily SET (fillfactor = 80);
ALTER TABLE sales_category_daily SET (fillfactor = 80);
