"""The UZEX upstream over HTTP: switchable behaviours, request counts and the aiohttp routes.

``UzexSimulator`` ties a catalogue to the upstream behaviours a test switches on (``UzexFaults``:
browser-only User-Agent, the auction host's ``Validation`` demand, delays, empty pages, removed or
deeply nested lots, hosts down); ``add_uzex_routes`` mounts every UZEX host under its path prefix
(the table is in the package docstring) and applies those behaviours in the order the real hosts
show them.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from marketplaced.platforms.uzex.records import LotStatus, LotType
from marketplaced.simulator.faults import DEEPNEST_LEVELS
from marketplaced.simulator.uzex.catalogue import UzexCatalogue
from marketplaced.simulator.uzex.lots import Lot
from marketplaced.simulator.uzex.vocabulary import CATEGORIES, REGIONS

Host = Literal["auction", "shop", "etender", "trade"]


@dataclass(frozen=True, slots=True)
class UzexFaults:
    """Upstream behaviours to switch on; replace `UzexSimulator.faults` to change them live."""

    #: answer HTTP 500 "Missing User-Agent header" unless the User-Agent looks like a browser
    require_browser_ua: bool = True
    #: the auction host demands its JavaScript-made `Validation` header: HTTP 500 "Not Valid"
    auction_not_valid: bool = False
    #: seconds to wait before answering (the real hosts take 30–60 s on bad days)
    delay_s: float = 0.0
    #: every list answers `[]`
    empty_pages: bool = False
    #: (lot type, lot id) whose detail endpoints answer 404 while lists still show them
    removed_lots: frozenset[tuple[LotType, int]] = frozenset()
    #: hosts that answer every request with HTTP 503 (an outage of that host)
    down_hosts: frozenset[Host] = frozenset()
    #: (lot type, lot id) whose detail endpoints answer well-formed JSON nested deeper than
    #: any decoder recurses: one such body must cost that lot only
    deep_nested_lots: frozenset[tuple[LotType, int]] = frozenset()


@dataclass(slots=True)
class UzexSimulator:
    """The catalogue plus upstream behaviours and request counts, shared by the routes."""

    catalogue: UzexCatalogue
    faults: UzexFaults = field(default_factory=UzexFaults)
    #: requests seen per host (after the delay, before any gate), for tests and benchmarks
    requests: Counter[str] = field(default_factory=Counter)

    def advance(self, ticks: int = 1) -> None:
        self.catalogue.advance(ticks)


UZEX_SIMULATOR = web.AppKey("uzex_simulator", UzexSimulator)

_Handler = Callable[[UzexSimulator, web.Request], Awaitable[web.Response]]


def _json(data: object, status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False)
    return web.Response(text=body, status=status, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"status": status, "message": message}, status=status)


def _browser_like(user_agent: str | None) -> bool:
    """Upstream lets only full browser strings through; curl, python-requests and bots fail."""
    return user_agent is not None and user_agent.startswith("Mozilla/")


def _gated(host: Host, handler: _Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Apply the simulated upstream behaviours in the order the real hosts show them."""

    async def wrapped(request: web.Request) -> web.Response:
        sim = request.app[UZEX_SIMULATOR]
        faults = sim.faults
        if faults.delay_s > 0:
            await asyncio.sleep(faults.delay_s)
        sim.requests[host] += 1
        if host in faults.down_hosts:
            return _error(503, "Service Unavailable")
        if faults.require_browser_ua and not _browser_like(request.headers.get("User-Agent")):
            return _error(500, "Приложение : Missing User-Agent header")
        if host == "auction" and faults.auction_not_valid:
            return _error(500, "Приложение : Not Valid")
        return await handler(sim, request)

    return wrapped


class _BadRequest(Exception):
    pass


async def _window(request: web.Request) -> tuple[Mapping[str, object], int, int]:
    """The JSON body, and its from/to keys matched case-insensitively (From/To on e-tender)."""
    try:
        body = await request.json()
    except ValueError:
        raise _BadRequest("body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("body is not an object")
    folded = {str(k).lower(): v for k, v in body.items()}
    return folded, _integer(folded.get("from")), _integer(folded.get("to"))


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRequest("from/to must be integers")
    return value


def _shop_type(body: Mapping[str, object]) -> LotType:
    """The shop host's switches: display_on_national=1 (and not on shop) means national."""
    national = body.get("display_on_national") in (1, True) and body.get("display_on_shop") not in (
        1,
        True,
    )
    return "national" if national else "shop"


def _list(lot_type: LotType | None, status: LotStatus) -> _Handler:
    """A paged list; lot_type None means the shop host, which picks shop/national by body."""

    async def handler(sim: UzexSimulator, request: web.Request) -> web.Response:
        try:
            body, first, last = await _window(request)
        except _BadRequest as exc:
            return _error(400, str(exc))
        if sim.faults.empty_pages:
            return _json([])
        return _json(sim.catalogue.page(lot_type or _shop_type(body), status, first, last))

    return handler


def _detail(
    lot_types: Sequence[LotType], status: LotStatus, render: Callable[[UzexCatalogue, Lot], object]
) -> _Handler:
    """One lot by id from the path; 404 for unknown and removed lots."""

    async def handler(sim: UzexSimulator, request: web.Request) -> web.Response:
        try:
            lot_id = int(request.match_info["lot_id"])
        except ValueError:
            return _error(400, "lot id must be an integer")
        for lot_type in lot_types:
            lot = sim.catalogue.find(lot_type, lot_id, status)
            if lot is not None and (lot_type, lot_id) in sim.faults.deep_nested_lots:
                deep = b"[" * DEEPNEST_LEVELS + b"]" * DEEPNEST_LEVELS
                return web.Response(body=deep, content_type="application/json")
            if lot is not None and (lot_type, lot_id) not in sim.faults.removed_lots:
                return _json(render(sim.catalogue, lot))
        return _error(404, "Not Found")

    return handler


def _reference(rows: tuple[tuple[int, str], ...]) -> _Handler:
    async def handler(sim: UzexSimulator, request: web.Request) -> web.Response:
        return _json([{"id": ref_id, "name": name} for ref_id, name in rows])

    return handler


def add_uzex_routes(app: web.Application, sim: UzexSimulator) -> None:
    """Mount every UZEX host under its prefix (see the module docstring) and store `sim`."""
    app[UZEX_SIMULATOR] = sim
    routes: list[tuple[str, Host, str, _Handler]] = [
        ("POST", "auction", "/auction/Common/GetCompletedDeals", _list("auction", "completed")),
        (
            "GET",
            "auction",
            "/auction/Common/GetCompletedDealProducts/{lot_id}",
            _detail(("auction",), "completed", UzexCatalogue.deal_products),
        ),
        ("POST", "auction", "/auction/Common/GetMinimizedLotsList", _list("auction", "active")),
        (
            "GET",
            "auction",
            "/auction/Common/GetLot/{lot_id}",
            _detail(("auction",), "active", UzexCatalogue.lot_detail),
        ),
        ("POST", "shop", "/shop/Common/GetCompletedDeals", _list(None, "completed")),
        ("POST", "shop", "/shop/Common/GetNotCompletedDeals", _list(None, "active")),
        (
            "GET",
            "shop",
            "/shop/Common/GetLot/{lot_id}",
            _detail(("shop", "national"), "active", UzexCatalogue.lot_detail),
        ),
        ("POST", "etender", "/etender/api/common/DealsList", _list("etender", "completed")),
        (
            "GET",
            "etender",
            "/etender/api/common/GetTrade/{lot_id}/0",
            _detail(("etender",), "completed", UzexCatalogue.trade),
        ),
        ("GET", "trade", "/trade/Lib/GetCategories", _reference(CATEGORIES)),
        ("GET", "trade", "/trade/Lib/GetRegions", _reference(REGIONS)),
    ]
    for method, host, path, handler in routes:
        app.router.add_route(method, path, _gated(host, handler))
