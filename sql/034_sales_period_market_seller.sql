-- A seller's category mix over a built period (yesterday, the last 7 or 30 days): its rows of
-- the period's sums per (category, seller, product, band) — a row per product, not per
-- product-day — found by seller (web/queries/seller_sales.py).
CREATE INDEX sales_period_market_seller ON sales_period_market (days, previous, seller_id);
