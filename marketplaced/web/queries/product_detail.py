"""One product as its page and the API show it: the product, its SKUs and their history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from marketplaced.web.listing import Reader

#: a product page draws at most this many history rows; a product with 100 SKUs changing
#: daily for a year stays under it, and a pathological one cannot stall the page
HISTORY_ROW_CAP = 20_000

_PRODUCT = """
SELECT p.*, coalesce(v.last_seen, p.updated_at) AS last_seen, v.visited_at AS checked_at,
       c.title AS category, s.title AS seller, s.link AS seller_link
FROM products p
LEFT JOIN uzum_visits v ON v.product_id = p.id
LEFT JOIN categories c ON c.id = p.category_id
LEFT JOIN sellers s ON s.id = p.seller_id
WHERE p.id = $1"""

_SKUS = """
SELECT k.id, k.full_price, k.purchase_price, k.available_amount, k.barcode, k.stock_type,
       k.delivery_days, k.characteristics, k.discount_badge, k.first_seen,
       coalesce(k.last_seen, v.last_seen, k.first_seen) AS last_seen
FROM skus k LEFT JOIN uzum_visits v ON v.product_id = k.product_id
WHERE k.product_id = $1 ORDER BY k.purchase_price, k.id"""

# Rows inside the window plus, per SKU, the last row before it (the value in force at the
# window's start), capped. The probes use the (sku_id, observed_at) primary key.
_PRICE_HISTORY = """
SELECT * FROM (
    SELECT sku_id, observed_at, purchase_price, full_price, available_amount
    FROM price_history WHERE product_id = $1 AND observed_at >= $2
    UNION ALL
    SELECT b.* FROM unnest($3::bigint[]) AS s(id)
    CROSS JOIN LATERAL (
        SELECT sku_id, observed_at, purchase_price, full_price, available_amount
        FROM price_history WHERE sku_id = s.id AND observed_at < $2
        ORDER BY observed_at DESC LIMIT 1) b
) h ORDER BY sku_id, observed_at LIMIT $4"""

_STATS_HISTORY = """
SELECT * FROM (
    SELECT observed_at, orders_amount, reviews_amount, rating, total_available
    FROM product_stats_history WHERE product_id = $1 AND observed_at >= $2
    UNION ALL
    (SELECT observed_at, orders_amount, reviews_amount, rating, total_available
     FROM product_stats_history WHERE product_id = $1 AND observed_at < $2
     ORDER BY observed_at DESC LIMIT 1)
) h ORDER BY observed_at LIMIT $3"""


async def product(pool: Reader, pid: int) -> asyncpg.Record | None:
    return await pool.fetchrow(_PRODUCT, pid)


async def skus(pool: Reader, pid: int) -> list[asyncpg.Record]:
    return await pool.fetch(_SKUS, pid)


async def price_history(
    pool: Reader, pid: int, sku_ids: Sequence[int], since: datetime
) -> list[asyncpg.Record]:
    return await pool.fetch(_PRICE_HISTORY, pid, since, list(sku_ids), HISTORY_ROW_CAP)


async def stats_history(pool: Reader, pid: int, since: datetime) -> list[asyncpg.Record]:
    return await pool.fetch(_STATS_HISTORY, pid, since, HISTORY_ROW_CAP)
