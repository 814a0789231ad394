"""Each platform reaches its hosts by its own routes: its policy, its headers. When several
platforms share one origin (the simulator serves them all), none of them sends another's headers
or spends another's rate, and each keeps its own counters there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from marketplaced import platforms
from marketplaced.http import Fetcher, HostPolicy, Route
from marketplaced.platforms import load_config as load
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzum.config import UzumConfig

from .conftest import env_for_tests


async def _echo_server(aiohttp_server: Any) -> tuple[Any, list[Mapping[str, str]]]:
    """A server answering /x, and the headers of every request it got."""
    seen: list[Mapping[str, str]] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/x", echo)
    return await aiohttp_server(app), seen


async def test_platforms_sharing_one_origin_send_only_their_own_headers(
    aiohttp_server: Any,
) -> None:
    server, seen = await _echo_server(aiohttp_server)
    host = f"127.0.0.1:{server.port}"
    a = Route(HostPolicy(rps=0.0, concurrency=3), {"User-Agent": "a/1", "X-Only-A": "1"})
    b = Route(HostPolicy(rps=0.0, concurrency=5), {"User-Agent": "b/1"})
    async with Fetcher(HostPolicy(), routes={"a": {host: a}, "b": {host: b}}) as fetcher:
        await fetcher.for_platform("a").get_json(str(server.make_url("/x")))
        await fetcher.for_platform("b").get_json(str(server.make_url("/x")))
        stats = fetcher.stats()
    assert seen[0]["User-Agent"] == "a/1" and seen[0]["X-Only-A"] == "1"
    assert seen[1]["User-Agent"] == "b/1" and "X-Only-A" not in seen[1]
    # one limiter, breaker and counter set per platform on the shared origin
    assert {k: s.concurrency for k, s in stats.items()} == {f"a@{host}": 3, f"b@{host}": 5}


async def test_reloaded_routes_change_the_next_requests_headers_and_limits(
    aiohttp_server: Any,
) -> None:
    """A route is resolved once per platform and host, not per request: a reload must still
    reach the very next request, even one to a host already seen."""
    server, seen = await _echo_server(aiohttp_server)
    host = f"127.0.0.1:{server.port}"
    old = Route(HostPolicy(rps=0.0, concurrency=3), {"User-Agent": "old/1"})
    new = Route(HostPolicy(rps=0.0, concurrency=7), {"User-Agent": "new/2"})
    async with Fetcher(HostPolicy(), routes={"a": {host: old}}) as fetcher:
        platform = fetcher.for_platform("a")
        await platform.get_json(str(server.make_url("/x")))
        fetcher.update_policies(HostPolicy(), routes={"a": {host: new}})
        await platform.get_json(str(server.make_url("/x")))
        stats = fetcher.stats()
    assert [h["User-Agent"] for h in seen] == ["old/1", "new/2"]
    assert stats[host].concurrency == 7


def test_uzum_and_uzex_on_one_origin_keep_their_own_policies_and_headers() -> None:
    cfg = load(
        {**env_for_tests(), "UZUM_BASE_URL": "http://sim:8090", "UZEX_BASE_URL": "http://sim:8090"},
        path=None,
    )
    routes = platforms.routes(cfg)
    uzum, uzex = routes["uzum"]["sim:8090"], routes["uzex"]["sim:8090"]
    assert (
        uzum.policy.rps == cfg.section(UzumConfig).rps
        and uzex.policy.rps == cfg.section(UzexConfig).rps
    )
    assert uzum.headers["User-Agent"] == cfg.section(UzumConfig).user_agent
    assert uzex.headers["Origin"] == cfg.section(UzexConfig).origin and "Origin" not in uzum.headers


def test_each_scanner_is_judged_by_its_own_platforms_limit() -> None:
    cfg = load(env_for_tests(), path=None)
    assert platforms.max_stale_s(cfg, "uzum.products#1/2") == cfg.section(UzumConfig).max_stale_s
    assert platforms.max_stale_s(cfg, "uzex.auction.active") == cfg.section(UzexConfig).max_stale_s
    # a name no platform claims is never called stalled before a known one would be
    lenient = max(cfg.section(UzumConfig).max_stale_s, cfg.section(UzexConfig).max_stale_s)
    assert platforms.max_stale_s(cfg, "gone.scanner") == lenient
