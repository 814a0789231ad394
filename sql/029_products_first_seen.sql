-- Products by the time they were first seen: "new products found in the last hour" (the status
-- page, /metrics and `marketplaced status` in adaptive mode) reads the newest entries of this
-- index instead of scanning the whole products table (a second or more at 1.5 M products, on
-- every scrape). first_seen never changes once written, so updates stay HOT where they were.
CREATE INDEX products_first_seen ON products (first_seen);
