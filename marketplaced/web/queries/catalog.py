"""Uzum catalogue reads: the category tree, the product list and one product with its history.

The product list is keyset-paginated on an index per sort order (005_web.sql), so page 10 000
costs what page 1 costs. "Price" is the cheapest SKU's price; the price sorts walk SKUs in price
order and keep each product's cheapest SKU (an anti-join), which is what an index can serve.
Title search matches the folded query word by word against the products' `search_words`
through the vocabulary and a GIN index (web/search.py); with a search, "relevance" (word similarity,
then id) is the default order.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from marketplaced.web import sales_window as sw
from marketplaced.web.listing import Column, Count, ListQuery, Where
from marketplaced.web.sales_window import SalesWindow
from marketplaced.web.search import SearchTerms

#: the category tree is small (≈ 5 000 rows) and changes rarely: reread it at most once a minute
CATEGORY_TTL_S = 60.0

PRODUCT_SORTS = (
    "relevance",
    "orders",
    "rating",
    "reviews",
    "new",
    "price_asc",
    "price_desc",
    *sw.SALES_SORTS,
)
#: totals are counted up to this many rows ("100 000+ products"): an exact count of a
#: million-row filter would cost more than the page it heads
MAX_COUNT = 100_000
#: a search's total is counted up to this many products (see `product_count`)
SEARCH_MAX_COUNT = 1_000
#: a price range's total up to this many: each product counted is a SKU of the range checked
#: to be its product's cheapest (a range holds a sixth of the catalogue at full scale, and
#: counting all of it took seconds)
PRICE_MAX_COUNT = 1_000
#: and a list ranked by a period's sales up to this many: a seller ranking by 30-day revenue
#: learns from "10 000+" what 700 000 would tell, for a tenth of the rows read
SALES_MAX_COUNT = 10_000
#: sort → (key expression, its cursor type); all descending with id as the tie-breaker
_KEYED_SORTS: dict[str, tuple[str, type]] = {
    "orders": ("p.orders_amount", int),
    "rating": ("coalesce(p.rating, 0)", float),
    "reviews": ("p.reviews_amount", int),
}

PRODUCT_COLUMNS = (
    Column("id", "ID", "int", link="/products/{id}"),
    Column("title", "Title", link="/products/{id}"),
    Column("category", "Category", link="/products?category={category_id}"),
    Column("seller", "Seller", link="/sellers/{seller_id}"),
    Column("price", "Price, so'm", "money"),
    Column("rating", "Rating", "rating"),
    Column("reviews", "Reviews", "int"),
    Column("orders", "Orders", "int"),
    Column("stock", "In stock", "int"),
)
PRODUCT_SALES_COLUMNS = PRODUCT_COLUMNS + sw.SALES_COLUMNS
_SALES = ("sales_product_daily", "product_id")


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    title: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class TreeOption:
    """One entry of the category tree filter: a category at its depth (0: top level)."""

    id: int
    title: str
    parent_id: int | None
    depth: int


@dataclass(slots=True)
class CategoryTree:
    by_id: dict[int, Category]
    children: dict[int | None, list[int]]
    loaded_at: float
    #: `options()`, built once per loaded tree
    flat: list[TreeOption] | None = None
    #: `roots()`, found once per loaded tree (every list page's filter starts with them)
    top: list[Category] | None = None

    def options(self) -> list[TreeOption]:
        """Every category depth-first, each level by title: the whole tree filter (a category
        reached twice through a cycle in the data is listed once)."""
        if self.flat is None:
            self.flat = self._walk(lambda _: True)
        return self.flat

    def options_around(self, chosen: int | None) -> list[TreeOption]:
        """The part of the tree a page starts with: the top level, and below it only the
        chosen category's ancestors, itself and their children — a few dozen entries instead
        of thousands; the full tree is fetched when the filter is used (static/app.js)."""
        opened = {c.id for c in self.chain(chosen)}
        return self._walk(lambda cid: cid in opened)

    def _walk(self, expand: Callable[[int], bool]) -> list[TreeOption]:
        out: list[TreeOption] = []
        seen: set[int] = set()
        stack = [(c, 0) for c in reversed(self.roots())]
        while stack:
            c, depth = stack.pop()
            if c.id in seen:
                continue
            seen.add(c.id)
            out.append(TreeOption(c.id, c.title, c.parent_id, depth))
            if expand(c.id):
                stack.extend((k, depth + 1) for k in reversed(self.kids(c.id)))
        return out

    def subtree(self, root: int) -> list[int]:
        """`root` and every category below it."""
        out, stack = [], [root]
        while stack:
            cid = stack.pop()
            out.append(cid)
            stack.extend(self.children.get(cid, ()))
        return out

    def chain(self, cid: int | None) -> list[Category]:
        """From the top-level category down to `cid` (cycle-safe)."""
        out: list[Category] = []
        seen: set[int] = set()
        while cid is not None and cid in self.by_id and cid not in seen:
            seen.add(cid)
            out.append(self.by_id[cid])
            cid = self.by_id[cid].parent_id
        return out[::-1]

    def roots(self) -> list[Category]:
        if self.top is None:
            ids = [
                c.id
                for c in self.by_id.values()
                if c.parent_id is None or c.parent_id not in self.by_id
            ]
            self.top = sorted((self.by_id[i] for i in ids), key=lambda c: c.title)
        return list(self.top)

    def kids(self, cid: int) -> list[Category]:
        return sorted((self.by_id[i] for i in self.children.get(cid, ())), key=lambda c: c.title)


class CategoryCache:
    """The category tree, loaded lazily and refreshed after `CATEGORY_TTL_S`."""

    def __init__(self) -> None:
        self._tree: CategoryTree | None = None

    async def get(self, pool: asyncpg.Pool) -> CategoryTree:
        tree = self._tree
        if tree is None or time.monotonic() - tree.loaded_at > CATEGORY_TTL_S:
            rows = await pool.fetch("SELECT id, title, parent_id FROM categories")
            by_id = {r["id"]: Category(r["id"], r["title"], r["parent_id"]) for r in rows}
            children: dict[int | None, list[int]] = {}
            for c in by_id.values():
                children.setdefault(c.parent_id, []).append(c.id)
            tree = self._tree = CategoryTree(by_id, children, time.monotonic())
        return tree


@dataclass(frozen=True, slots=True)
class ProductFilter:
    q: SearchTerms | None = None
    category_ids: Sequence[int] | None = None
    seller_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    min_rating: float | None = None
    min_orders: int | None = None
    #: one of PRODUCT_SORTS, already through `resolve_sort`
    sort: str = "orders"
    cursor: tuple[Any, ...] | None = None
    limit: int = 50
    #: the sales period whose figures each row carries (none: the list without figures)
    sales: SalesWindow | None = None
    #: the sales sorts page by offset (a sum over a period has no index to walk)
    offset: int = 0


def resolve_sort(sort: str, searching: bool) -> str:
    """The order a list is really in: with no choice made, relevance when searching and orders
    otherwise; relevance without a search (a form whose search box was cleared) is orders."""
    if sort == "" or (sort == "relevance" and not searching):
        return "relevance" if searching else "orders"
    return sort


def cursor_kinds(sort: str) -> tuple[type, ...]:
    if sort == "relevance":
        return (float, int, int)  # score, orders, id
    if sort in _KEYED_SORTS:
        return (_KEYED_SORTS[sort][1], int)
    if sort == "new":
        return (int,)
    return (int, int)  # price sorts: (price, sku id)


def _filters(f: ProductFilter, w: Where, *, price_inline: bool) -> list[str]:
    """Adds the filters; returns the search's per-word score expressions (none without one)."""
    word_scores = f.q.filter(w, "p.search_words") if f.q is not None else []
    if f.category_ids is not None:
        w.add("p.category_id = ANY({}::integer[])", list(f.category_ids))
    if f.seller_id is not None:
        w.add("p.seller_id = {}", f.seller_id)
    if f.in_stock:
        w.add("p.total_available > 0")
    if f.min_rating is not None:
        w.add("p.rating >= {}", f.min_rating)
    if f.min_orders is not None:
        w.add("p.orders_amount >= {}", f.min_orders)
    price = "k.purchase_price" if price_inline else _MIN_PRICE
    if f.min_price is not None:
        w.add(f"{price} >= {{}}", f.min_price)
    if f.max_price is not None:
        w.add(f"{price} <= {{}}", f.max_price)
    return word_scores


_MIN_PRICE = "(SELECT min(k.purchase_price) FROM skus k WHERE k.product_id = p.id)"

_OUTER = """
SELECT p.id, p.title, p.category_id, c.title AS category, p.seller_id, s.title AS seller,
       {price} AS price, p.rating, p.reviews_amount AS reviews, p.orders_amount AS orders,
       p.total_available AS stock, p.sort_key, p.sku_key{sales_cols}
FROM ({inner}) p
LEFT JOIN categories c ON c.id = p.category_id
LEFT JOIN sellers s ON s.id = p.seller_id{sales_join}
ORDER BY {order}"""


def _outer(f: ProductFilter, **parts: str) -> str:
    """The list's page of products with their names and, with a window, their figures (the
    joins keep the order: they join one row to each product of the page)."""
    cols = join = ""
    if f.sales is not None:
        cols = ", " + sw.figure_columns(f.sales)
        join = sw.joined(f.sales, *_SALES, "p.id", "p")
    return _OUTER.format(sales_cols=cols, sales_join=join, **parts)


def _columns(f: ProductFilter) -> tuple[Column, ...]:
    return PRODUCT_COLUMNS if f.sales is None else PRODUCT_SALES_COLUMNS


def product_list(f: ProductFilter) -> ListQuery:
    if f.sort in sw.SALES_SORTS:
        return _by_sales(f)
    if f.sort in ("price_asc", "price_desc"):
        return _by_price(f)
    if f.sort == "relevance" and f.q is not None and f.q.candidates is not None:
        return _by_relevance(f)
    w = Where()
    word_scores = _filters(f, w, price_inline=False)
    if f.sort == "relevance" and f.q is not None:
        # the score is real; the cursor's float holds a real exactly, so the cast back is exact
        key = f.q.score(word_scores)
        order = f"{key} DESC, p.orders_amount DESC, p.id DESC"
        if f.cursor is not None:
            w.add(f"({key}, p.orders_amount, p.id) < ({{}}::real, {{}}, {{}})", *f.cursor)
    elif f.sort == "new":
        key, order = "p.id", "p.id DESC"
        if f.cursor is not None:
            w.add("p.id < {}", f.cursor[0])
    else:
        key = _KEYED_SORTS[f.sort][0]
        order = f"{key} DESC, p.id DESC"
        if f.cursor is not None:
            w.add(f"({key}, p.id) < ({{}}, {{}})", *f.cursor)
    inner = (
        "SELECT p.id, p.title, p.category_id, p.seller_id, p.rating, p.reviews_amount, "  # noqa: S608 - constant fragments, values are $n parameters
        f"p.orders_amount, p.total_available, {key} AS sort_key, NULL::bigint AS sku_key "
        f"FROM products p WHERE {w.sql} ORDER BY {order} LIMIT {w.next_mark()}"
    )
    if f.sort == "relevance":
        order = "p.sort_key DESC, p.orders_amount DESC, p.id DESC"
        return ListQuery(
            _outer(f, price=_MIN_PRICE, inner=inner, order=order), tuple(w.args), _columns(f),
            f.limit, keyset=("sort_key", "orders", "id"),
        )  # fmt: skip
    sql = _outer(f, price=_MIN_PRICE, inner=inner, order="p.sort_key DESC, p.id DESC")
    keyset = ("id",) if f.sort == "new" else ("sort_key", "id")
    return ListQuery(sql, tuple(w.args), _columns(f), f.limit, keyset=keyset)


_RELEVANCE = """
WITH top AS MATERIALIZED (
    SELECT {cols}, {key} AS sort_key, NULL::bigint AS sku_key FROM products p
    WHERE {common} AND {best}{top_after} ORDER BY p.orders_amount{walk} DESC, p.id DESC
    LIMIT {limit}
)
SELECT * FROM top WHERE (SELECT count(*) FROM top) = {limit}
UNION ALL
SELECT * FROM (
    SELECT {cols}, {key} AS sort_key, NULL::bigint AS sku_key FROM products p
    WHERE {common} AND {every}{after} ORDER BY {key} DESC, p.orders_amount DESC, p.id DESC
    LIMIT {limit}
) rest WHERE (SELECT count(*) FROM top) < {limit}"""
_INNER_COLS = (
    "p.id, p.title, p.category_id, p.seller_id, p.rating, p.reviews_amount, p.orders_amount, "
    "p.total_available"
)


def _by_relevance(f: ProductFilter) -> ListQuery:
    """Best match first, then the best-selling (then id). The rows holding every word's best
    candidate all share the top score, so they are the page whenever there are enough of them:
    that part is a walk in best-selling order (products_orders_id) that stops at the page's
    end — for a common word, a few thousand index entries instead of scoring every match (a
    word in 1 in 30 titles matches 50 000 of 1.5 M products). When they are few
    (`SearchTerms.sparse`: two common words rarely together, a rare word) they are read through
    the word index and sorted instead — `+ 0` keeps the planner from walking, which it prices
    too cheaply. Only when they cannot fill the page are all matches scored. The candidates are
    known (`search.resolve`), so the planner sees the real words and their frequency."""
    assert f.q is not None and f.q.candidates is not None
    w = Where()
    _filters(dataclasses.replace(f, q=None), w, price_inline=False)
    common = w.sql
    w.parts = []
    f.q.filter(w, "p.search_words", best=True)
    best = w.sql
    w.parts = []
    key = f.q.score(f.q.filter(w, "p.search_words"))
    every = w.sql
    w.parts = []
    after = top_after = ""
    if f.cursor is not None:
        score, orders, pid = f.cursor
        w.add(f"({key}, p.orders_amount, p.id) < ({{}}::real, {{}}, {{}})", score, orders, pid)
        after = " AND " + w.parts.pop()
        if score >= f.q.top_score():  # the cursor is among the top rows: go on after it
            w.add("(p.orders_amount, p.id) < ({}, {})", orders, pid)
            top_after = " AND " + w.parts.pop()
        else:
            top_after = " AND false"
    inner = _RELEVANCE.format(
        cols=_INNER_COLS, key=key, common=common, best=best, every=every, after=after,
        top_after=top_after, limit=w.next_mark(), walk=" + 0" if f.q.sparse(f.limit) else "",
    )  # fmt: skip
    order = "p.sort_key DESC, p.orders_amount DESC, p.id DESC"
    sql = _outer(f, price=_MIN_PRICE, inner=inner, order=order)
    return ListQuery(sql, tuple(w.args), _columns(f), f.limit, keyset=("sort_key", "orders", "id"))


#: `k` is its product's cheapest SKU (ties: the lowest id), the one whose price is the product's
_CHEAPEST = (
    "NOT EXISTS (SELECT 1 FROM skus k2 WHERE k2.product_id = k.product_id "
    "AND (k2.purchase_price, k2.id) < (k.purchase_price, k.id))"
)


def _by_price(f: ProductFilter) -> ListQuery:
    """Walk SKUs in price order keeping each product's cheapest one (ties by SKU id)."""
    w = Where()
    _filters(f, w, price_inline=True)
    w.add(_CHEAPEST)
    asc = f.sort == "price_asc"
    cmp, direction = (">", "ASC") if asc else ("<", "DESC")
    if f.cursor is not None:
        w.add(f"(k.purchase_price, k.id) {cmp} ({{}}, {{}})", *f.cursor)
    inner = (
        "SELECT p.id, p.title, p.category_id, p.seller_id, p.rating, p.reviews_amount, "  # noqa: S608 - constant fragments, values are $n parameters
        "p.orders_amount, p.total_available, k.purchase_price AS sort_key, k.id AS sku_key "
        f"FROM skus k JOIN products p ON p.id = k.product_id WHERE {w.sql} "
        f"ORDER BY k.purchase_price {direction}, k.id {direction} LIMIT {w.next_mark()}"
    )
    sql = _outer(
        f, price="p.sort_key", inner=inner, order=f"p.sort_key {direction}, p.sku_key {direction}"
    )
    return ListQuery(sql, tuple(w.args), _columns(f), f.limit, keyset=("sort_key", "sku_key"))


def _by_sales(f: ProductFilter) -> ListQuery:
    """Products with sales rows in the period, by units, revenue or growth (offset paging)."""
    if f.sales is None:
        raise ValueError(f"sort {f.sort!r} needs a sales period")
    w = Where()
    _filters(_product_side(f), w, price_inline=False)
    source, order = _ranked_source(f, w)
    offset = w.param(f.offset)
    sql = (
        "SELECT p.id, p.title, p.category_id, c.title AS category, p.seller_id, "  # noqa: S608 - constant fragments, values are $n parameters
        f"s.title AS seller, {_MIN_PRICE} AS price, p.rating, p.reviews_amount AS reviews, "
        "p.orders_amount AS orders, p.total_available AS stock, "
        f"{sw.figure_columns(f.sales)} FROM {source} "
        "JOIN products p ON p.id = sc.id "
        "LEFT JOIN categories c ON c.id = p.category_id "
        f"LEFT JOIN sellers s ON s.id = p.seller_id WHERE {w.sql} "
        f"ORDER BY {order} OFFSET {offset} LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), PRODUCT_SALES_COLUMNS, f.limit, offset=f.offset)


def _product_side(f: ProductFilter) -> ProductFilter:
    """The filters applied to `products`: with a precomputed period the category is the one
    the period's sales were attributed to (`sc.category_id`, as the category's own figures
    count them), so its index narrows a category's products before they are ranked."""
    if f.sales is not None and f.sales.precomputed:
        return dataclasses.replace(f, category_ids=None)
    return f


def _only_sales_filters(f: ProductFilter) -> bool:
    """No filter but the period and category: a precomputed count needs no product row."""
    return (f.q, f.seller_id, f.min_price, f.max_price, f.min_rating, f.min_orders) == (
        (None,) * 6
    ) and not f.in_stock


def _ranked_source(f: ProductFilter, w: Where) -> tuple[str, str]:
    """The period's figures per product (`sc`, `sp`) and the list's order: the precomputed
    period when there is one (an index walk), else the day rows summed."""
    assert f.sales is not None
    if not f.sales.precomputed:
        return sw.ranked(f.sales, *_SALES), sw.order_of(f.sort, "p.id")
    w.parts.append(sw.built_where(f.sales, "p"))
    if f.category_ids is not None:
        w.add("sc.category_id = ANY({}::integer[])", list(f.category_ids))
    return sw.built(f.sales, "p"), sw.built_order(f.sales, f.sort)


def product_count(f: ProductFilter) -> Count:
    """SQL and arguments counting the products the list's filters match (up to its cap + 1;
    with a sales sort: those with sales rows in the period). A search counts up to
    SEARCH_MAX_COUNT: its matches are read through the word index, one table row each, and
    "1 000+" tells a seller what "50 000" would; so does a price range (PRICE_MAX_COUNT)."""
    w = Where()
    source = "products p"
    cap = MAX_COUNT if f.q is None else SEARCH_MAX_COUNT
    if f.sort in sw.SALES_SORTS and f.sales is not None:
        _filters(_product_side(f), w, price_inline=False)
        ranked = _ranked_source(f, w)[0]
        source = f"{ranked} JOIN products p ON p.id = sc.id"
        if f.sales.precomputed and _only_sales_filters(f):
            source = ranked
        cap = min(cap, SALES_MAX_COUNT)
    elif f.min_price is not None or f.max_price is not None:
        # the products whose cheapest SKU is in the range, found from the SKUs in the range
        # (the price index) as the price sorts find them, instead of every product's cheapest
        # price worked out to be compared
        _filters(f, w, price_inline=True)
        w.add(_CHEAPEST)
        source = "skus k JOIN products p ON p.id = k.product_id"
        cap = min(cap, PRICE_MAX_COUNT)
    else:
        _filters(f, w, price_inline=False)
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {w.sql} LIMIT {cap + 1}) x"  # noqa: S608 - constant fragments, values are $n parameters
    return Count(sql, tuple(w.args), cap)
