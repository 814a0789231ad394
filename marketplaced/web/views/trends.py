"""The Trends page (`/trends`) and its JSON twin (`/api/v1/trends`): what grows and what loses
over the chosen period against the previous one (queries/trends.py says how growth is ranked),
and the revenue products lost to being out of stock in it (queries/stockouts.py says how it is
estimated).

Both read the query string through `trends_of`, so the page and the API always agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from marketplaced.web import param_spec as ps
from marketplaced.web import sales_window as sw
from marketplaced.web.queries import stockouts, trends
from marketplaced.web.queries.stockouts import LostSales
from marketplaced.web.queries.trends import Trend
from marketplaced.web.sales_window import SalesWindow
from marketplaced.web.views.catalog import sales_window
from marketplaced.web.views.common import CONFIG, params, pool, render

#: rows per section: a trends page is a short ranked overview, the lists are for browsing
DEFAULT_ROWS, MAX_ROWS = 20, 100

TREND_PARAMS = (
    *sw.PERIOD_PARAMS,
    ps.integer("limit", "rows per section", lo=1, hi=MAX_ROWS, default=DEFAULT_ROWS),
)

#: (key, heading, link of a row's id) in the order the page shows them
SECTIONS = (
    ("growing_products", "Fastest-growing products", "/products/{}"),
    ("growing_sellers", "Fastest-growing sellers", "/sellers/{}"),
    ("growing_categories", "Fastest-growing categories", "/categories/{}"),
    ("new_products", "New products that already sell", "/products/{}"),
    ("losing_products", "Products losing sales", "/products/{}"),
)


@dataclass(frozen=True, slots=True)
class Trends:
    window: SalesWindow
    sections: dict[str, list[Trend]]
    lost: list[LostSales]


async def trends_of(request: web.Request) -> Trends:
    p = params(request, TREND_PARAMS)
    w = await sales_window(request, p)
    n = p.integer_or_default("limit")
    db = pool(request)
    sections = {
        "growing_products": await trends.changes(db, w, "product", growing=True, limit=n),
        "growing_sellers": await trends.changes(db, w, "seller", growing=True, limit=n),
        "growing_categories": await trends.changes(db, w, "category", growing=True, limit=n),
        "new_products": await trends.new_products(db, w, limit=n),
        "losing_products": await trends.changes(db, w, "product", growing=False, limit=n),
    }
    tz = request.app[CONFIG].jobs.timezone
    lost = await stockouts.lost_sales(db, w, tz, datetime.now(UTC), limit=n)
    return Trends(w, sections, lost)


async def trends_page(request: web.Request) -> web.Response:
    t = await trends_of(request)
    ctx = {
        "title": "Trends",
        "form": dict(request.rel_url.query),
        "periods": sw.PERIODS,
        "sales": t.window,
        "min_base": sw.MIN_BASE_UNITS,
        "sections": [(key, title, link, t.sections[key]) for key, title, link in SECTIONS],
        "lost": t.lost,
        "lost_total": sum(r.lost_revenue for r in t.lost),
        "base_days": stockouts.BASE_DAYS,
    }
    return await render(request, "trends.html", ctx)


def trends_json(t: Trends) -> dict[str, Any]:
    w = t.window
    out: dict[str, Any] = sw.window_json(w)
    for key, rows in t.sections.items():
        out[key] = [dataclasses.asdict(r) for r in rows]
    out["lost_base_days"] = stockouts.BASE_DAYS
    out["lost_to_stockouts"] = [dataclasses.asdict(r) for r in t.lost]
    return out
