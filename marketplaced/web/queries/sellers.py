"""Seller reads: the ranking, one seller's figures, categories and order trend.

Rankings by the seller's own published figures (orders, rating, reviews) read `sellers`
through an index per sort; rankings by catalogue size or estimated revenue read the
`web_seller_totals` summary. Both are keyset-paginated with the seller id as tie-breaker.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from marketplaced.web.listing import Column, ListQuery, Where
from marketplaced.web.search import SearchTerms

SELLER_SORTS = ("relevance", "orders", "rating", "reviews", "products", "revenue")
_OWN_SORTS = {
    "orders": ("coalesce(s.orders, 0)", int),
    "rating": ("coalesce(s.rating, 0)", float),
    "reviews": ("coalesce(s.reviews, 0)", int),
}
_TOTAL_SORTS = {"products": ("t.products", int), "revenue": ("t.revenue_est", int)}
#: the trend follows a seller's best-selling products only, so a seller with 100 000 products
#: costs what one with 300 costs; the page says so
TREND_PRODUCTS = 300
#: the trend covers 13 weeks; rows up to 31 days older are read too, so the first week's
#: increases have a previous value to be measured from (one extra monthly partition at most)
TREND_DAYS = 91

SELLER_COLUMNS = (
    Column("id", "ID", "int", link="/sellers/{id}"),
    Column("title", "Seller", link="/sellers/{id}"),
    Column("official", "Official"),
    Column("rating", "Rating", "rating"),
    Column("reviews", "Reviews", "int"),
    Column("orders", "Orders (Uzum)", "int"),
    Column("products", "Products", "int"),
    Column("in_stock", "In stock", "int"),
    Column("revenue_est", "Est. revenue, so'm", "money"),
)


def sort_kinds(sort: str) -> tuple[type, ...]:
    if sort == "relevance":
        return (float, int)
    kind = (_OWN_SORTS | _TOTAL_SORTS)[sort][1]
    return (kind, int)


def seller_ranking(
    sort: str, q: SearchTerms | None, official: bool, cursor: tuple[object, ...] | None, limit: int
) -> ListQuery:
    """`sort` as resolved by `catalog.resolve_sort` (relevance only with a search)."""
    w = Where()
    if q is not None:
        q.filter(w, "s.search_text")
    if official:
        w.add("s.official")
    if sort in _OWN_SORTS or (sort == "relevance" and q is not None):
        key, cast = _OWN_SORTS.get(sort, ("", int))[0], ""
        if sort == "relevance" and q is not None:
            key, cast = q.score(w, "s.search_text"), "::real"
        if cursor is not None:
            w.add(f"({key}, s.id) < ({{}}{cast}, {{}})", *cursor)
        inner = (
            f"SELECT s.*, {key} AS sort_key FROM sellers s WHERE {w.sql} "  # noqa: S608 - constant fragments, values are $n parameters
            f"ORDER BY {key} DESC, s.id DESC LIMIT {w.next_mark()}"
        )
        source = f"({inner}) s LEFT JOIN web_seller_totals t ON t.seller_id = s.id"
    else:
        key = _TOTAL_SORTS[sort][0]
        if cursor is not None:
            w.add(f"({key}, t.seller_id) < ({{}}, {{}})", *cursor)
        inner = (
            f"SELECT t.*, {key} AS sort_key FROM web_seller_totals t "  # noqa: S608 - constant fragments, values are $n parameters
            f"JOIN sellers s ON s.id = t.seller_id WHERE {w.sql} "
            f"ORDER BY {key} DESC, t.seller_id DESC LIMIT {w.next_mark()}"
        )
        source = f"({inner}) t JOIN sellers s ON s.id = t.seller_id"
    sql = (
        "SELECT s.id, s.title, s.official, s.rating, s.reviews, s.orders, t.products, "  # noqa: S608 - constant fragments, values are $n parameters
        f"t.in_stock, t.revenue_est, sort_key FROM {source} ORDER BY sort_key DESC, s.id DESC"
    )
    return ListQuery(sql, tuple(w.args), SELLER_COLUMNS, limit, keyset=("sort_key", "id"))


_SELLER = """
SELECT s.*, t.products, t.in_stock, t.orders AS product_orders, t.revenue_est, t.categories
FROM sellers s LEFT JOIN web_seller_totals t ON t.seller_id = s.id WHERE s.id = $1"""

_CATEGORIES = """
SELECT cs.category_id, c.title AS category, cs.products, cs.orders, cs.revenue_est
FROM web_category_sellers cs LEFT JOIN categories c ON c.id = cs.category_id
WHERE cs.seller_id = $1 AND cs.direct ORDER BY cs.orders DESC, cs.category_id LIMIT 30"""

# Order counts are cumulative and change-based: a product's orders in a week are the sum of
# its increases (lag over its own rows); decreases (upstream corrections) count as zero.
_TREND = """
WITH top AS (
    SELECT id FROM products WHERE seller_id = $1
    ORDER BY orders_amount DESC, id DESC LIMIT $3
), d AS (
    SELECT h.observed_at,
           h.orders_amount - lag(h.orders_amount) OVER (
               PARTITION BY h.product_id ORDER BY h.observed_at) AS delta
    FROM top JOIN product_stats_history h ON h.product_id = top.id
    WHERE h.observed_at >= $2::timestamptz - interval '31 days'
)
SELECT date_trunc('week', observed_at) AS week, sum(greatest(delta, 0))::bigint AS orders
FROM d WHERE observed_at >= $2 AND delta IS NOT NULL
GROUP BY 1 ORDER BY 1"""


async def seller(pool: asyncpg.Pool, sid: int) -> asyncpg.Record | None:
    return await pool.fetchrow(_SELLER, sid)


async def seller_categories(pool: asyncpg.Pool, sid: int) -> list[asyncpg.Record]:
    return await pool.fetch(_CATEGORIES, sid)


async def seller_trend(pool: asyncpg.Pool, sid: int, since: datetime) -> list[asyncpg.Record]:
    return await pool.fetch(_TREND, sid, since, TREND_PRODUCTS)
