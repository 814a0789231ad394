"""Analytics reads: price drops, top sellers per category, category overview, seller price
comparison.

Aggregates come from the `web_*` summaries (005_web.sql, refreshed in the background), so each
page is an index range or a few thousand summary rows. The seller price comparison is the one
computed live, bounded to the best-selling `COMPARE_PRODUCTS` products that match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from marketplaced import price_bands
from marketplaced.web.listing import Column, ListQuery, Where
from marketplaced.web.queries.catalog import CategoryTree
from marketplaced.web.search import SearchTerms

#: the price-drop summary keeps 14 days of changes
DROP_WINDOW_DAYS = 14
#: live price comparison looks at this many matching products at most (the best-selling)
COMPARE_PRODUCTS = 200

DROP_COLUMNS = (
    Column("product_id", "Product ID", "int", link="/products/{product_id}"),
    Column("title", "Product", link="/products/{product_id}"),
    Column("characteristics", "SKU"),
    Column("old_price", "Old price, so'm", "money"),
    Column("new_price", "New price, so'm", "money"),
    Column("drop_pct", "Drop, %", "pct"),
    Column("observed_at", "When", "datetime"),
)

TOP_SELLER_COLUMNS = (
    Column("seller_id", "Seller ID", "int", link="/sellers/{seller_id}"),
    Column("seller", "Seller", link="/sellers/{seller_id}"),
    Column("products", "Products", "int"),
    Column("orders", "Orders", "int"),
    Column("revenue_est", "Est. revenue, so'm", "money"),
)

COMPARE_COLUMNS = (
    Column("seller_id", "Seller ID", "int", link="/sellers/{seller_id}"),
    Column("seller", "Seller", link="/sellers/{seller_id}"),
    Column("products", "Products", "int"),
    Column("min_price", "Min, so'm", "money"),
    Column("median_price", "Median, so'm", "money"),
    Column("max_price", "Max, so'm", "money"),
    Column("orders", "Orders", "int"),
)


def price_drops(
    days: int,
    min_pct: float | None,
    category_ids: Sequence[int] | None,
    cursor: tuple[object, ...] | None,
    limit: int,
) -> ListQuery:
    w = Where()
    w.add("d.observed_at >= now() - make_interval(days => {})", days)
    if min_pct is not None:
        w.add("d.drop_pct >= {}", min_pct)
    if category_ids is not None:
        w.add("p.category_id = ANY({}::integer[])", list(category_ids))
    if cursor is not None:
        w.add("(d.drop_pct, d.sku_id, d.observed_at) < ({}, {}, {})", *cursor)
    sql = (
        "SELECT d.product_id, p.title, k.characteristics, d.old_price, d.new_price, "  # noqa: S608 - constant fragments, values are $n parameters
        "d.drop_pct::float8 AS drop_pct, d.observed_at, d.sku_id "
        "FROM web_price_drops d JOIN products p ON p.id = d.product_id "
        f"LEFT JOIN skus k ON k.id = d.sku_id WHERE {w.sql} "
        "ORDER BY d.drop_pct DESC, d.sku_id DESC, d.observed_at DESC "
        f"LIMIT {w.next_mark()}"
    )
    return ListQuery(
        sql, tuple(w.args), DROP_COLUMNS, limit, keyset=("drop_pct", "sku_id", "observed_at")
    )


def top_sellers(category: int | None, by: str, offset: int, limit: int) -> ListQuery:
    """Sellers of a category (subcategories included) ranked by estimated revenue or orders;
    offset paging over one index range of the summary (it has a row per category level)."""
    order = "revenue_est" if by == "revenue" else "orders"
    w = Where()
    if category is None:
        source = "web_seller_totals t"
    else:
        w.add("t.category_id = {}", category)
        source = "web_category_sellers t"
    off = w.param(offset)
    sql = (
        "SELECT t.seller_id, s.title AS seller, t.products, t.orders, t.revenue_est "  # noqa: S608 - constant fragments, values are $n parameters
        f"FROM {source} LEFT JOIN sellers s ON s.id = t.seller_id WHERE {w.sql} "
        f"ORDER BY t.{order} DESC, t.seller_id DESC OFFSET {off} LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), TOP_SELLER_COLUMNS, limit, offset=offset)


def price_comparison(
    q: SearchTerms, category_ids: Sequence[int] | None, offset: int, limit: int
) -> ListQuery:
    """Per seller: price spread of the products matching `q` (cheapest SKU each).

    The products compared are the best matches first (then the best-selling): a tolerant search
    also finds near misses, which should be the ones left out when the cap cuts."""
    w = Where()
    word_scores = q.filter(w, "p.search_words")
    if category_ids is not None:
        w.add("p.category_id = ANY({}::integer[])", list(category_ids))
    score = q.score(word_scores)
    cap = w.param(COMPARE_PRODUCTS)
    off = w.param(offset)
    sql = f"""
WITH m AS (
    SELECT p.id, p.seller_id, p.orders_amount,
           (SELECT min(k.purchase_price) FROM skus k WHERE k.product_id = p.id) AS price
    FROM products p WHERE {w.sql}
    ORDER BY {score} DESC, p.orders_amount DESC, p.id DESC LIMIT {cap}
)
SELECT m.seller_id, s.title AS seller, count(*) AS products, min(m.price) AS min_price,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY m.price) AS median_price,
       max(m.price) AS max_price, sum(m.orders_amount)::bigint AS orders
FROM m LEFT JOIN sellers s ON s.id = m.seller_id
WHERE m.price IS NOT NULL AND m.seller_id IS NOT NULL
GROUP BY m.seller_id, s.title
ORDER BY median_price, m.seller_id OFFSET {off} LIMIT {w.next_mark()}"""  # noqa: S608 - fragments are constants
    return ListQuery(sql, tuple(w.args), COMPARE_COLUMNS, limit, offset=offset)


@dataclass(slots=True)
class CategoryFigures:
    id: int | None
    title: str
    products: int = 0
    in_stock: int = 0
    orders: int = 0
    revenue_est: int = 0
    price_sum: int = 0
    priced: int = 0
    bands: list[int] = field(default_factory=list)

    @property
    def avg_price(self) -> int | None:
        return self.price_sum // self.priced if self.priced else None


_TOTALS = "SELECT * FROM web_category_totals WHERE category_id = ANY($1::integer[])"


@dataclass(slots=True)
class CategoryOverview:
    figures: list[CategoryFigures]
    #: one per band, in the order of every figure's `bands`
    band_labels: tuple[str, ...]


async def category_overview(
    pool: asyncpg.Pool, tree: CategoryTree, parent: int | None, band_edges: Sequence[int]
) -> CategoryOverview:
    """Figures per child of `parent` (top-level categories when None); the summary already
    includes each child's subcategories. Bands are labelled with the edges the summary was
    computed with (`band_edges`, the configured ones, only before its first refresh with them):
    counts and labels never come from two configurations."""
    children = tree.kids(parent) if parent is not None else tree.roots()
    rows = {r["category_id"]: r for r in await pool.fetch(_TOTALS, [c.id for c in children])}
    used = next((tuple(r["band_edges"]) for r in rows.values()), tuple(band_edges))
    out = []
    for child in children:
        r = rows.get(child.id)
        fig = CategoryFigures(child.id, child.title, bands=[0] * (len(used) + 1))
        if r is not None:
            fig.products, fig.in_stock, fig.orders = r["products"], r["in_stock"], r["orders"] or 0
            fig.revenue_est, fig.price_sum, fig.priced = (
                r["revenue_est"],
                r["price_sum"],
                r["priced"],
            )
            fig.bands = list(r["bands"])
        out.append(fig)
    out.sort(key=lambda f: (-f.orders, f.title))
    return CategoryOverview(out, price_bands.labels(used))
