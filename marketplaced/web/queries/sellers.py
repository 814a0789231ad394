"""Seller reads: the ranking, one seller's figures and categories (its sales over a period
are queries/seller_sales.py).

Rankings by the seller's own published figures (orders, rating, reviews) read `sellers`
through an index per sort; rankings by catalogue size or estimated revenue read the
`web_seller_totals` summary. Both are keyset-paginated with the seller id as tie-breaker.

With a category (`SellerScope`), the list holds the sellers with products in it or below it,
and every figure that can be told per category is that category's: products and estimated
revenue from `web_category_sellers` (a row per category level, subcategories included), units,
revenue and growth from the product rollups of the subtree — "who sells in this category" —
while the seller's own published figures (orders, rating, reviews) stay whole. Stock is not
summarised per category, so it is left empty then rather than shown for the whole catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from marketplaced.web import sales_window as sw
from marketplaced.web.listing import Column, Count, ListQuery, Where
from marketplaced.web.sales_window import SalesWindow
from marketplaced.web.search import SearchTerms

# "revenue" is the catalogue estimate (lifetime orders × cheapest price); "sales_revenue" is
# the measured revenue of the chosen period
SELLER_SORTS = (
    "relevance",
    "orders",
    "rating",
    "reviews",
    "products",
    "revenue",
    "units",
    "sales_revenue",
    "growth",
)
_SALES_SORTS = {"units": "units", "sales_revenue": "revenue", "growth": "growth"}
_SALES = ("sales_seller_daily", "seller_id")
#: totals are counted up to this many sellers
MAX_COUNT = 100_000
_OWN_SORTS = {
    "orders": ("coalesce(s.orders, 0)", int),
    "rating": ("coalesce(s.rating, 0)", float),
    "reviews": ("coalesce(s.reviews, 0)", int),
}
_TOTAL_SORTS = {"products": ("t.products", int), "revenue": ("t.revenue_est", int)}

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
SELLER_SALES_COLUMNS = SELLER_COLUMNS + sw.SALES_COLUMNS


@dataclass(frozen=True, slots=True)
class SellerScope:
    """A category and its subtree's ids (the category first)."""

    category: int
    subtree: Sequence[int]


def _totals(w: Where, scope: SellerScope | None) -> str:
    """The per-seller catalogue figures joined as `t`: the whole catalogue's, or the scope's."""
    if scope is None:
        return "web_seller_totals"
    mark = w.param(scope.category)
    return (
        "(SELECT seller_id, products, NULL::bigint AS in_stock, revenue_est "  # noqa: S608 - constant fragments, values are $n parameters
        f"FROM web_category_sellers WHERE category_id = {mark})"
    )


def _sales_of(w: Where, scope: SellerScope | None) -> tuple[str, str, str]:
    """(table, key, condition) of the rollup the sales figures sum: the seller's rows, or its
    products' rows in the scope's subtree."""
    if scope is None:
        return (*_SALES, "")
    mark = w.param(list(scope.subtree))
    return "sales_product_daily", "seller_id", f"category_id = ANY({mark}::integer[])"


def is_sales_sort(sort: str) -> bool:
    return sort in _SALES_SORTS


def sort_kinds(sort: str) -> tuple[type, ...]:
    if sort in _SALES_SORTS:
        return ()
    if sort == "relevance":
        return (float, int)
    kind = (_OWN_SORTS | _TOTAL_SORTS)[sort][1]
    return (kind, int)


def _filters(
    w: Where, q: SearchTerms | None, official: bool, scope: SellerScope | None = None
) -> None:
    if q is not None:
        q.trigram_filter(w, "s.search_text")
    if official:
        w.add("s.official")
    if scope is not None:
        w.add(
            "s.id IN (SELECT seller_id FROM web_category_sellers WHERE category_id = {})",
            scope.category,
        )


def seller_ranking(
    sort: str,
    q: SearchTerms | None,
    official: bool,
    cursor: tuple[object, ...] | None,
    limit: int,
    sales: SalesWindow | None = None,
    offset: int = 0,
    scope: SellerScope | None = None,
) -> ListQuery:
    """`sort` as resolved by `catalog.resolve_sort` (relevance only with a search); with
    `sales`, each row carries its figures over that window; with `scope`, only the sellers of
    that category, with its figures."""
    w = Where()
    _filters(w, q, official, scope)
    if sort in _SALES_SORTS:
        if sales is None:
            raise ValueError(f"sort {sort!r} needs a sales period")
        return _by_sales(w, _SALES_SORTS[sort], sales, offset, limit, scope)
    # every parameter before the inner LIMIT's, which must stay the last one
    totals = _totals(w, scope)
    sales_of = _sales_of(w, scope) if sales is not None else None
    if sort in _OWN_SORTS or (sort == "relevance" and q is not None):
        key, cast = _OWN_SORTS.get(sort, ("", int))[0], ""
        if sort == "relevance" and q is not None:
            key, cast = q.trigram_score(w, "s.search_text"), "::real"
        if cursor is not None:
            w.add(f"({key}, s.id) < ({{}}{cast}, {{}})", *cursor)
        inner = (
            f"SELECT s.*, {key} AS sort_key FROM sellers s WHERE {w.sql} "  # noqa: S608 - constant fragments, values are $n parameters
            f"ORDER BY {key} DESC, s.id DESC LIMIT {w.next_mark()}"
        )
        source = f"({inner}) s LEFT JOIN {totals} t ON t.seller_id = s.id"
    else:
        key = _TOTAL_SORTS[sort][0]
        if cursor is not None:
            w.add(f"({key}, t.seller_id) < ({{}}, {{}})", *cursor)
        inner = (
            f"SELECT t.*, {key} AS sort_key FROM {totals} t "  # noqa: S608 - constant fragments, values are $n parameters
            f"JOIN sellers s ON s.id = t.seller_id WHERE {w.sql} "
            f"ORDER BY {key} DESC, t.seller_id DESC LIMIT {w.next_mark()}"
        )
        source = f"({inner}) t JOIN sellers s ON s.id = t.seller_id"
    cols = join = ""
    if sales is not None and sales_of is not None:
        cols = ", " + sw.figure_columns(sales)
        join = (
            sw.joined(sales, *sales_of[:2], "s.id", "s")
            if scope is None
            else sw.lateral(sales, *sales_of[:2], "s.id", sales_of[2])
        )
    sql = (
        "SELECT s.id, s.title, s.official, s.rating, s.reviews, s.orders, t.products, "  # noqa: S608 - constant fragments, values are $n parameters
        f"t.in_stock, t.revenue_est, sort_key{cols} FROM {source}{join} "
        "ORDER BY sort_key DESC, s.id DESC"
    )
    columns = SELLER_COLUMNS if sales is None else SELLER_SALES_COLUMNS
    return ListQuery(sql, tuple(w.args), columns, limit, keyset=("sort_key", "id"))


_FROM_SALES = """
FROM {ranked} JOIN sellers s ON s.id = sc.id
LEFT JOIN {totals} t ON t.seller_id = s.id WHERE {where}"""


# a built period's sums per seller of a category (sql/025_sales_period_category_sellers.sql),
# named as `figure_columns` and `built_order` read them
_BUILT_SCOPE = """(SELECT seller_id AS id, units, revenue, units_orders, units_stock, units_split,
        observations, prev_units, growth_pct
    FROM sales_period_category_sellers WHERE days = {days:d} AND category_id = {mark}) sc
CROSS JOIN LATERAL (SELECT sc.prev_units AS units) sp"""


def _from_sales(w: Where, sales: SalesWindow, scope: SellerScope | None) -> str:
    if scope is not None and sales.precomputed:
        # the category's sellers as the period's build summed them: an index walk in the
        # list's order, not a sum over every product of the subtree
        mark = w.param(scope.category)
        ranked = _BUILT_SCOPE.format(days=sales.period.days, mark=mark)
    else:
        ranked = sw.ranked(sales, *_sales_of(w, scope))
    return _FROM_SALES.format(ranked=ranked, totals=_totals(w, scope), where=w.sql)


def _sales_order(sort: str, sales: SalesWindow, scope: SellerScope | None) -> str:
    if scope is not None and sales.precomputed:
        return sw.built_order(sales, sort)
    return sw.order_of(sort, "s.id")


def _by_sales(
    w: Where, sort: str, sales: SalesWindow, offset: int, limit: int, scope: SellerScope | None
) -> ListQuery:
    """Sellers with sales rows in the period, by units, revenue or growth (offset paging)."""
    source = _from_sales(w, sales, scope)
    mark = w.param(offset)
    sql = (
        "SELECT s.id, s.title, s.official, s.rating, s.reviews, s.orders, t.products, "
        f"t.in_stock, t.revenue_est, {sw.figure_columns(sales)}{source} "
        f"ORDER BY {_sales_order(sort, sales, scope)} OFFSET {mark} LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), SELLER_SALES_COLUMNS, limit, offset=offset)


def seller_count(
    sort: str,
    q: SearchTerms | None,
    official: bool,
    sales: SalesWindow | None,
    scope: SellerScope | None = None,
) -> Count:
    """SQL and arguments counting the sellers the filters match (with a sales sort: those with
    sales rows in the period), up to MAX_COUNT + 1."""
    w = Where()
    _filters(w, q, official, scope)
    source = "FROM sellers s WHERE " + w.sql
    if sort in _SALES_SORTS and sales is not None:
        source = _from_sales(w, sales, scope)
    sql = f"SELECT count(*) FROM (SELECT 1 {source} LIMIT {MAX_COUNT + 1}) x"  # noqa: S608 - constant fragments
    return Count(sql, tuple(w.args), MAX_COUNT)


_SELLER = """
SELECT s.*, t.products, t.in_stock, t.orders AS product_orders, t.revenue_est, t.categories
FROM sellers s LEFT JOIN web_seller_totals t ON t.seller_id = s.id WHERE s.id = $1"""

_CATEGORIES = """
SELECT cs.category_id, c.title AS category, cs.products, cs.orders, cs.revenue_est
FROM web_category_sellers cs LEFT JOIN categories c ON c.id = cs.category_id
WHERE cs.seller_id = $1 AND cs.direct ORDER BY cs.orders DESC, cs.category_id LIMIT 30"""


async def seller(pool: asyncpg.Pool, sid: int) -> asyncpg.Record | None:
    return await pool.fetchrow(_SELLER, sid)


async def seller_categories(pool: asyncpg.Pool, sid: int) -> list[asyncpg.Record]:
    return await pool.fetch(_CATEGORIES, sid)
