-- The change rate (per hour) each id's last visit estimated, for ranking claims when more is
-- due than the request budget allows (marketplaced/platforms/uzum/claims.py). Stored rather
-- than recomputed per claim because its prior needs the product's order counter from another
-- table; not indexed, like lease_until, so setting it keeps updates as cheap as they were.
ALTER TABLE uzum_schedule ADD COLUMN rate_h real NOT NULL DEFAULT 0;
