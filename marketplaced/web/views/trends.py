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
from markupsafe import Markup, escape

from marketplaced.db import Conn
from marketplaced.web import param_spec as ps
from marketplaced.web import sales_window as sw
from marketplaced.web.queries import stockouts, trends
from marketplaced.web.queries.stockouts import LostSales
from marketplaced.web.queries.trends import Trend
from marketplaced.web.sales_window import SalesWindow
from marketplaced.web.views.catalog import sales_window
from marketplaced.web.views.common import CONFIG, fmt, params, pool, render

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
    n = p.integer_or_default("limit")
    tz = request.app[CONFIG].jobs.timezone
    # one connection for the page's reads, one after another (not one taken from the pool and
    # given back, with its reset statement, per read)
    async with pool(request).acquire() as db:
        w = await sales_window(request, p, db)
        return await _trends(db, w, tz, n)


async def _trends(db: Conn, w: SalesWindow, tz: str, n: int) -> Trends:
    sections = {
        "growing_products": await trends.changes(db, w, "product", growing=True, limit=n),
        "growing_sellers": await trends.changes(db, w, "seller", growing=True, limit=n),
        "growing_categories": await trends.changes(db, w, "category", growing=True, limit=n),
        "new_products": await trends.new_products(db, w, limit=n),
        "losing_products": await trends.changes(db, w, "product", growing=False, limit=n),
    }
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
        "sections": [
            (key, title, trend_rows(t.sections[key], link)) for key, title, link in SECTIONS
        ],
        "lost": t.lost,
        "lost_rows": lost_rows(t.lost),
        "lost_total": sum(r.lost_revenue for r in t.lost),
        "base_days": stockouts.BASE_DAYS,
    }
    return await render(request, "trends.html", ctx)


# The rows are written in one pass, every text field escaped (the numbers are digits): as
# template loops, the page's 120 rows were half of its server time.


def trend_rows(rows: list[Trend], link: str) -> Markup:
    if not rows:
        return Markup('<tr><td colspan="6" class="empty">nothing in this period</td></tr>\n')
    out = []
    for r in rows:
        hint = escape(
            "new: first seen in the period"
            if r.prev_units is None
            else f"{r.prev_units} → {r.units} units"
        )
        out.append(
            f'<tr><td class="int"><a href="{escape(link.format(r.id))}">{escape(fmt(r.id, "int"))}'
            f'</a></td><td>{escape(fmt(r.title))}</td><td class="int" title="{hint}">'
            f'<a href="/how-we-count">{escape(fmt(r.units, "int"))}</a></td>'
            f'<td class="money">{escape(fmt(r.revenue, "money"))}</td>'
            f'<td class="int">{escape(fmt(r.prev_units, "int"))}</td>'
            f'<td class="pct" title="{hint}">{escape(fmt(r.growth_pct, "pct"))}</td></tr>\n'
        )
    return Markup("".join(out))


def lost_rows(rows: list[LostSales]) -> Markup:
    if not rows:
        return Markup(
            '<tr><td colspan="8" class="empty">no product that sold ran out of stock in this '
            "period</td></tr>\n"
        )
    out = []
    for r in rows:
        days, rate = f"{r.out_of_stock_days:.2f}", f"{r.units_per_day:.2f}"
        per_day = escape(fmt(r.revenue_per_day, "money"))
        out.append(
            f'<tr><td class="int"><a href="/products/{escape(r.id)}">{escape(fmt(r.id, "int"))}'
            f'</a></td><td>{escape(fmt(r.title))}</td><td class="int">{days}</td>'
            f'<td class="int">{rate}</td><td class="money">{per_day}</td>'
            f'<td class="int" title="{days} days × {rate} units a day">'
            f"{escape(fmt(r.lost_units, 'int'))}</td>"
            f'<td class="money" title="{days} days × {per_day} so\'m a day">'
            f"{escape(fmt(r.lost_revenue, 'money'))}</td><td>{escape(fmt(r.still_out))}</td></tr>\n"
        )
    return Markup("".join(out))


def trends_json(t: Trends) -> dict[str, Any]:
    w = t.window
    out: dict[str, Any] = sw.window_json(w)
    for key, rows in t.sections.items():
        out[key] = [dataclasses.asdict(r) for r in rows]
    out["lost_base_days"] = stockouts.BASE_DAYS
    out["lost_to_stockouts"] = [dataclasses.asdict(r) for r in t.lost]
    return out
