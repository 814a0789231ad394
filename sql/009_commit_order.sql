-- Alerts and analytics follow what was committed, in commit order, not the time rows were
-- stamped: a batch stamped at T may commit long after T (a lock held on `skus`), behind a
-- watermark that already passed T. Every writer batch adds one row here as the last step of
-- its transaction, under a transaction-scoped advisory lock, so `seq` grows in commit order:
-- once a reader sees seq N, every batch numbered below N is committed and visible too.
CREATE TABLE writer_commits (
    seq           bigserial PRIMARY KEY,
    observed_at   timestamptz NOT NULL         -- the batch's stamp (observed_at of its rows)
);
CREATE INDEX writer_commits_observed ON writer_commits (observed_at);

-- Delivery asks, per channel, which events it has not received: by event id inside the arrays.
CREATE INDEX alert_deliveries_events ON alert_deliveries USING gin (event_ids);
CREATE INDEX alert_deliveries_channel ON alert_deliveries (channel);
