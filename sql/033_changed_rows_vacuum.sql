-- The row versions a changed pass leaves dead are reclaimed before the next one (README "What
-- is stored"). A visit that finds a new price or stock writes a new version of the product's
-- SKU rows (and of the product row when orders, rating or stock moved); those columns are
-- indexed, so the update cannot stay on its page (no HOT) and the new versions go to the
-- table's free space, or to new pages at its end. Autovacuum's default waits until 20 % of a
-- table's rows are dead: the re-scan benchmark's changed pass (1 product in 7) leaves ~14 %,
-- so the next changed pass found no reclaimed space and grew the tables again, and so on
-- until a fifth of every table was dead versions. From 5 % of the rows on, the dead versions
-- of each changed pass are vacuumed and their space serves the next one. A vacuum of these
-- tables reads only the pages with dead versions (the visibility map skips the others).
-- A lower fillfactor (room on each page for the new versions) was the alternative: it costs
-- its free share of the first pass's size at once (products and SKUs are most of it), for
-- growth that vacuum reclaims anyway.
ALTER TABLE skus SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE products SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
