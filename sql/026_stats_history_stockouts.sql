-- The stats rows at zero total stock, by time: the Trends page's revenue lost to out-of-stock
-- days (marketplaced/web/queries/stockouts.py) reads the stock history of only the products
-- that had such a row in its window, found through this index, instead of every product's.
-- Partial: a product is out of stock in few of its rows, so the index stays small.
CREATE INDEX product_stats_history_stockouts ON product_stats_history (observed_at, product_id)
    WHERE total_available = 0;
