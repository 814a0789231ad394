"""JSON API `/api/v1/…`: the dashboard's data for scripts and other services.

Lists answer `{"items": [...], "next_cursor": …, "next_offset": …, "limit": n}`: pass
`cursor` (or `offset` for the ranked aggregates) back to get the next page; sorting always ends
on a unique key, so pages never overlap or skip. Every parameter is validated by the same
builders as the pages (a bad one is a 400 with `{"error": message}`); money is a decimal string
for UZEX (numeric) and an integer in so'm for Uzum. Each handler reads its query string against
the parameter table of its page (param_spec.py); endpoints.py pairs handlers with those tables
and the answers' schemas, and `/api/v1/openapi.json` is written from that.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from marketplaced.web.listing import Count, ListQuery, fetch_page, json_value
from marketplaced.web.param_spec import Param
from marketplaced.web.params import ParamError, Params
from marketplaced.web.queries import catalog, product_detail, uzex
from marketplaced.web.queries import sellers as sellers_q
from marketplaced.web.views import analytics as analytics_views
from marketplaced.web.views import catalog as catalog_views
from marketplaced.web.views import category_page as category_views
from marketplaced.web.views import product as product_views
from marketplaced.web.views import seller as seller_views
from marketplaced.web.views import status_page
from marketplaced.web.views import trends as trends_views
from marketplaced.web.views import uzex as uzex_views
from marketplaced.web.views.common import STATUS, category_tree, params, pool

#: row keys used for paging only, not part of the data
_INTERNAL = frozenset({"sort_key", "sku_key"})

Builder = Callable[[web.Request, Params], Awaitable[ListQuery | None]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, default=json_value, ensure_ascii=False, separators=(",", ":"))


async def _list(request: web.Request, table: tuple[Param, ...], build: Builder) -> web.Response:
    p = params(request, table)
    q = await build(request, p)
    if q is None:
        raise ParamError("missing required parameter")
    page = await fetch_page(pool(request), q)
    items = [{k: json_value(v) for k, v in row.items() if k not in _INTERNAL} for row in page.rows]
    return _json(
        {
            "items": items,
            "next_cursor": page.next_cursor,
            "next_offset": page.next_offset,
            "limit": q.limit,
        }
    )


async def _counted(
    request: web.Request, q: ListQuery, count: Count, total: int | None = None
) -> web.Response:
    """A list answer with `total`: how many rows the filters match, up to the count's cap
    (`total_capped` says the true number is larger); counted now unless given."""
    page = await fetch_page(pool(request), q)
    items = [{k: json_value(v) for k, v in row.items() if k not in _INTERNAL} for row in page.rows]
    if total is None:
        total = await pool(request).fetchval(count.sql, *count.args)
    return _json(
        {
            "items": items,
            "next_cursor": page.next_cursor,
            "next_offset": page.next_offset,
            "limit": q.limit,
            "total": min(total, count.cap),
            "total_capped": total > count.cap,
        }
    )


async def products(request: web.Request) -> web.Response:
    p = params(request, catalog_views.PRODUCT_PARAMS)
    f = await catalog_views.products_filter(request, p)
    count = catalog.product_count(f)
    total = await catalog_views.product_total(request, pool(request), f, count)
    return await _counted(request, catalog.product_list(f), count, total)


#: row columns the API leaves out: the search skeleton is the database's means, not data, and
#: characteristics are published in their readable form instead
_NOT_PUBLISHED = frozenset({"search_text", "search_words", "characteristics"})


async def product(request: web.Request) -> web.Response:
    pid = _int_path(request, "id")
    params(request)
    db = pool(request)
    row = await product_detail.product(db, pid)
    if row is None:
        raise web.HTTPNotFound(text=f"no product {pid}")
    data = {k: json_value(v) for k, v in row.items() if k not in _NOT_PUBLISHED}
    data["characteristics"] = [
        {"title": t, "values": v} for t, v in product_views.characteristics(row["characteristics"])
    ]
    data["skus"] = [
        {k: json_value(v) for k, v in s.items()} for s in await product_detail.skus(db, pid)
    ]
    data["url"] = f"https://uzum.uz/product/{pid}"
    return _json(data)


async def product_history(request: web.Request) -> web.Response:
    pid = _int_path(request, "id")
    p = params(request, catalog_views.HISTORY_PARAMS)
    days = p.integer_or_default("days")
    db = pool(request)
    if await product_detail.product(db, pid) is None:
        raise web.HTTPNotFound(text=f"no product {pid}")
    since = datetime.now(UTC) - timedelta(days=days)
    sku_ids = [s["id"] for s in await product_detail.skus(db, pid)]
    prices = await product_detail.price_history(db, pid, sku_ids, since)
    stats = await product_detail.stats_history(db, pid, since)
    return _json(
        {
            "product_id": pid,
            "since": since.isoformat(),
            "prices": [{k: json_value(v) for k, v in r.items()} for r in prices],
            "stats": [{k: json_value(v) for k, v in r.items()} for r in stats],
            "truncated": len(prices) >= product_detail.HISTORY_ROW_CAP,
        }
    )


async def sellers(request: web.Request) -> web.Response:
    p = params(request, catalog_views.SELLER_PARAMS)
    q, count, _ = await catalog_views.sellers_query(request, p)
    return await _counted(request, q, count)


async def seller(request: web.Request) -> web.Response:
    sid = _int_path(request, "id")
    params(request)
    row = await sellers_q.seller(pool(request), sid)
    if row is None:
        raise web.HTTPNotFound(text=f"no seller {sid}")
    data = {k: json_value(v) for k, v in row.items() if k not in _NOT_PUBLISHED}
    cats = await sellers_q.seller_categories(pool(request), sid)
    data["top_categories"] = [{k: json_value(v) for k, v in c.items()} for c in cats]
    return _json(data)


async def seller_sales(request: web.Request) -> web.Response:
    sid = _int_path(request, "id")
    p = params(request, seller_views.SELLER_SALES_PARAMS)
    data = await seller_views.seller_sales(request, sid, p)
    return _json(seller_views.seller_sales_json(data))


async def seller_comparison(request: web.Request) -> web.Response:
    p = params(request, seller_views.COMPARISON_PARAMS)
    c = await seller_views.comparison_of(request, p, required=True)
    if c is None:  # required: comparison_of raises instead
        raise ParamError("parameter 'ids' is required")
    return _json(seller_views.comparison_json(c))


async def price_drops(request: web.Request) -> web.Response:
    return await _list(request, analytics_views.DROP_PARAMS, analytics_views.drops_query)


async def top_sellers(request: web.Request) -> web.Response:
    return await _list(request, analytics_views.TOP_PARAMS, analytics_views.top_sellers_query)


async def compare(request: web.Request) -> web.Response:
    async def build(req: web.Request, p: Params) -> ListQuery | None:
        q = await analytics_views.compare_query(req, p)
        if q is None:
            raise ParamError("parameter 'q' is required (3 to 100 characters)")
        return q

    return await _list(request, analytics_views.COMPARE_PARAMS, build)


async def trends(request: web.Request) -> web.Response:
    return _json(trends_views.trends_json(await trends_views.trends_of(request)))


async def categories(request: web.Request) -> web.Response:
    """The whole category tree, depth-first (the tree filter loads it when it is used)."""
    params(request)
    tree = await category_tree(request)
    return _json({"items": [dataclasses.asdict(o) for o in tree.options()]})


async def category_market(request: web.Request) -> web.Response:
    return _json(category_views.market_json(await category_views.market_of(request)))


async def category_overview(request: web.Request) -> web.Response:
    p = params(request, analytics_views.OVERVIEW_PARAMS)
    category = p.integer("category")
    overview = await analytics_views.category_overview(request, category)
    items = []
    for f in overview.figures:
        item = {
            k: v
            for k, v in dataclasses.asdict(f).items()
            if k not in ("bands", "price_sum", "priced")
        }
        item["avg_price"] = f.avg_price
        item["price_bands"] = dict(zip(overview.band_labels, f.bands, strict=True))
        items.append(item)
    return _json({"category": category, "items": items})


async def uzex_lots(request: web.Request) -> web.Response:
    async def build(_: web.Request, p: Params) -> ListQuery:
        return uzex_views.lots_query(p)

    return await _list(request, uzex_views.LOT_PARAMS, build)


async def uzex_lot(request: web.Request) -> web.Response:
    params(request)
    lot_type, raw_id = request.match_info["type"], request.match_info["id"]
    if lot_type not in uzex.LOT_TYPES or not raw_id.isdigit() or len(raw_id) > 18:
        raise ParamError("expected /api/v1/uzex/lots/<auction|shop|national|etender>/<id>")
    db = pool(request)
    row = await uzex.lot(db, lot_type, int(raw_id))
    if row is None:
        raise web.HTTPNotFound(text=f"no {lot_type} lot {raw_id}")
    data = {k: json_value(v) for k, v in row.items() if k != "extra"}
    items = await uzex.lot_items(db, lot_type, int(raw_id))
    data["items"] = [{k: json_value(v) for k, v in r.items()} for r in items]
    return _json(data)


async def dead_letters(request: web.Request) -> web.Response:
    async def build(_: web.Request, p: Params) -> ListQuery:
        return status_page.dead_letters_query(p)

    return await _list(request, status_page.DEAD_LETTER_PARAMS, build)


async def status(request: web.Request) -> web.Response:
    params(request)
    source = request.app[STATUS]
    writer = source.writer()
    return _json(
        {
            "time": time.time(),
            "started_at": source.started_at(),
            "scanners": [
                {"name": s.name, "blocked_reason": s.blocked_reason, **dict(s.snapshot)}
                for s in source.scanners()
            ],
            "writer": _with_buckets(writer) if writer else None,
            "hosts": {k: _host(h) for k, h in source.hosts().items()},
            "services": [dataclasses.asdict(s) for s in source.services()],
            "jobs": [dataclasses.asdict(j) for j in source.jobs()],
            "health": [dataclasses.asdict(h) for h in source.health()],
            "redis_down_since": source.redis_down_since(),
        }
    )


def _with_buckets(obj: Any) -> dict[str, Any]:
    """A dataclass as JSON-safe data: the +inf bucket bound becomes "+Inf" (JSON has no inf)."""
    data = dataclasses.asdict(obj)
    data["latency_buckets"] = [["+Inf" if math.isinf(b) else b, n] for b, n in obj.latency_buckets]
    return data


def _host(h: Any) -> dict[str, Any]:
    data = _with_buckets(h)
    data["outcomes"] = dict(h.outcomes)
    return data


def _int_path(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 18:
        raise ParamError(f"'{raw[:40]}' is not a valid id")
    return int(raw)
