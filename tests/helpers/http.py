"""A scripted aiohttp upstream for fetcher tests (real sockets): routes are behaviours of
(request, n-th hit), the upstream counts hits, arrivals, headers and simultaneous requests."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pytest_aiohttp import AiohttpServer

from marketplaced.config import BROWSER_USER_AGENT
from marketplaced.http import Fetcher, HostPolicy, HostStats
from tests.helpers.virtual_time import VirtualTime

#: what a platform's configuration has its requests carry (docs/upstreams.md)
BROWSER = {
    "User-Agent": BROWSER_USER_AGENT,
    "Accept": "application/json",
    "Accept-Language": "ru-RU,ru;q=0.9",
}

# A route's behaviour: (request, n-th hit on this path starting at 1) -> response.
Behaviour = Callable[[web.Request, int], Awaitable[web.StreamResponse]]

#: No rate limit, tiny backoffs and no breaker unless a test asks: keeps the file fast.
FAST = HostPolicy(
    rps=0,
    concurrency=10,
    timeout_s=2.0,
    max_retries=2,
    backoff_base_s=0.01,
    backoff_max_s=0.05,
    breaker_failures=0,
)


class Upstream:
    """Scripted fake upstream that counts hits per path and simultaneous requests.

    Arrival times are read from `clock`: the fetcher's own clock when a test injects one."""

    def __init__(self, server: Any, clock: Callable[[], float]) -> None:
        self.server = server
        self.clock = clock
        self.hits: dict[str, int] = {}
        self.arrivals: dict[str, list[float]] = {}
        self.headers: list[Mapping[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    @property
    def key(self) -> str:
        return f"{self.server.host}:{self.server.port}"


async def start(
    aiohttp_server: AiohttpServer,
    routes: Mapping[str, Behaviour],
    clock: Callable[[], float] = time.monotonic,
) -> Upstream:
    upstream: Upstream
    app = web.Application()

    def wrap(path: str, behaviour: Behaviour) -> Callable[[web.Request], Awaitable[Any]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            n = upstream.hits[path] = upstream.hits.get(path, 0) + 1
            upstream.arrivals.setdefault(path, []).append(upstream.clock())
            upstream.headers.append(dict(request.headers))
            upstream.in_flight += 1
            upstream.max_in_flight = max(upstream.max_in_flight, upstream.in_flight)
            try:
                return await behaviour(request, n)
            finally:
                upstream.in_flight -= 1

        return handler

    for path, behaviour in routes.items():
        app.router.add_route("*", path, wrap(path, behaviour))
    upstream = Upstream(await aiohttp_server(app), clock)
    return upstream


def json_reply(
    data: Any = None, *, status: int = 200, delay_s: float = 0.0, clock: VirtualTime | None = None
) -> Behaviour:
    """Answer `data` after `delay_s`, of real time or of `clock`'s virtual time."""

    async def behaviour(request: web.Request, n: int) -> web.StreamResponse:
        if delay_s:
            await (clock.upstream_sleep(delay_s) if clock else asyncio.sleep(delay_s))
        return web.json_response(data, status=status)

    return behaviour


def raw_reply(
    body: bytes, *, status: int = 200, content_type: str = "application/json"
) -> Behaviour:
    async def behaviour(request: web.Request, n: int) -> web.StreamResponse:
        return web.Response(body=body, status=status, content_type=content_type)

    return behaviour


def fail_first(times: int, failure: Behaviour, then: Behaviour) -> Behaviour:
    async def behaviour(request: web.Request, n: int) -> web.StreamResponse:
        return await (failure if n <= times else then)(request, n)

    return behaviour


async def reset(request: web.Request, n: int) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.close()
    return web.Response()


def policy(**changes: Any) -> HostPolicy:
    return dataclasses.replace(FAST, **changes)


def host_stats(fetcher: Fetcher, upstream: Upstream) -> HostStats:
    return fetcher.stats()[upstream.key]
