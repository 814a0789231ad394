"""Analytics pages: overview, price drops, top sellers per category, seller price comparison
and the category overview with price bands (each list with its CSV twin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from marketplaced import price_bands
from marketplaced.web import param_spec as ps
from marketplaced.web import summaries
from marketplaced.web.export import export_rows
from marketplaced.web.listing import Column, ListQuery, fetch_page
from marketplaced.web.param_spec import MAX_CSV_LIMIT
from marketplaced.web.params import ParamError, Params
from marketplaced.web.queries import analytics, catalog, jobs
from marketplaced.web.queries.catalog import ProductFilter
from marketplaced.web.views.catalog import category_ids, query_terms
from marketplaced.web.views.common import (
    CONFIG,
    category_tree,
    csv_all_link,
    is_export,
    list_response,
    params,
    pool,
    render,
    state,
)

DROP_PARAMS = (
    ps.integer("days", "window, days", lo=1, hi=analytics.DROP_WINDOW_DAYS, default=7),
    ps.number("min_pct", "drop at least, %", lo=0, hi=100),
    ps.CATEGORY,
    ps.LIMIT,
    ps.CURSOR,
)
TOP_PARAMS = (
    ps.CATEGORY,
    ps.choice("by", "ranking", ("revenue", "orders"), "revenue"),
    ps.LIMIT,
    ps.OFFSET,
)
COMPARE_PARAMS = (ps.search("required: title search"), ps.CATEGORY, ps.LIMIT, ps.OFFSET)
OVERVIEW_PARAMS = (
    ps.integer("category", "parent category (top level when absent)", hi=ps.INT_MAX),
)


async def category_overview(
    request: web.Request, category: int | None
) -> analytics.CategoryOverview:
    """The overview of `category`'s children, banded by the configured `[jobs] price_bands`."""
    edges = price_bands.edges(request.app[CONFIG].jobs.price_bands)
    return await analytics.category_overview(
        pool(request), await category_tree(request), category, edges
    )


async def _common(request: web.Request, category: int | None) -> dict[str, Any]:
    tree = await category_tree(request)
    return {
        "form": dict(request.rel_url.query),
        "category_options": tree.options_around(category),
        "chain": tree.chain(category),
        "refreshed_at": await summaries.refreshed_at(pool(request), "web_product_prices"),
        "csv_all": csv_all_link(request, MAX_CSV_LIMIT),
    }


async def drops_query(request: web.Request, p: Params, *, csv: bool = False) -> ListQuery:
    category = p.integer("category")
    tree = await category_tree(request)
    return analytics.price_drops(
        p.integer_or_default("days"),
        p.number("min_pct"),
        category_ids(tree, category),
        p.cursor((float, int, datetime)),
        p.limit(csv=csv),
    )


async def top_sellers_query(request: web.Request, p: Params, *, csv: bool = False) -> ListQuery:
    return analytics.top_sellers(
        p.integer("category"),
        p.choice("by"),
        p.offset(),
        p.limit(csv=csv),
    )


async def compare_query(request: web.Request, p: Params, *, csv: bool = False) -> ListQuery | None:
    q = query_terms(p)
    category = p.integer("category")
    offset = p.offset()
    limit = p.limit(csv=csv)
    if q is None:
        return None
    tree = await category_tree(request)
    return analytics.price_comparison(q, category_ids(tree, category), offset, limit)


async def overview(request: web.Request) -> web.Response:
    params(request)
    ctx = await _common(request, None)
    top = await fetch_page(pool(request), analytics.top_sellers(None, "revenue", 0, 10))
    drops = await fetch_page(pool(request), analytics.price_drops(7, None, None, None, 10))
    cats = await category_overview(request, None)
    day = await jobs.latest_day(pool(request))
    day_top = (
        await fetch_page(pool(request), jobs.sellers_of_day(day["day"], 0, 10)) if day else None
    )
    ctx.update(
        title="Analytics",
        top=top,
        drops=drops,
        categories=cats.figures,
        band_labels=cats.band_labels,
        day=day,
        day_top=day_top,
    )
    return await render(request, "analytics.html", ctx)


async def price_drops(request: web.Request) -> web.StreamResponse:
    p = params(request, DROP_PARAMS)
    q = await drops_query(request, p, csv=is_export(request))
    ctx = await _common(request, p.integer("category"))
    ctx.update(title="Biggest recent price drops", window=analytics.DROP_WINDOW_DAYS)
    return await list_response(request, q, "price_drops.html", ctx, "price-drops.csv")


async def top_sellers(request: web.Request) -> web.StreamResponse:
    p = params(request, TOP_PARAMS)
    q = await top_sellers_query(request, p, csv=is_export(request))
    category = p.integer("category")
    ctx = await _common(request, category)
    tree = await category_tree(request)
    top_products = await fetch_page(
        pool(request),
        catalog.product_list(ProductFilter(category_ids=category_ids(tree, category), limit=10)),
    )
    ctx.update(title="Top sellers and products", top_products=top_products)
    return await list_response(request, q, "top_sellers.html", ctx, "top-sellers.csv")


async def compare(request: web.Request) -> web.StreamResponse:
    p = params(request, COMPARE_PARAMS)
    q = await compare_query(request, p, csv=is_export(request))
    ctx = await _common(request, p.integer("category"))
    ctx.update(title="Price comparison across sellers", cap=analytics.COMPARE_PRODUCTS)
    if q is None:
        if is_export(request):
            raise ParamError("parameter 'q' is required for the comparison export")
        return await render(request, "compare.html", {**ctx, "page": None, "links": {}})
    return await list_response(request, q, "compare.html", ctx, "price-comparison.csv")


async def categories(request: web.Request) -> web.StreamResponse:
    p = params(request, OVERVIEW_PARAMS)
    category = p.integer("category")
    overview = await category_overview(request, category)
    figures = overview.figures
    ctx = await _common(request, category)
    day = await jobs.latest_day(pool(request))
    day_rows = []
    if day is not None:
        ids = [f.id for f in figures if f.id is not None]
        day_rows = [
            {**dict(r), "bands": jobs.bands(r["price_bands"])}
            for r in await jobs.categories_of_day(pool(request), day["day"], ids)
        ]
    ctx.update(
        title="Category overview",
        figures=figures,
        band_labels=overview.band_labels,
        day=day,
        day_rows=day_rows,
    )
    if is_export(request):
        return await _overview_export(request, overview)
    return await render(request, "categories.html", ctx)


async def _overview_export(
    request: web.Request, overview: analytics.CategoryOverview
) -> web.StreamResponse:
    """The overview is at most a few hundred rows already in memory: the same export path."""
    columns = [
        Column("id", "Category ID", "int"),
        Column("title", "Category"),
        Column("products", "Products", "int"),
        Column("in_stock", "In stock", "int"),
        Column("orders", "Orders", "int"),
        Column("revenue_est", "Est. revenue", "money"),
        Column("avg_price", "Avg price", "money"),
        *(Column(f"band{i}", label, "int") for i, label in enumerate(overview.band_labels)),
    ]
    rows = [
        {
            "id": f.id,
            "title": f.title,
            "products": f.products,
            "in_stock": f.in_stock,
            "orders": f.orders,
            "revenue_est": f.revenue_est,
            "avg_price": f.avg_price,
            **{f"band{i}": n for i, n in enumerate(f.bands)},
        }
        for f in overview.figures
    ]
    return await export_rows(request, columns, rows, "categories.csv", state(request).zone)
