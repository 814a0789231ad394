-- The totals of the lists ranked by a built period ("10 000+ products", a category's count):
-- the period's rows with sales in it, counted from an index of only those rows (read without
-- the table), instead of a scan of the table past the other periods' rows, or every row of a
-- category's products fetched to see whether it sold in the period.
CREATE INDEX sales_periods_current ON sales_periods (level, days, category_id) WHERE current;
