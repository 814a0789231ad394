"""A seller's page (`/sellers/{id}`) and the side-by-side comparison of up to five sellers
(`/seller-comparison`), with their JSON twins (`/api/v1/sellers/{id}/sales`,
`/api/v1/seller-comparison`).

Both read the period like every sales list (`period` or `from`/`to`) and their figures from the
daily sales rollups (queries/seller_sales.py says how days, growth and the category mix are
counted). The page and its JSON twin call the same builders, so they always agree. Sellers to
compare come as `ids`, repeated (the Sellers list's checkboxes send that) or comma-separated
(what a person types); an id that is not a seller in the database is refused with a 400 naming
it rather than shown as an empty line, because an empty line reads as "sold nothing".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from aiohttp import web
from markupsafe import Markup

from marketplaced import log
from marketplaced.jobs import triggers
from marketplaced.web import param_spec as ps
from marketplaced.web import sales_window as sw
from marketplaced.web.listing import Page, fetch_page
from marketplaced.web.params import ParamError, Params
from marketplaced.web.queries import catalog, sellers
from marketplaced.web.queries import seller_sales as ss
from marketplaced.web.queries.catalog import ProductFilter
from marketplaced.web.queries.seller_sales import CategoryShare, SellerTotals
from marketplaced.web.sales_charts import DayLine, day_lines
from marketplaced.web.sales_window import SalesWindow
from marketplaced.web.views.catalog import path_id, sales_window
from marketplaced.web.views.common import CONFIG, params, pool, render

_log = log.get(__name__)

#: products with sales listed on a seller's page; the products list pages through all of them
PRODUCT_ROWS = 50
PRODUCT_SORTS = ("revenue", "units", "growth")

SELLER_SALES_PARAMS = sw.PERIOD_PARAMS
SELLER_PAGE_PARAMS = (
    *SELLER_SALES_PARAMS,
    ps.choice("sort", "the seller's products with sales by", PRODUCT_SORTS, default="revenue"),
)
COMPARISON_PARAMS = (
    ps.ids(
        "ids",
        f"seller ids to compare, 1 to {ss.MAX_COMPARED}: repeated or comma-separated",
        max_items=ss.MAX_COMPARED,
    ),
    *sw.PERIOD_PARAMS,
)


@dataclass(frozen=True, slots=True)
class SellerSales:
    window: SalesWindow
    totals: SellerTotals
    categories: list[CategoryShare]


@dataclass(frozen=True, slots=True)
class Comparison:
    window: SalesWindow
    sellers: list[SellerTotals]


def day_zone(request: web.Request) -> tzinfo:
    """The zone sales days are counted in (`jobs.timezone`): a day's point sits in its day."""
    return triggers.timezone(request.app[CONFIG].jobs.timezone)


async def seller_sales(request: web.Request, sid: int, p: Params) -> SellerSales:
    w = await sales_window(request, p)
    async with pool(request).acquire() as conn:
        names = await ss.titles(conn, [sid])
        if sid not in names:
            raise web.HTTPNotFound(text=f"no seller {sid} in the database\n")
        (totals,) = await ss.comparison(conn, [sid], w, names)
        mix = await ss.category_mix(conn, sid, w)
    return SellerSales(w, totals, mix)


async def comparison_of(request: web.Request, p: Params, *, required: bool) -> Comparison | None:
    """The sellers `ids` names over the period; None when none are named and `required` is
    off (the page then shows only its form)."""
    ids = p.ids("ids")
    w = await sales_window(request, p)
    if not ids:
        if required:
            raise ParamError(f"parameter 'ids' is required: 1 to {ss.MAX_COMPARED} seller ids")
        return None
    async with pool(request).acquire() as conn:
        names = await ss.titles(conn, ids)
        unknown = [i for i in ids if i not in names]
        if unknown:
            _log.info("seller_comparison_refused", ids=ids, unknown=unknown)
            listed = ", ".join(str(i) for i in unknown)
            raise ParamError(f"parameter 'ids': no seller {listed} in the database")
        return Comparison(w, await ss.comparison(conn, ids, w, names))


def trend_charts(rows: list[SellerTotals], tz: tzinfo) -> dict[str, Markup]:
    lines = [DayLine(r.title or f"seller {r.id}", r.days) for r in rows]
    return {
        "revenue": day_lines(lines, "revenue", title="Revenue per day, so'm", tz=tz),
        "units": day_lines(lines, "units", title="Units sold per day", tz=tz),
    }


async def seller_page(request: web.Request) -> web.Response:
    sid = path_id(request, "id")
    p = params(request, SELLER_PAGE_PARAMS)
    db = pool(request)
    row = await sellers.seller(db, sid)
    if row is None:
        raise web.HTTPNotFound(text=f"no seller {sid} in the database\n")
    data = await seller_sales(request, sid, p)
    sort = p.choice("sort")
    products: Page = await fetch_page(
        db,
        catalog.product_list(
            ProductFilter(seller_id=sid, sort=sort, sales=data.window, limit=PRODUCT_ROWS)
        ),
    )
    form = dict(request.rel_url.query)
    ctx = {
        "title": row["title"],
        "seller": row,
        "form": form,
        "periods": sw.PERIODS,
        "sales": data.window,
        "min_base": sw.MIN_BASE_UNITS,
        "totals": data.totals,
        "charts": trend_charts([data.totals], day_zone(request)),
        "mix": data.categories,
        "categories": await sellers.seller_categories(db, sid),
        "products": products,
        "sort": sort,
        "sorts": PRODUCT_SORTS,
        "max_compared": ss.MAX_COMPARED,
    }
    return await render(request, "seller.html", ctx)


async def comparison_page(request: web.Request) -> web.Response:
    p = params(request, COMPARISON_PARAMS)
    c = await comparison_of(request, p, required=False)
    ctx = {
        "title": "Compare sellers",
        "form": dict(request.rel_url.query),
        "ids": ", ".join(str(i) for i in p.ids("ids")),
        "periods": sw.PERIODS,
        "min_base": sw.MIN_BASE_UNITS,
        "max_compared": ss.MAX_COMPARED,
        "comparison": c,
        "sales": c.window if c else None,
        "charts": trend_charts(c.sellers, day_zone(request)) if c else None,
    }
    return await render(request, "seller_comparison.html", ctx)


def totals_json(t: SellerTotals) -> dict[str, Any]:
    out = dataclasses.asdict(t)
    out["days"] = [
        {"day": d.day.isoformat(), "units": d.units, "revenue": d.revenue} for d in t.days
    ]
    return out


def seller_sales_json(s: SellerSales) -> dict[str, Any]:
    return {
        **sw.window_json(s.window),
        "seller": totals_json(s.totals),
        "categories": [dataclasses.asdict(c) for c in s.categories],
    }


def comparison_json(c: Comparison) -> dict[str, Any]:
    return {**sw.window_json(c.window), "sellers": [totals_json(t) for t in c.sellers]}
