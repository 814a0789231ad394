"""Price-drops refresh benchmark (not a test): the 14-day window recomputed whole, as the former
materialized view did at every refresh, against the maintained table's refresh after writer
batches, in the same run on a kept web-benchmark database.

Needs the database of `bench_web.py --reuse --scale S` (same S). Everything runs in one
transaction that is rolled back, so the database is left as it was. Prints: the old refresh's
query (its concurrent diff against the old contents came on top), the first build of the table
(the whole window, set-based), and a refresh after `--batches` writer batches of `--skus` SKU
price rows each (what half an hour of scanning adds between two refreshes).

    .venv/bin/python tests/benchmarks/bench_price_drops.py --scale 0.202 [--batches 30]
        [--skus 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_web import _connect, reused_name

from marketplaced import commit_log
from marketplaced.web import price_drops
from tests.test_web_price_drops import _REFERENCE

# $1 the batch stamp, $2 how many SKUs, $3 an offset so batches take different SKUs: each
# SKU's latest row again, 3 % cheaper
_BATCH = """
INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, full_price,
    available_amount)
SELECT k.id, $1, k.product_id, k.purchase_price * 97 / 100, k.full_price, k.available_amount
FROM (SELECT id, product_id, purchase_price, full_price, available_amount FROM skus
      ORDER BY id OFFSET $3 LIMIT $2) k"""


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--skus", type=int, default=2000)
    args = parser.parse_args()
    conn = await _connect(reused_name(args.scale))
    print(f"load average {os.getloadavg()[0]:.1f}")
    tx = conn.transaction()
    await tx.start()
    try:
        t = time.monotonic()
        old = await conn.fetchval(f"SELECT count(*) FROM ({_REFERENCE}) d")  # noqa: S608
        print(f"whole window, former view's query:  {time.monotonic() - t:7.1f} s  {old:,} drops")
        await conn.execute("DELETE FROM web_summary_refreshes WHERE name = $1", price_drops.NAME)
        t = time.monotonic()
        await price_drops.refresh(conn)
        count = await conn.fetchval("SELECT count(*) FROM web_price_drops")
        print(f"whole window, table's first build:  {time.monotonic() - t:7.1f} s  {count:,} drops")
        for i in range(args.batches):
            stamp = await conn.fetchval("SELECT now() + make_interval(secs => $1)", i + 1)
            await conn.execute(_BATCH, stamp, args.skus, i * args.skus)
            await commit_log.stamp(conn, stamp)
        t = time.monotonic()
        changed = await price_drops.refresh(conn)
        print(
            f"refresh after {args.batches} batches:        {time.monotonic() - t:7.1f} s  "
            f"{changed:,} SKUs recomputed"
        )
    finally:
        await tx.rollback()
        await conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
