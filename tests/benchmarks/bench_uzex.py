"""UZEX scan throughput against the simulator, without rate limit (a benchmark, not a test).

Serves a UZEX catalogue from the simulator in a child process (so it does not share the event
loop with the scanners), builds a fresh scratch database, and runs the one-shot completed-deals
scanner of each lot type — list pages, items per lot for auctions and e-tender, COPY + upsert
through the real writer — then the active-lot scanners. Prints lots/s and items/s per type and
for all types at once. The scratch database is dropped at the end.

    .venv/bin/python tests/benchmarks/bench_uzex.py                 # default sizes
    .venv/bin/python tests/benchmarks/bench_uzex.py --scale 4       # 4x the lots
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from marketplaced import db, platforms  # noqa: E402
from marketplaced.config import WriterConfig  # noqa: E402
from marketplaced.http import Fetcher, HostPolicy  # noqa: E402
from marketplaced.platforms.base import ScanDeps  # noqa: E402
from marketplaced.platforms.uzex.active import ActiveScanner  # noqa: E402
from marketplaced.platforms.uzex.client import host_policies  # noqa: E402
from marketplaced.platforms.uzex.completed import CompletedScanner  # noqa: E402
from marketplaced.platforms.uzex.config import UzexConfig  # noqa: E402
from marketplaced.platforms.uzex.records import LOT_TYPES  # noqa: E402
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScanner  # noqa: E402
from marketplaced.platforms.uzex.storage import UzexSink  # noqa: E402
from marketplaced.simulator.uzex import UzexCatalogue, UzexSimulator, add_uzex_routes  # noqa: E402
from marketplaced.writer import Writer  # noqa: E402
from tests.conftest import _admin, _admin_cfg, base_config  # noqa: E402
from tests.helpers.net import free_port  # noqa: E402

#: lots per type at scale 1: a few thousand, like a day-to-week slice of the real volumes
SIZES = {"n_auction": 3000, "n_shop": 6000, "n_national": 2000, "n_etender": 1500, "n_active": 300}
#: requests in flight: far above what politeness allows upstream; here the limit is our CPU
CONCURRENCY = 32


def _serve(port: int, scale: int) -> None:
    sizes = {k: v * scale for k, v in SIZES.items()}
    sim = UzexSimulator(UzexCatalogue(seed=1, **sizes))
    app = web.Application()
    add_uzex_routes(app, sim)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _wait_listening(port: int) -> None:
    for _ in range(600):  # the catalogue takes a moment to build at large scales
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("simulator did not start")


async def _measure(label: str, scanners: list[UzexScanner], writer: Writer) -> tuple[int, int]:
    started = time.perf_counter()
    await asyncio.gather(*(s.run() for s in scanners))
    await writer.flush()
    seconds = time.perf_counter() - started
    lots = sum(s.stats.found for s in scanners)
    items = sum(s.stats.items for s in scanners)
    print(
        f"{label:<22} {lots:>7} lots {items:>7} items {seconds:7.2f} s  "
        f"{lots / seconds:8.0f} lots/s {items / seconds:8.0f} items/s"
    )
    return lots, items


async def main(scale: int) -> None:
    port = free_port()
    child = multiprocessing.Process(target=_serve, args=(port, scale), daemon=True)
    child.start()
    name = f"mp_bench_uzex_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        await _wait_listening(port)
        dbcfg = dataclasses.replace(_admin_cfg(), name=name, pool_max=10)
        conn = await db.connect(dbcfg)
        await db.migrate(conn)
        await conn.close()
        pool = await db.create_pool(dbcfg)
        origin = f"http://127.0.0.1:{port}"
        ucfg = dataclasses.replace(
            platforms.load_config({"UZEX_BASE_URL": origin}, path=None).section(UzexConfig),
            rps=0.0,
            concurrency=CONCURRENCY,
            timeout_s=30.0,
        )
        wcfg = dataclasses.replace(base_config().writer, flush_interval_s=0.2)
        writer = Writer(pool, WriterConfig(**dataclasses.asdict(wcfg)), [UzexSink()])
        writer_task = asyncio.create_task(writer.run())
        policy = HostPolicy(rps=0, concurrency=CONCURRENCY, timeout_s=30.0)
        print(f"simulator: {SIZES} x{scale}; page size {ucfg.page_size}; {CONCURRENCY} in flight")
        async with Fetcher(policy, host_policies(ucfg)) as fetcher:
            deps = ScanDeps(pool, fetcher, writer)
            one_shot = UzexPlan(continuous=False)
            for lot_type in LOT_TYPES:
                scanner = CompletedScanner(ucfg, lot_type, deps, plan=one_shot)
                await _measure(f"{lot_type} completed", [scanner], writer)
            await pool.execute("TRUNCATE uzex_lots, uzex_lot_items, uzex_parties, uzex_products")
            await pool.execute("TRUNCATE uzex_lot_status_history, scan_cursors")
            every: list[UzexScanner] = [
                CompletedScanner(ucfg, t, deps, plan=one_shot) for t in LOT_TYPES
            ]
            await _measure("all completed at once", every, writer)
            active: list[UzexScanner] = [
                ActiveScanner(ucfg, t, deps, plan=one_shot) for t in ("auction", "shop", "national")
            ]
            await _measure("active (3 types)", active, writer)
        writer_task.cancel()
        await asyncio.gather(writer_task, return_exceptions=True)
        await pool.close()
    finally:
        child.terminate()
        child.join()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply the catalogue sizes")
    asyncio.run(main(parser.parse_args().scale))
