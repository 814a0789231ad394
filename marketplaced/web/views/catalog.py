"""Products and sellers lists with filters (and their CSV); a product's page is
views/product.py, a seller's views/seller.py.

Each list has one builder that reads and validates the query string into a `ListQuery`;
the page, its CSV twin and the JSON API all call it, so they always agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from marketplaced.jobs import triggers
from marketplaced.web import export, listing, search
from marketplaced.web import param_spec as ps
from marketplaced.web import sales_window as sw
from marketplaced.web.figures_cache import WORD_SHARES
from marketplaced.web.listing import Count, ListQuery, Reader
from marketplaced.web.param_spec import MAX_CSV_LIMIT, MAX_QUERY_LEN
from marketplaced.web.params import ParamError, Params, range_check
from marketplaced.web.queries import catalog, seller_sales, sellers
from marketplaced.web.queries.catalog import CategoryTree, ProductFilter
from marketplaced.web.sales_window import SalesWindow
from marketplaced.web.search import SearchTerms, search_terms
from marketplaced.web.views.common import (
    CONFIG,
    category_tree,
    csv_all_link,
    fmt,
    is_export,
    list_response,
    page_response,
    params,
    pool,
    state,
    zone,
)

#: history shown on a product page by default, and the longest a user may ask for
HISTORY_DAYS, MAX_HISTORY_DAYS = 180, 3650
#: the largest price a filter accepts (so'm); far above anything sold, far below bigint
MAX_PRICE = 10**12

PRODUCT_PARAMS = (
    ps.search("title search, uz or ru"),
    ps.CATEGORY,
    ps.integer("seller", "seller id"),
    ps.integer("min_price", "cheapest SKU at least (so'm)", hi=MAX_PRICE),
    ps.integer("max_price", "cheapest SKU at most (so'm)", hi=MAX_PRICE),
    ps.flag("in_stock", "only products with stock"),
    ps.number("min_rating", "rating at least", lo=0, hi=5),
    ps.integer("min_orders", "orders at least"),
    ps.choice(
        "sort",
        "order (default: relevance with q, else orders); units, revenue and growth are over "
        "the sales period and page by offset",
        catalog.PRODUCT_SORTS,
    ),
    *sw.PERIOD_PARAMS,
    ps.LIMIT,
    ps.CURSOR,
    ps.OFFSET,
)
HISTORY_PARAMS = (
    ps.integer("days", "history window, days", lo=1, hi=MAX_HISTORY_DAYS, default=HISTORY_DAYS),
)
SELLER_PARAMS = (
    ps.text("q", "seller name contains", max_len=MAX_QUERY_LEN),
    ps.flag("official", "official stores only"),
    ps.integer(
        "category",
        "Uzum category id: its sellers, with their products, estimated revenue and sales in it "
        "and its subcategories",
        hi=ps.INT_MAX,
    ),
    ps.choice(
        "sort",
        "ranking (default: relevance with q, else orders); revenue is the catalogue estimate, "
        "units, sales_revenue and growth are measured over the sales period (offset paging)",
        sellers.SELLER_SORTS,
    ),
    *sw.PERIOD_PARAMS,
    ps.LIMIT,
    ps.CURSOR,
    ps.OFFSET,
)


def query_terms(p: Params) -> SearchTerms | None:
    """`q` folded for search; a `q` without a letter or digit is an error, not "match all"."""
    q = p.text("q")
    if q is None:
        return None
    terms = search_terms(q)
    if terms is None:
        raise ParamError(f"parameter 'q' has no letter or digit to search for: {q!r}")
    return terms


def category_ids(tree: CategoryTree, category: int | None) -> list[int] | None:
    return None if category is None else tree.subtree(category)


async def sales_window(request: web.Request, p: Params, db: Reader | None = None) -> SalesWindow:
    """The sales period the query asks for, in the analytics days' zone (`jobs.timezone`)."""
    tz = triggers.timezone(request.app[CONFIG].jobs.timezone)
    period = sw.period_of(p, datetime.now(UTC), tz)
    return await sw.window(pool(request) if db is None else db, period)


def paging(p: Params, sales_sort: bool, kinds: tuple[type, ...]) -> tuple[Any, int]:
    """(cursor, offset): the sales sorts page by offset, the others by cursor."""
    if sales_sort:
        if p.raw("cursor"):
            raise ParamError("the units, revenue and growth orders page by 'offset', not 'cursor'")
        return None, p.offset()
    if p.offset():
        raise ParamError("this order pages by 'cursor', not 'offset'")
    return p.cursor(kinds), 0


async def products_filter(
    request: web.Request, p: Params, *, csv: bool = False, db: Reader | None = None
) -> ProductFilter:
    """The list's filter; its statements (the search words, the sales period) run on `db`
    (default: the pool)."""
    db = pool(request) if db is None else db
    terms = query_terms(p)
    if terms is not None:
        shares = (await request.app[WORD_SHARES].get()).value
        terms = await search.resolve(db, terms, shares)
    sort = catalog.resolve_sort(p.choice("sort"), terms is not None)
    min_price = p.integer("min_price")
    max_price = p.integer("max_price")
    range_check("min_price", min_price, "max_price", max_price)
    category = p.integer("category")
    tree = await category_tree(request)
    cursor, offset = paging(p, sort in sw.SALES_SORTS, catalog.cursor_kinds(sort))
    return ProductFilter(
        q=terms,
        category_ids=category_ids(tree, category),
        seller_id=p.integer("seller"),
        min_price=min_price,
        max_price=max_price,
        in_stock=p.flag("in_stock"),
        min_rating=p.number("min_rating"),
        min_orders=p.integer("min_orders"),
        sort=sort,
        cursor=cursor,
        limit=p.limit(csv=csv),
        sales=await sales_window(request, p, db),
        offset=offset,
    )


async def count_of(db: Reader, count: Count) -> str:
    """ "1 234 products"-style total text (a count at the cap reads "100 000+")."""
    return total_text(await db.fetchval(count.sql, *count.args), count)


def total_text(n: int, count: Count) -> str:
    return f"{fmt(min(n, count.cap), 'int')}{'+' if n > count.cap else ''}"


async def products_page(request: web.Request) -> web.StreamResponse:
    csv = is_export(request)
    p = params(request, PRODUCT_PARAMS)
    if csv:
        f = await products_filter(request, p, csv=True)
        q = catalog.product_list(f)
        return await export.stream_export(request, pool(request), q, "products.csv", zone(request))
    # the page's four statements on one connection: through the pool, each would also wait for
    # the connection's reset when handed back (a round trip and a few statements of the
    # server's time each), and the search page is the one most run
    async with pool(request).acquire() as conn:
        f = await products_filter(request, p, db=conn)
        count = catalog.product_count(f)
        total = total_text(await product_total(request, conn, f, count), count)
        page = await listing.fetch_page(conn, catalog.product_list(f))
    tree = await category_tree(request)
    category = p.integer("category")
    ctx = {
        "title": "Products",
        "form": dict(request.rel_url.query),
        "sorts": catalog.PRODUCT_SORTS,
        "sort": catalog.resolve_sort(p.choice("sort"), p.text("q") is not None),
        "category_options": tree.options_around(category),
        "chain": tree.chain(category),
        "children": tree.kids(category) if category is not None else [],
        "csv_all": csv_all_link(request, MAX_CSV_LIMIT),
        "total": total,
        "sales": f.sales,
        "periods": sw.PERIODS,
        "min_base": sw.MIN_BASE_UNITS,
    }
    return await page_response(request, page, "products.html", ctx)


async def product_total(request: web.Request, db: Reader, f: ProductFilter, count: Count) -> int:
    """How many products `f` matches (up to the count's cap + 1); a search's total may be up
    to a minute old (web/count_cache.py), any other is counted now."""
    if f.q is None:
        return int(await db.fetchval(count.sql, *count.args))
    return await state(request).search_counts.count(db, count)


def path_id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPBadRequest(text=f"'{raw[:40]}' is not a valid id\n")
    return int(raw)


# -- sellers --------------------------------------------------------------------------------------


async def sellers_query(
    request: web.Request, p: Params, *, csv: bool = False
) -> tuple[ListQuery, Count, SalesWindow]:
    """The ranking, the SQL counting its sellers, and its sales window."""
    terms = query_terms(p)
    sort = catalog.resolve_sort(p.choice("sort"), terms is not None)
    cursor, offset = paging(p, sellers.is_sales_sort(sort), sellers.sort_kinds(sort))
    window = await sales_window(request, p)
    official = p.flag("official")
    scope = await seller_scope(request, p.integer("category"))
    q = sellers.seller_ranking(
        sort, terms, official, cursor, p.limit(csv=csv), sales=window, offset=offset, scope=scope
    )
    return q, sellers.seller_count(sort, terms, official, window, scope), window


async def seller_scope(request: web.Request, category: int | None) -> sellers.SellerScope | None:
    if category is None:
        return None
    tree = await category_tree(request)
    return sellers.SellerScope(category, tree.subtree(category))


async def sellers_page(request: web.Request) -> web.StreamResponse:
    csv = is_export(request)
    p = params(request, SELLER_PARAMS)
    q, count, window = await sellers_query(request, p, csv=csv)
    tree = await category_tree(request)
    ctx = {
        "title": "Sellers",
        "form": dict(request.rel_url.query),
        "category_options": tree.options_around(p.integer("category")),
        "chain": tree.chain(p.integer("category")),
        "sorts": sellers.SELLER_SORTS,
        "sort": catalog.resolve_sort(p.choice("sort"), p.text("q") is not None),
        "csv_all": csv_all_link(request, MAX_CSV_LIMIT),
        "total": None if csv else await count_of(pool(request), count),
        "sales": window,
        "periods": sw.PERIODS,
        "min_base": sw.MIN_BASE_UNITS,
        "max_compared": seller_sales.MAX_COMPARED,
    }
    return await list_response(request, q, "sellers.html", ctx, "sellers.csv")
