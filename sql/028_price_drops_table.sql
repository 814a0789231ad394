-- Price drops of the last 14 days: a table kept by the summaries refresh (marketplaced/web/
-- price_drops.py) instead of a materialized view recomputed whole. The refresh recomputes only
-- the SKUs that committed batches wrote rows for since the last one (`commit_seq`, the commit
-- log's number it reached) and drops the rows that left the window; the first refresh after
-- this migration builds the whole window. Same columns and indexes as the view.
DROP MATERIALIZED VIEW web_price_drops;
CREATE TABLE web_price_drops (
    sku_id       bigint NOT NULL,
    product_id   bigint NOT NULL,
    observed_at  timestamptz NOT NULL,
    old_price    bigint NOT NULL,
    new_price    bigint NOT NULL,
    drop_pct     numeric NOT NULL,
    PRIMARY KEY (sku_id, observed_at)
);
CREATE INDEX web_price_drops_pct ON web_price_drops (drop_pct DESC, sku_id DESC, observed_at DESC);
CREATE INDEX web_price_drops_product ON web_price_drops (product_id);
ALTER TABLE web_summary_refreshes ADD COLUMN commit_seq bigint;
-- the view's last refresh does not say which batches it had seen
DELETE FROM web_summary_refreshes WHERE name = 'web_price_drops';
