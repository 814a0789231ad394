"""UZEX pages: lots by type with filters (and CSV), one lot with its items and status history,
and customer/provider pages. Until the UZEX tables exist the pages say "no data yet"."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from marketplaced.web import param_spec as ps
from marketplaced.web.listing import ListQuery, fetch_page
from marketplaced.web.param_spec import MAX_CSV_LIMIT
from marketplaced.web.params import ParamError, Params, range_check
from marketplaced.web.queries import uzex
from marketplaced.web.queries.uzex import LotFilter
from marketplaced.web.views.common import (
    csv_all_link,
    is_export,
    list_response,
    params,
    pool,
    render,
)

#: costs are so'm with tiyin, numeric(20,2): 18 integer digits at most
MAX_COST = 10**17

LOT_PARAMS = (
    ps.choice("type", "lot type", uzex.LOT_TYPES, "auction"),
    ps.choice("status", "status", uzex.STATUSES),
    ps.inn("customer", "customer INN/PINFL"),
    ps.inn("provider", "provider INN/PINFL"),
    ps.text("category", "category name", max_len=300),
    ps.text("region", "customer region", max_len=200),
    ps.day("from", "date from (deal, else start)"),
    ps.day("to", "date to, inclusive"),
    ps.number("min_cost", "cost at least", lo=0, hi=MAX_COST),
    ps.number("max_cost", "cost at most", lo=0, hi=MAX_COST),
    ps.choice("sort", "order", uzex.LOT_SORTS, "date"),
    ps.LIMIT,
    ps.CURSOR,
)
PARTY_PARAMS = (ps.choice("type", "only lots of this type", uzex.LOT_TYPES),)


def lots_query(p: Params, *, csv: bool = False) -> ListQuery:
    sort = p.choice("sort")
    min_cost, max_cost = p.number("min_cost"), p.number("max_cost")
    range_check("min_cost", min_cost, "max_cost", max_cost)
    date_from, date_to = p.day("from"), p.day("to")
    if date_from and date_to and date_from > date_to:
        raise ParamError("parameter 'from' must not exceed 'to'")
    f = LotFilter(
        lot_type=p.choice("type"),
        status=p.choice("status") or None,
        customer_inn=p.inn("customer"),
        provider_inn=p.inn("provider"),
        category=p.text("category"),
        region=p.text("region"),
        date_from=date_from,
        date_to=date_to,
        min_cost=None if min_cost is None else Decimal(str(min_cost)),
        max_cost=None if max_cost is None else Decimal(str(max_cost)),
        sort=sort,
        cursor=p.cursor(uzex.cursor_kinds(sort)),
        limit=p.limit(csv=csv),
    )
    return uzex.lot_list(f)


async def lots_page(request: web.Request) -> web.StreamResponse:
    p = params(request, LOT_PARAMS)
    q = lots_query(p, csv=is_export(request))
    ctx = {
        "title": "UZEX lots",
        "form": dict(request.rel_url.query),
        "types": uzex.LOT_TYPES,
        "statuses": uzex.STATUSES,
        "sorts": uzex.LOT_SORTS,
        "csv_all": csv_all_link(request, MAX_CSV_LIMIT),
    }
    return await list_response(request, q, "uzex_lots.html", ctx, "uzex-lots.csv")


async def lot_page(request: web.Request) -> web.Response:
    params(request)
    lot_type = request.match_info["type"]
    raw_id = request.match_info["id"]
    if lot_type not in uzex.LOT_TYPES or not raw_id.isdigit() or len(raw_id) > 18:
        raise web.HTTPBadRequest(text="expected /uzex/lots/<auction|shop|national|etender>/<id>\n")
    db = pool(request)
    row = await uzex.lot(db, lot_type, int(raw_id))
    if row is None:
        raise web.HTTPNotFound(text=f"no {lot_type} lot {raw_id} in the database\n")
    ctx = {
        "title": f"UZEX {lot_type} lot {row['display_no'] or raw_id}",
        "lot": row,
        "items": await uzex.lot_items(db, lot_type, int(raw_id)),
        "history": await uzex.lot_history(db, lot_type, int(raw_id)),
    }
    return await render(request, "uzex_lot.html", ctx)


async def party_page(request: web.Request) -> web.Response:
    kind = "customer" if request.path.startswith("/uzex/customers/") else "provider"
    inn = request.match_info["inn"]
    p = params(request, PARTY_PARAMS)
    lot_type = p.choice("type")
    if not inn.isdigit() or len(inn) not in (9, 14):
        raise web.HTTPBadRequest(text="expected a 9-digit INN or a 14-digit PINFL\n")
    db = pool(request)
    totals = await uzex.party_totals(db, kind, inn)
    types = [lot_type] if lot_type else [t["lot_type"] for t in totals]
    lots = {}
    for t in types[:4]:
        f = LotFilter(lot_type=t, limit=20, **{f"{kind}_inn": inn})  # type: ignore[arg-type]
        lots[t] = await fetch_page(db, uzex.lot_list(f))
    ctx = {
        "title": f"UZEX {kind} {inn}",
        "kind": kind,
        "inn": inn,
        "party": await uzex.party(db, kind, inn),
        "totals": totals,
        "lots": lots,
    }
    return await render(request, "uzex_party.html", ctx)
