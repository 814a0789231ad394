"""Commit-log benchmark (not a test): what numbering every writer batch in commit order costs.

Each transaction stands for a writer batch (`--rows` rows COPYed into a table; the default 100
is a batch at its smallest, where the fixed cost per batch dominates): the baseline commits it
as it is, the measured run adds the commit-log stamp (an advisory lock held until the commit,
and one row). Both run with 1 and with 4 concurrent writers (shards on several hosts), in the
same database, in the same run.

Usage: python tests/benchmarks/bench_commit_log.py [--batches 1000] [--rounds 5] [--rows 100]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from marketplaced import commit_log, db  # noqa: E402
from tests.conftest import base_config  # noqa: E402  (loads .env.test)


async def batches(pool: asyncpg.Pool, n: int, stamp: bool, rows: list[tuple[int, int]]) -> None:
    for _ in range(n):
        async with pool.acquire() as conn, conn.transaction():
            await conn.copy_records_to_table("bench_rows", records=rows, columns=["k", "v"])
            if stamp:
                await commit_log.stamp(conn, datetime.now(UTC))


async def rate(
    pool: asyncpg.Pool, writers: int, n: int, stamp: bool, rows: list[tuple[int, int]]
) -> float:
    started = time.monotonic()
    async with asyncio.TaskGroup() as tg:
        for _ in range(writers):
            tg.create_task(batches(pool, n // writers, stamp, rows))
    return n / (time.monotonic() - started)


async def run() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=1000, help="transactions per measurement")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per figure")
    ap.add_argument("--rows", type=int, default=100, help="rows per batch")
    args = ap.parse_args()
    rows = [(i, i * 7) for i in range(args.rows)]
    base = base_config()
    name = f"mp_benchc_{uuid.uuid4().hex[:8]}"
    admin = await db.connect(dataclasses.replace(base.database, name="postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    cfg = dataclasses.replace(base.database, name=name, pool_min=4, pool_max=4)
    try:
        conn = await db.connect(cfg)
        await db.migrate(conn)
        await conn.execute("CREATE TABLE bench_rows (k int, v int)")
        await conn.close()
        pool = await db.create_pool(cfg)
        await rate(pool, 1, 200, True, rows)  # warm-up
        for writers in (1, 4):
            # alternating rounds, median of each: a shared machine's noise hits both alike
            plain_runs, stamped_runs = [], []
            for _ in range(args.rounds):
                plain_runs.append(await rate(pool, writers, args.batches, False, rows))
                stamped_runs.append(await rate(pool, writers, args.batches, True, rows))
            plain, stamped = statistics.median(plain_runs), statistics.median(stamped_runs)
            print(
                f"{writers} writer(s): {plain:>8,.0f} batches/s plain, {stamped:>8,.0f} stamped"
                f"  ({(plain / stamped - 1) * 100:+.1f} % time per batch)"
            )
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(run())
