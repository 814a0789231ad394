"""Schedule figures benchmark (not a test): what one read of the revisit schedule's figures per
class (status page, `marketplaced status`, every /metrics scrape) costs on a large schedule,
next to a plain `count(*)` of the same table measured in the same run (the floor of any
whole-table aggregate).

A schedule of `--ids` rows is made with generate_series: a spread of intervals from minutes to
weeks, a tenth of the rows misses, a window of frontier ids, about a quarter due; uzum_visits
and products hold the ids below the frontier. Each query runs `--runs` times after a warm-up;
the median is printed.

Usage: python tests/benchmarks/bench_schedule_figures.py [--ids 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db  # noqa: E402
from marketplaced.platforms.uzum import schedule_figures  # noqa: E402
from tests.conftest import base_config  # noqa: E402  (loads .env.test)

_FILL = """
INSERT INTO uzum_schedule (product_id, next_due, checked_at, misses)
SELECT g, now() - interval '1 day' * random() + interval '3 days' * random() ^ 3,
    now() - interval '2 days' * random(), CASE WHEN g % 10 = 0 THEN 1 + g % 4 ELSE 0 END
FROM generate_series(1, $1::bigint) AS g"""
_VISITS = """
INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome)
SELECT g, now(), now(), 'unchanged' FROM generate_series(1, $1::bigint) AS g WHERE g % 10 <> 0"""
_PRODUCTS = """
INSERT INTO products (id, title, first_seen)
SELECT g, 'p' || g, now() - interval '30 days' * random()
FROM generate_series(1, $1::bigint) AS g WHERE g % 10 <> 0"""


async def _median_ms(run: Callable[[], Awaitable[None]], runs: int) -> float:
    await run()  # warm-up: caches, plan
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ids", type=int, default=1_000_000, help="rows in the schedule")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each query")
    args = ap.parse_args()
    base = base_config()
    name = f"mp_benchsf_{uuid.uuid4().hex[:8]}"
    admin = await db.connect(dataclasses.replace(base.database, name="postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    cfg = dataclasses.replace(base.database, name=name)
    try:
        conn = await db.connect(cfg)
        await db.migrate(conn)
        frontier = args.ids - 2000  # ids above it: no product yet
        await conn.execute(_FILL, args.ids)
        await conn.execute(_VISITS, frontier)
        await conn.execute(_PRODUCTS, frontier)
        await conn.execute("VACUUM ANALYZE uzum_schedule")
        await conn.execute("VACUUM ANALYZE uzum_visits")
        await conn.execute("VACUUM ANALYZE products")

        async def figures() -> None:
            await schedule_figures.read(conn, datetime.now(UTC))

        async def count() -> None:
            await conn.fetchval("SELECT count(*) FROM uzum_schedule")

        f = await schedule_figures.read(conn, datetime.now(UTC))
        baseline = await _median_ms(count, args.runs)
        took = await _median_ms(figures, args.runs)
        await conn.close()
        for c in f.classes:
            print(f"  {c.name:9} ids {c.ids:>9}  due {c.due:>8}  interval {c.interval_s}")
        print(f"schedule rows: {args.ids}")
        print(f"count(*) baseline: {baseline:.0f} ms (median of {args.runs})")
        print(f"figures per class: {took:.0f} ms (median of {args.runs})")
        print(
            f"schedule_figures ids={args.ids} figures_ms={took:.0f} count_ms={baseline:.0f} "
            f"ratio={took / baseline:.1f}"
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
