-- The trends page's new products that already sell, best-selling first: an index of only those
-- rows, in the list's order, so the list stops at its tenth row. Without it the list walked a
-- period's products by units looking for new ones — every product with sales when there are
-- none (hundreds of thousands of rows at full scale).
CREATE INDEX sales_periods_new ON sales_periods (level, days, units DESC, revenue DESC, id)
    WHERE is_new AND units > 0;
