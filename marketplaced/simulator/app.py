"""`marketplaced simulate`: one aiohttp server playing both upstreams.

Uzum's paths are served at the root (`/api/v2/product/{id}` …), UZEX's hosts under path
prefixes (`/auction`, `/shop`, `/etender/api`, `/trade`), so pointing `UZUM_BASE_URL` and
`UZEX_BASE_URL` at the printed origin makes the daemon scan the simulator instead of the
real marketplaces — the way the demo, the tests and the benchmarks run without internet.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass

from aiohttp import web

from marketplaced.simulator.faults import FaultProfile
from marketplaced.simulator.uzex import UzexCatalogue, UzexFaults, UzexSimulator, add_uzex_routes
from marketplaced.simulator.uzum import (
    DYNAMICS,
    DynamicsName,
    Realism,
    UzumCatalogue,
    UzumSimulator,
    add_uzum_routes,
)


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    host: str = "127.0.0.1"
    port: int = 8090
    seed: int = 1
    n_ids: int = 100_000
    faults: str = "none"
    #: real seconds per simulated tick (an hour; a minute with realistic dynamics); 0 freezes
    #: time (tests advance it by hand)
    tick_seconds: float = 60.0
    #: "uniform": every product moves alike; "realistic": skewed activity, growth, delistings
    dynamics: DynamicsName = "uniform"
    uzex_not_valid: bool = False
    #: completed deals per UZEX lot type at start (auction, shop, national, e-tender)
    uzex_deals: int = 500


@dataclass(frozen=True, slots=True)
class Simulators:
    app: web.Application
    uzum: UzumSimulator
    uzex: UzexSimulator


def build(opts: SimulatorOptions) -> Simulators:
    """The combined application; raises ValueError on a bad fault spec or dynamics name."""
    profile = FaultProfile.parse(opts.faults)
    if opts.dynamics not in DYNAMICS:
        raise ValueError(f"unknown dynamics {opts.dynamics!r} (known: {', '.join(DYNAMICS)})")
    realism = Realism() if opts.dynamics == "realistic" else None
    uzum = UzumSimulator(
        UzumCatalogue(opts.seed, opts.n_ids, realism=realism),
        profile,
        tick_seconds=opts.tick_seconds,
    )
    n = opts.uzex_deals
    uzex = UzexSimulator(
        UzexCatalogue(opts.seed, n, n, n // 2, n // 4, max(10, n // 20)),
        UzexFaults(auction_not_valid=opts.uzex_not_valid),
    )
    app = web.Application()
    add_uzum_routes(app, uzum)
    add_uzex_routes(app, uzex)
    return Simulators(app, uzum, uzex)


async def serve(opts: SimulatorOptions) -> None:
    """Serve until SIGINT/SIGTERM, printing where to point the daemon."""
    sims = build(opts)
    runner = web.AppRunner(sims.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, opts.host, opts.port)
    await site.start()
    origin = f"http://{opts.host}:{opts.port}"
    print(
        f"simulator serving on {origin} (seed {opts.seed}, ids 1..{opts.n_ids}, "
        f"faults {opts.faults!r}, dynamics {opts.dynamics}); point the daemon at it with:\n"
        f"  UZUM_BASE_URL={origin} UZEX_BASE_URL={origin} marketplaced run",
        file=sys.stderr,
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
