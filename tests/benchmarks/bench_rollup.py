"""Sales rollup benchmark (not a test): what keeping today's sales current costs per writer
batch, next to the writer's own time for that batch, measured in the same run.

A simulated catalogue is scanned hour by hour in batches of `--batch` products (parsed before
the clock starts); each batch is written as the writer's sink writes it (upserts, change-based
history, the commit-log stamp) and timed; then the minute job folds it into the day rows and
is timed too. Target: rollup ≤ 10 % of the writer's time per batch. Odd hours fold after
every batch (the worst case: one batch a minute); even hours fold as the minute job does when
the writer is busy, `--per-minute` batches at once, and the fold's time is divided by them.
Also prints one nightly recomputation of a whole day.

Usage: python tests/benchmarks/bench_rollup.py [--ids 3000] [--batch 500] [--hours 6]
    [--per-minute 6]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import commit_log, db  # noqa: E402
from marketplaced.platforms.uzum.parser import parse_product  # noqa: E402
from marketplaced.platforms.uzum.records import ProductSnapshot  # noqa: E402
from marketplaced.platforms.uzum.storage import UzumSink  # noqa: E402
from marketplaced.sales import rollup  # noqa: E402
from marketplaced.simulator.uzum import UzumCatalogue  # noqa: E402
from marketplaced.simulator.uzum.realism import Realism  # noqa: E402
from tests.conftest import base_config  # noqa: E402  (loads .env.test)
from tests.helpers.sales_scenario import TZ  # noqa: E402

DAY = date(2026, 11, 2)


async def run() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ids", type=int, default=3000, help="product ids of the catalogue")
    ap.add_argument("--batch", type=int, default=500, help="products per writer batch")
    ap.add_argument("--hours", type=int, default=6, help="simulated hours (one pass each)")
    ap.add_argument(
        "--per-minute", type=int, default=6, help="batches the minute job folds at once"
    )
    ap.add_argument(
        "--realistic",
        action="store_true",
        help="the simulator's realistic dynamics (a long tail: most visits find no change)",
    )
    args = ap.parse_args()
    base = base_config()
    name = f"mp_benchr_{uuid.uuid4().hex[:8]}"
    admin = await db.connect(dataclasses.replace(base.database, name="postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    cfg = dataclasses.replace(base.database, name=name, pool_min=2, pool_max=2)
    settings = rollup.SalesSettings.from_config(base.jobs)
    try:
        conn = await db.connect(cfg)
        await db.migrate(conn)
        await conn.close()
        pool = await db.create_pool(cfg)
        # realistic: one tick per simulated hour, as the passes here
        realism = Realism(tick_ms=3_600_000) if args.realistic else None
        cat = UzumCatalogue(7, args.ids, realism=realism)
        ids = [i for i in range(1, args.ids + 1) if cat.product_payload(i, 0) is not None]
        sink = UzumSink()
        start = datetime.combine(DAY, datetime.min.time(), TZ) + timedelta(hours=1)
        writer_ms: list[float] = []
        rollup_ms: list[float] = []
        minute_ms: list[float] = []  # per batch, folded `per_minute` at a time
        pending = 0
        for hour in range(args.hours):
            for k in range(0, len(ids), args.batch):
                chunk = ids[k : k + args.batch]
                snaps = []
                for pid in chunk:
                    raw = cat.product_payload(pid, hour)
                    if raw is None:  # delisted this hour (realistic dynamics)
                        continue
                    snap = parse_product(200, json.loads(json.dumps(raw)), pid)
                    assert isinstance(snap, ProductSnapshot)
                    snaps.append(snap)
                now = start + timedelta(hours=hour, seconds=k)
                t0 = time.perf_counter()
                async with pool.acquire() as c, c.transaction():
                    await sink.write(c, {ProductSnapshot: snaps}, now)
                    await commit_log.stamp(c, now)
                t1 = time.perf_counter()
                pending += 1
                every = hour == 0 or hour % 2 == 1
                fold = every or pending == args.per_minute or k + args.batch >= len(ids)
                if fold:
                    await rollup.catch_up(pool, settings, now + timedelta(seconds=1))
                t2 = time.perf_counter()
                if hour > 0:  # the first pass writes every product new: not the steady state
                    writer_ms.append((t1 - t0) * 1000)
                    if fold:
                        (rollup_ms if every else minute_ms).append((t2 - t1) * 1000 / pending)
                if fold:
                    pending = 0
        w, r = statistics.median(writer_ms), statistics.median(rollup_ms)
        dynamics = "realistic" if args.realistic else "uniform"
        print(
            f"{len(ids)} products ({dynamics} dynamics), batches of {args.batch}, "
            f"{len(writer_ms)} batches measured"
        )
        print(f"writer per batch:  median {w:8.1f} ms")
        print(f"rollup per batch:  median {r:8.1f} ms  ({100 * r / w:.1f} % of the writer's)")
        if minute_ms:
            m = statistics.median(minute_ms)
            print(
                f"minute job, {args.per_minute} batches a fold: median {m:8.1f} ms per batch "
                f"({100 * m / w:.1f} % of the writer's)"
            )
        t0 = time.perf_counter()
        rows = await rollup.compute_day(pool, DAY, settings)
        print(
            f"nightly recount of the day: {rows} product rows in {time.perf_counter() - t0:.2f} s"
        )
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(run())
