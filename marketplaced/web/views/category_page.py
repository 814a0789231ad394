"""A category's page (`/categories/{id}`) and its JSON twin (`/api/v1/categories/{id}/market`):
over the chosen period, the seller market share (top 10 and "others") with its concentration
index, the configured `[jobs] price_bands`' shares of units and revenue, the best-selling
products and the sales per day — of the category and everything below it
(queries/category_market.py says how each figure is counted).

Both read the request through `market_of`, so the page and the API always agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from marketplaced import price_bands
from marketplaced.web import product_charts as pc
from marketplaced.web import sales_window as sw
from marketplaced.web.queries import category_market as cm
from marketplaced.web.queries.catalog import Category
from marketplaced.web.sales_window import SalesWindow
from marketplaced.web.share_bars import ShareRow, share_bars
from marketplaced.web.views.catalog import path_id, sales_window
from marketplaced.web.views.common import CONFIG, category_tree, fmt, params, pool, render, zone

MARKET_PARAMS = sw.PERIOD_PARAMS


@dataclass(frozen=True, slots=True)
class CategoryMarket:
    category: Category
    chain: list[Category]
    children: list[Category]
    window: SalesWindow
    market: cm.Market


async def market_of(request: web.Request) -> CategoryMarket:
    cid = path_id(request, "id")
    p = params(request, MARKET_PARAMS)
    w = await sales_window(request, p)  # a bad period is a 400 whichever the category
    tree = await category_tree(request)
    if cid not in tree.by_id:
        raise web.HTTPNotFound(text=f"no category {cid} in the database\n")
    edges = price_bands.edges(request.app[CONFIG].jobs.price_bands)
    m = await cm.market(pool(request), cid, tree.subtree(cid), w.period, edges, w.unobserved)
    return CategoryMarket(tree.by_id[cid], tree.chain(cid), tree.kids(cid), w, m)


def _money(value: int) -> str:
    return fmt(value, "money") + " so'm"


def seller_label(s: cm.SellerShare) -> str:
    """A share's name: the seller, the others, or (no other seller) the unknown seller's sales."""
    if s.seller_id is not None:
        return s.title or f"seller {s.seller_id}"
    return f"others ({s.sellers} sellers)" if s.sellers else "seller unknown"


def seller_rows(m: cm.Market) -> list[ShareRow]:
    rows = []
    for s in m.sellers:
        label = seller_label(s)
        rows.append(
            ShareRow(
                label,
                s.units_share_pct,
                s.revenue_share_pct,
                f"{label}: {fmt(s.units, 'int')} units of {fmt(m.units, 'int')}",
                f"{label}: {_money(s.revenue)} of {_money(m.revenue)}",
            )
        )
    return rows


def band_rows(m: cm.Market) -> list[ShareRow]:
    total_units = sum(b.units for b in m.bands)
    total_revenue = sum(b.revenue for b in m.bands)
    return [
        ShareRow(
            b.label,
            b.units_share_pct,
            b.revenue_share_pct,
            f"{b.label} so'm: {fmt(b.units, 'int')} units of {fmt(total_units, 'int')} "
            f"({b.products} products)",
            f"{b.label} so'm: {_money(b.revenue)} of {_money(total_revenue)}",
        )
        for b in m.bands
    ]


def day_bars(m: cm.Market) -> list[pc.DayBar]:
    return [
        pc.DayBar(
            d.day,
            d.units,
            d.revenue,
            f"{d.split_units} split over a scan gap" if d.split_units else "measured",
        )
        for d in m.days
    ]


async def category_page(request: web.Request) -> web.Response:
    c = await market_of(request)
    w, m, tz = c.window, c.market, zone(request)
    start = datetime.combine(w.period.first, time.min, tz).timestamp()
    end = datetime.combine(w.period.last, time.max, tz).timestamp()
    ctx = {
        "title": c.category.title,
        "category": c.category,
        "chain": c.chain,
        "children": c.children,
        "form": dict(request.rel_url.query),
        "periods": sw.PERIODS,
        "sales": w,
        "market": m,
        "period_query": _period_query(request),
        "seller_chart": share_bars("Seller market share", seller_rows(m)),
        "band_chart": share_bars("Price bands", band_rows(m)),
        "units_chart": pc.units_chart(day_bars(m), start=start, end=end, tz=tz),
        "seller_label": seller_label,
        "moderate_hhi": cm.MODERATE_HHI,
        "high_hhi": cm.HIGH_HHI,
    }
    return await render(request, "category.html", ctx)


def _period_query(request: web.Request) -> str:
    """The period part of this page's query, for links to the lists over the same period."""
    q = request.rel_url.query
    return urlencode({k: q[k] for k in ("period", "from", "to") if q.get(k)})


def market_json(c: CategoryMarket) -> dict[str, Any]:
    w, m = c.window, c.market
    return {
        "category_id": c.category.id,
        "title": c.category.title,
        "first": w.period.first.isoformat(),
        "last": w.period.last.isoformat(),
        "unobserved_days": [d.isoformat() for d in w.unobserved],
        "units": m.units,
        "revenue": m.revenue,
        "products_with_sales": m.products_with_sales,
        "sellers_with_sales": m.sellers_with_sales,
        "hhi": m.hhi,
        "concentration": m.concentration,
        "sellers": [dataclasses.asdict(s) for s in m.sellers],
        "price_bands": [dataclasses.asdict(b) for b in m.bands],
        "unpriced_units": m.unpriced_units,
        "products": [dataclasses.asdict(p) for p in m.products],
        "days": [{**dataclasses.asdict(d), "day": d.day.isoformat()} for d in m.days],
    }
