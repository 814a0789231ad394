"""The Uzum upstream over HTTP: aiohttp routes that answer like ``api.uzum.uz``.

``add_uzum_routes`` mounts the upstream paths (product, root categories, one category, shop) and
small ``/__sim/`` control endpoints (advance time, read stats, switch faults) so a test that runs
the daemon as a subprocess can steer the upstream it scans. Each request first asks the fault
injector whether to fail, and how; the healthy answer is only computed when it is needed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from marketplaced.simulator.faults import FaultKind, FaultProfile, fault_response
from marketplaced.simulator.uzum.simulator import UzumSimulator

#: fault-injector keys of the non-product routes live far above any product id, so a product
#: id and a category id never share a fault history
_CATEGORY_KEY: Final = 1 << 40
_SHOP_KEY: Final = 2 << 40
_ROOT_KEY: Final = 3 << 40


def _json(status: int, payload: Any) -> web.Response:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return web.Response(status=status, text=text, content_type="application/json")


def _bad_request(message: str) -> web.Response:
    return _json(400, {"status": 400, "error": "Bad Request", "message": message})


def _id_or_none(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() else None


UZUM_SIMULATOR: Final = web.AppKey("uzum_simulator", UzumSimulator)


async def _answer(
    request: web.Request,
    fault: FaultKind | None,
    healthy: Callable[[], tuple[int, bytes]],
    corrupted: Callable[[], bytes | None] | None = None,
) -> web.StreamResponse:
    """Send the healthy answer, or what ``fault`` turns it into (the healthy answer is only
    computed when it is needed)."""
    if fault is not None:
        sim = request.app[UZUM_SIMULATOR]
        failed = await fault_response(fault, request, lambda: healthy()[1], sim.faults.slow_s)
        if failed is not None:
            return failed
        if fault == "ctrlchars" and corrupted is not None:
            body = corrupted()
            if body is not None:
                return web.Response(body=body, content_type="application/json")
        if fault in ("negprice", "strprice"):
            status, healthy_body = healthy()
            body = _bad_price(healthy_body, fault) if status == 200 else healthy_body
            return web.Response(status=status, body=body, content_type="application/json")
    status, body = healthy()
    return web.Response(status=status, body=body, content_type="application/json")


def _bad_price(body: bytes, fault: FaultKind) -> bytes:
    """The product with its first SKU's list price negative (``negprice``: -5) or its price
    paid sent as a decimal string (``strprice``); other bodies (a miss's empty or product-less
    answer) pass unchanged. Product descriptions carry raw control characters by design, hence
    the lenient decode."""
    try:
        doc = json.loads(body, strict=False)
    except ValueError:
        return body
    data = (doc.get("payload") or {}).get("data") if isinstance(doc, dict) else None
    skus = data.get("skuList") if isinstance(data, dict) else None
    if not skus:
        return body
    if fault == "negprice":
        skus[0]["fullPrice"] = -5
    else:
        skus[0]["purchasePrice"] = str(skus[0]["purchasePrice"])
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


async def _product(request: web.Request) -> web.StreamResponse:
    sim = request.app[UZUM_SIMULATOR]
    sim.requests["product"] += 1
    product_id = _id_or_none(request.match_info["id"])
    if product_id is None:
        sim.requests["bad_request"] += 1
        return _bad_request(f"product id must be an integer, got {request.match_info['id']!r}")
    tick = sim.tick
    fault = sim.injector.decide(product_id)
    return await _answer(
        request,
        fault,
        lambda: sim.product_answer(product_id, tick),
        lambda: sim.corrupted_product(product_id, tick),
    )


async def _root_categories(request: web.Request) -> web.StreamResponse:
    sim = request.app[UZUM_SIMULATOR]
    sim.requests["root_categories"] += 1
    fault = sim.injector.decide(_ROOT_KEY, ranged=False)
    return await _answer(request, fault, lambda: (200, sim.root_categories_body()))


async def _category(request: web.Request) -> web.StreamResponse:
    sim = request.app[UZUM_SIMULATOR]
    sim.requests["category"] += 1
    category_id = _id_or_none(request.match_info["id"])
    if category_id is None:
        sim.requests["bad_request"] += 1
        return _bad_request(f"category id must be an integer, got {request.match_info['id']!r}")
    fault = sim.injector.decide(_CATEGORY_KEY + category_id, ranged=False)
    return await _answer(request, fault, lambda: sim.category_answer(category_id))


async def _shop(request: web.Request) -> web.StreamResponse:
    sim = request.app[UZUM_SIMULATOR]
    sim.requests["shop"] += 1
    link = request.match_info["link"]
    fault = sim.injector.decide(_SHOP_KEY + zlib.crc32(link.encode()), ranged=False)
    return await _answer(request, fault, lambda: sim.shop_answer(link))


# ---- control endpoints ---------------------------------------------------------------------


async def _sim_advance(request: web.Request) -> web.Response:
    sim = request.app[UZUM_SIMULATOR]
    raw = request.query.get("ticks", "1")
    ticks = _id_or_none(raw)
    if ticks is None:
        return _bad_request(f"ticks must be a non-negative integer, got {raw!r}")
    return _json(200, {"tick": sim.advance(ticks)})


async def _sim_stats(request: web.Request) -> web.Response:
    return _json(200, request.app[UZUM_SIMULATOR].stats())


async def _sim_faults(request: web.Request) -> web.Response:
    """Switch the fault profile: the spec comes from ``?spec=`` or the request body."""
    sim = request.app[UZUM_SIMULATOR]
    spec = request.query.get("spec")
    if spec is None:
        spec = await request.text()
    try:
        profile = FaultProfile.parse(spec)
    except ValueError as exc:
        return _bad_request(str(exc))
    sim.faults = profile
    return _json(200, {"profile": profile.spec()})


def add_uzum_routes(app: web.Application, sim: UzumSimulator) -> None:
    """Mount the Uzum upstream paths and the ``/__sim/`` control endpoints on ``app``."""
    app[UZUM_SIMULATOR] = sim
    app.router.add_get("/api/v2/product/{id}", _product)
    app.router.add_get("/api/main/root-categories", _root_categories)
    app.router.add_get("/api/category/v2/{id}", _category)
    app.router.add_get("/api/shop/{link}", _shop)
    app.router.add_post("/__sim/advance", _sim_advance)
    app.router.add_get("/__sim/stats", _sim_stats)
    app.router.add_post("/__sim/faults", _sim_faults)


def build_uzum_app(sim: UzumSimulator) -> web.Application:
    """A stand-alone application serving only the Uzum simulator."""
    app = web.Application()
    add_uzum_routes(app, sim)
    return app
