-- Per-visit facts of Uzum products move out of the wide entity rows into one narrow table, so
-- an unchanged visit no longer rewrites a product row (TOASTed description, photos, attributes)
-- and its SKU rows just to move `last_seen`: the entity rows are written only when a stored
-- value changed, and each visit updates one ~70-byte row here.
--
-- HOT-friendly by construction: the only index is the primary key, which never changes, and
-- fillfactor 50 leaves room on every page for one new version of each of its rows. A writer
-- batch covers ~2,000 consecutive ids, so all rows of a page are updated in ONE transaction,
-- while none of their old versions is dead yet: the page must hold both versions at once or
-- the updates spill to other pages (non-HOT, index entries, bloat). From the next pass on, the
-- previous versions are dead and page pruning reclaims them without waiting for vacuum.
CREATE TABLE uzum_visits (
    product_id  bigint PRIMARY KEY,
    visited_at  timestamptz NOT NULL,          -- last visit, whatever it found
    last_seen   timestamptz NOT NULL,          -- last visit that found the product
    outcome     text NOT NULL,                 -- the last visit: changed / reparsed / unchanged / missing
    -- 64-bit fingerprint of the body the stored rows were made from (NULL: unknown, parse the
    -- next body); written in the writer transaction that stores those rows, never alone
    fingerprint bigint
) WITH (
    fillfactor = 50,
    -- dead versions are mostly pruned on the page; vacuum still has to clear the rest and keep
    -- the visibility map current, so it runs after 2 % of the rows changed instead of 20 %
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.05
);

INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome)
SELECT id, last_seen, last_seen, 'changed' FROM products;

-- A SKU's last_seen is NULL while its product's last stored content lists it (it was then seen
-- at the product's last visit, uzum_visits.last_seen); it is set to that visit's time when the
-- SKU drops out of the product, and cleared again if the SKU comes back.
ALTER TABLE skus ALTER COLUMN last_seen DROP NOT NULL, ALTER COLUMN last_seen DROP DEFAULT;
UPDATE skus k SET last_seen = NULL
FROM products p WHERE p.id = k.product_id AND k.last_seen >= p.last_seen;

-- products.last_seen lives in uzum_visits now (its index went with it); keeping a column that
-- no longer moves would let a forgotten reader show stale times instead of failing loudly
ALTER TABLE products DROP COLUMN last_seen;
