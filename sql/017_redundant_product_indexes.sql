-- products_category (category_id) and products_seller (seller_id) are prefixes of
-- products_category_orders (category_id, orders_amount DESC, id DESC) and products_seller_orders
-- (005), which serve every lookup the short ones did. Each costs an index entry per product
-- written and its pages on disk: drop them.
DROP INDEX IF EXISTS products_category;
DROP INDEX IF EXISTS products_seller;
