-- The writer rewrites every SKU row it sees (last_seen moves), so every index on skus costs
-- on each batch. skus_product (product_id) is a prefix of skus_product_price
-- (product_id, purchase_price, id) from 005, which serves the same lookups: drop it.
DROP INDEX IF EXISTS skus_product;
