"""One freshness-benchmark run's simulated Uzum upstream, served from a process of its own.

The runs' simulators used to answer from the benchmark's own event loop, one loop for every
daemon of every run: on a loaded 2-core machine that process waited for the CPU like any other
and stalled every run's requests together (its loop woke up seconds late at the 99th
percentile), so with a fixed number of requests in flight the daemons could not reach their
budget. A process per run gets its own share of the CPU, and a stall holds up one run only.

The catalogue is a pure function of (seed, id, tick), so the benchmark keeps an identical
simulator for the ground truth and the figures; this process only answers requests, on the
clock the benchmark starts it on, and keeps the request log:
- ``GET /__bench/ping``: 200 once it serves;
- ``POST /__bench/start?t=T``: tick 0 is wall time T (the daemons start now);
- ``GET /__bench/log``: every product request so far, ``[[wall time, id, User-Agent], …]``,
  and the event loop's lags, ``[[wall time, seconds late], …]``.

Usage (by bench_freshness.py): python freshness_upstream.py SEED IDS TICK_S PORT
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced.simulator.uzum import UzumCatalogue, UzumSimulator  # noqa: E402
from marketplaced.simulator.uzum.realism import Realism  # noqa: E402
from marketplaced.simulator.uzum.routes import build_uzum_app  # noqa: E402

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def simulator(seed: int, ids: int, tick_s: float) -> UzumSimulator:
    """The run's simulator: the same in this process and in the benchmark's."""
    catalogue = UzumCatalogue(seed, ids, realism=Realism())
    return UzumSimulator(catalogue, tick_seconds=tick_s, clock=time.time)


async def loop_lag(out: list[tuple[float, float]], every_s: float = 0.05) -> None:
    """How late this process's event loop wakes up, (wall time, seconds late) per sample: a
    lag of a good share of a request's time would mean the upstream caps the daemons."""
    loop = asyncio.get_running_loop()
    while True:
        t = loop.time()
        await asyncio.sleep(every_s)
        out.append((time.time(), loop.time() - t - every_s))


def app(sim: UzumSimulator, lags: list[tuple[float, float]]) -> web.Application:
    log: list[tuple[float, int, str]] = []

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/v2/product/"):
            try:
                pid = int(request.match_info.get("id", request.path.rsplit("/", 1)[1]))
                log.append((time.time(), pid, request.headers.get("User-Agent", "")))
            except ValueError:
                pass
        return await handler(request)

    async def ping(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def start(request: web.Request) -> web.Response:
        sim._started = float(request.query["t"])
        return web.Response(text="ok")

    async def requests(_request: web.Request) -> web.Response:
        body = json.dumps({"requests": log, "lags": lags})
        return web.Response(text=body, content_type="application/json")

    served = build_uzum_app(sim)
    served.middlewares.append(record)
    served.router.add_get("/__bench/ping", ping)
    served.router.add_post("/__bench/start", start)
    served.router.add_get("/__bench/log", requests)
    return served


async def serve(seed: int, ids: int, tick_s: float, port: int) -> None:
    lags: list[tuple[float, float]] = []
    runner = web.AppRunner(app(simulator(seed, ids, tick_s), lags), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await loop_lag(lags)  # until the benchmark terminates this process


if __name__ == "__main__":
    seed, ids, tick_s, port = sys.argv[1:5]
    asyncio.run(serve(int(seed), int(ids), float(tick_s), int(port)))
