"""One product's page: what it is, its SKUs, and its price, stock and sales over time.

The charts are built from change-based history (a row only when a value changed): prices and
stock are steps that hold until the next change, and a SKU not seen for longer than a scan
cycle ends in a visible gap. Units per day come from the sales rollups, today so far included
(kept current every minute); a day never observed is shown as such, never as zero.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import asyncpg
from aiohttp import web

from marketplaced.jobs import triggers
from marketplaced.platforms.uzum import schedule_figures
from marketplaced.web import param_spec as ps
from marketplaced.web import product_charts as pc
from marketplaced.web.charts import Series, line_chart
from marketplaced.web.queries import product_detail, product_sales
from marketplaced.web.views.catalog import HISTORY_PARAMS, path_id
from marketplaced.web.views.common import (
    CONFIG,
    ago,
    category_tree,
    params,
    pool,
    render,
    zone,
)

PRODUCT_PAGE_PARAMS = (*HISTORY_PARAMS, ps.integer("sku", "the SKU to highlight"))
#: change-based history cannot see a missed observation in the middle, but it can see the end:
#: a SKU not seen for 2 days (longer than a scan cycle) is drawn with a gap after its last sighting
OBSERVATION_GAP_S = 2 * 86400
#: the SKU table shows this many rows; the rest fold under a <details> (no script needed)
SKU_ROWS_SHOWN = 10
#: how each day's units were counted, in the words of the "How we count" page
_HOW = {"orders": "order-counter delta", "stock": "stock delta (the counter went back)"}


async def product_page(request: web.Request) -> web.Response:
    pid = path_id(request, "id")
    p = params(request, PRODUCT_PAGE_PARAMS)
    days = p.integer_or_default("days")
    tz = zone(request)
    tree = await category_tree(request)
    days_tz = triggers.timezone(request.app[CONFIG].jobs.timezone)
    # the page's reads one after another on one connection: a connection taken from the pool
    # and given back (with its reset statement) per read was a tenth of the page's server time
    async with pool(request).acquire() as db:
        row = await product_detail.product(db, pid)
        if row is None:
            raise web.HTTPNotFound(text=f"no product {pid} in the database\n")
        sku_rows = await product_detail.skus(db, pid)
        since = datetime.now(UTC) - timedelta(days=days)
        history = await product_detail.price_history(db, pid, [s["id"] for s in sku_rows], since)
        stats = await product_detail.stats_history(db, pid, since)
        # nothing is known before the first observation: the charts start there, not months
        # earlier
        seen = [r["observed_at"] for r in (*history, *stats)] + [row["first_seen"]]
        first = min(seen)
        due = await schedule_figures.next_check(db, pid)
        now = datetime.now(UTC)
        today = now.astimezone(days_tz).date()
        daily = await product_sales.product_days(
            db, pid, max(since, first).astimezone(days_tz).date(), today
        )
    # a little room before the first point: 5 % of the observed span, at least five minutes
    pad = max((datetime.now(UTC) - first) / 20, timedelta(minutes=5))
    start, end = max(since, first - pad).timestamp(), time.time()
    ids = [s["id"] for s in sku_rows]
    chosen = p.integer("sku")
    highlight = ids.index(chosen) if chosen in ids else 0
    next_check = None if due is None else schedule_figures.next_check_text(due[1], now)
    ctx = {
        "title": row["title"],
        "product": row,
        "skus": sku_rows[:SKU_ROWS_SHOWN],
        "more_skus": sku_rows[SKU_ROWS_SHOWN:],
        "chain": tree.chain(row["category_id"]),
        "checked": ago(row["checked_at"] or row["last_seen"]),
        # adaptive mode: when the schedule will look again (round-robin has no such time)
        "next_check": next_check,
        "stale": {s["id"] for s in sku_rows if _until(s["last_seen"])[1]},
        "price_chart": pc.price_chart(
            price_lines(sku_rows, history, start, row["last_seen"]),
            start=start,
            end=end,
            tz=tz,
            highlight=highlight,
        ),
        "banded": len(sku_rows) > pc.MANY_SKUS,
        "highlighted": sku_rows[highlight] if sku_rows else None,
        "stock_chart": pc.stock_chart(
            stock_line(stats, start, row["last_seen"]), start=start, end=end, tz=tz
        ),
        "units_chart": pc.units_chart(day_bars(daily, today), start=start, end=end, tz=days_tz)
        if daily
        else None,
        "orders_chart": orders_chart(stats, start, row["last_seen"], tz),
        "characteristics": characteristics(row["characteristics"]),
        "days": days,
        "uzum_url": f"https://uzum.uz/product/{pid}",
    }
    return await render(request, "product.html", ctx)


def characteristics(raw: Any) -> list[tuple[str, str]]:
    """[(title, "value, value")] from the product's characteristics JSON (upstream shape)."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    out = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict):
            values = item.get("values") or []
            titles = [str(v.get("title", "")) for v in values if isinstance(v, dict)]
            out.append((str(item.get("title", "")), ", ".join(t for t in titles if t)))
    return out


def _until(last_seen: datetime | None) -> tuple[float, bool]:
    """Where observation ends: now, or the last sighting when that is older than a cycle."""
    now = time.time()
    if last_seen is None:
        return now, False
    seen = last_seen.timestamp()
    return (seen, True) if now - seen > OBSERVATION_GAP_S else (now, False)


def step_points(
    rows: Sequence[asyncpg.Record], key: str, start: float, until: float, gap: bool
) -> list[tuple[float, float | None]]:
    """Change rows → step points from the window start to `until`; a trailing None when the
    SKU stopped being observed (drawn as a gap up to now)."""
    pts: list[tuple[float, float | None]] = []
    for r in rows:
        value = r[key]
        pts.append(
            (max(r["observed_at"].timestamp(), start), None if value is None else float(value))
        )
    if pts:
        pts.append((until, pts[-1][1]))
        if gap:
            pts.append((until + 1, None))
    return pts


def _observed(rows: Sequence[asyncpg.Record], start: float) -> frozenset[float]:
    """The changes seen inside the window (the row before it only sets the opening value)."""
    return frozenset(t for r in rows if (t := r["observed_at"].timestamp()) >= start)


def price_lines(
    skus: Sequence[asyncpg.Record],
    history: Sequence[asyncpg.Record],
    start: float,
    product_seen: datetime | None,
) -> list[pc.Line]:
    by_sku: dict[int, list[asyncpg.Record]] = {}
    for r in history:
        by_sku.setdefault(r["sku_id"], []).append(r)
    lines = []
    for sku in skus:
        rows = by_sku.get(sku["id"], [])
        seen = min(sku["last_seen"], product_seen) if product_seen else sku["last_seen"]
        until, gap = _until(seen)
        label = f"SKU {sku['id']}" + (
            f": {sku['characteristics']}" if sku["characteristics"] else ""
        )
        pts = step_points(rows, "purchase_price", start, until, gap)
        lines.append(pc.Line(label, pts, _observed(rows, start)))
    return lines


def stock_line(
    stats: Sequence[asyncpg.Record], start: float, last_seen: datetime | None
) -> pc.Line:
    until, gap = _until(last_seen)
    pts = step_points(stats, "total_available", start, until, gap)
    return pc.Line("in stock", pts, _observed(stats, start))


def day_bars(days: Sequence[product_sales.ProductSalesDay], today: date) -> list[pc.DayBar]:
    """One bar per day: counted, observed without a change (zero), or never observed."""
    bars = []
    for d in days:
        if d.units is None:
            bars.append(pc.DayBar(d.day, None))
            continue
        how = _how(d)
        if d.day == today:
            how += " (today so far)"
        bars.append(pc.DayBar(d.day, d.units, d.revenue, how))
    return bars


def _how(d: product_sales.ProductSalesDay) -> str:
    """How a day's units were counted, in the words of the "How we count" page."""
    if d.unchanged:
        return "observed, no change: nothing sold"
    kinds = [k for k, n in (("orders", d.units_orders), ("stock", d.units_stock)) if n]
    how = " and ".join(_HOW[k] for k in kinds) or "no sale observed"
    if d.units_split:
        how += f" ({d.units_split} split over a scan gap)"
    if d.first_seen:
        how += " (first seen that day)"
    return how


def orders_chart(
    stats: Sequence[asyncpg.Record], start: float, last_seen: datetime | None, tz: tzinfo
) -> Any:
    until, gap = _until(last_seen)
    return line_chart(
        [
            Series("orders (cumulative)", step_points(stats, "orders_amount", start, until, gap)),
            Series("reviews", step_points(stats, "reviews_amount", start, until, gap)),
        ],
        title="Orders and reviews over time",
        tz=tz,
        start=start,
        end=time.time(),
        zero_based=True,
    )
