"""Writer benchmark (not a test): SKU rows/s of the bulk writer into tables already holding
≥ 1 M rows, next to, in the same run,
  (a) per-row statements, each its own transaction, doing the same work (product upsert,
      history row when a SKU changed, `INSERT … ON CONFLICT` of the SKU): the old system's
      way; (a') its most favourable form, SKU upserts alone, is printed too; and
  (b) a plain COPY into an empty table (the ceiling).

The writer's run is the full path: ProductSnapshots through the bounded queue, COPY into temp
tables, change-based history, upserts of categories/sellers/products/SKUs, one transaction per
batch. Half the SKUs are new, half are existing ones whose price changed (so history is written).

Usage: python tests/benchmarks/bench_writer.py [--skus 200000] [--prefill 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db  # noqa: E402
from marketplaced.config import WriterConfig  # noqa: E402
from marketplaced.platforms.uzum.records import (  # noqa: E402
    CategoryRecord,
    ProductRecord,
    ProductSnapshot,
    SellerRecord,
    SkuRecord,
)
from marketplaced.platforms.uzum.storage import SKU_COLS, UzumSink, sku_row  # noqa: E402
from marketplaced.writer import Writer  # noqa: E402
from tests.conftest import base_config  # noqa: E402  (loads .env.test)

SKUS_PER_PRODUCT = 10

PREFILL_SQL = """
INSERT INTO categories (id, title, parent_id) VALUES (1, 'Top', NULL), (2, 'Leaf', 1);
INSERT INTO sellers (id, title) SELECT g, 'seller ' || g FROM generate_series(1, 1000) g;
INSERT INTO products (id, title, category_id, seller_id, orders_amount, total_available)
SELECT g, 'product ' || g, 2, 1 + g % 1000, g % 500, 10 FROM generate_series(1, $1::int / 10) g;
INSERT INTO skus (id, product_id, purchase_price, full_price, available_amount, characteristics)
SELECT g, 1 + (g - 1) / 10, 10000 + g % 900, 20000, 5, 'Rang: Qora'
FROM generate_series(1, $1::int) g;
INSERT INTO price_history
    (sku_id, observed_at, product_id, purchase_price, full_price, available_amount)
SELECT id, now() - interval '1 day', product_id, purchase_price, full_price, available_amount
FROM skus;
"""


def snapshots(
    n_skus: int, existing: int, first_old: int = 1, first_new: int | None = None
) -> list[ProductSnapshot]:
    """Half updates of existing products (price changed) from `first_old` on, half new
    products from `first_new` on (default: right after the prefilled ones)."""
    rng = random.Random(1)
    cats = (CategoryRecord(1, "Top", None, 10), CategoryRecord(2, "Leaf", 1, 10))
    out = []
    n_products = n_skus // SKUS_PER_PRODUCT
    half = n_products // 2
    new_base = (existing // 10 + half + 1) if first_new is None else first_new
    for i in range(n_products):
        pid = first_old + i if i < half else new_base + i - half
        skus = tuple(
            SkuRecord(
                (pid - 1) * 10 + k + 1,
                pid,
                20000,
                10000 + rng.randrange(900),
                rng.randrange(9),
                4_600_000_000_000 + pid,
                "FBO",
                1,
                f"Rang: Qora, O'lcham: {k}",
                None,
            )
            for k in range(SKUS_PER_PRODUCT)
        )
        product = ProductRecord(
            pid,
            f"product {pid}",
            f"product {pid}",
            f"товар {pid}",
            2,
            1 + pid % 1000,
            4.5,
            3,
            100 + i % 7,
            100,
            sum(s.available_amount for s in skus),
            False,
            False,
            False,
            "<p>description</p>",
            ("key",),
            ("a",),
            (),
            "[]",
            (),
            None,
        )
        seller = SellerRecord(
            1 + pid % 1000, "seller", "seller", None, None, 4.8, 10, 100, False, None
        )
        out.append(ProductSnapshot(product, cats, seller, skus))
    return out


_ROW_SKU = (
    "INSERT INTO skus (id, product_id, full_price, purchase_price, available_amount, barcode, "
    "stock_type, delivery_days, characteristics) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
    "ON CONFLICT (id) DO UPDATE SET purchase_price = EXCLUDED.purchase_price, "
    "full_price = EXCLUDED.full_price, available_amount = EXCLUDED.available_amount"
)
_ROW_HISTORY = (
    "INSERT INTO price_history "
    "(sku_id, observed_at, product_id, purchase_price, full_price, available_amount) "
    "SELECT $1, now(), $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM skus WHERE id = $1 "
    "AND purchase_price = $3 AND full_price IS NOT DISTINCT FROM $4 AND available_amount = $5)"
)
_ROW_PRODUCT = (
    "INSERT INTO products (id, title, category_id, seller_id, orders_amount, total_available) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, "
    "orders_amount = EXCLUDED.orders_amount, total_available = EXCLUDED.total_available, "
    "updated_at = now()"
)


async def per_row_product(conn: Any, snap: ProductSnapshot) -> None:
    p = snap.product
    await conn.execute(
        _ROW_PRODUCT, p.id, p.title, p.category_id, p.seller_id, p.orders_amount, p.total_available
    )


async def per_row_sku(conn: Any, k: SkuRecord, *, with_history: bool) -> None:
    if with_history:
        await conn.execute(
            _ROW_HISTORY, k.id, k.product_id, k.purchase_price, k.full_price, k.available_amount
        )
    await conn.execute(
        _ROW_SKU,
        k.id,
        k.product_id,
        k.full_price,
        k.purchase_price,
        k.available_amount,
        k.barcode,
        k.stock_type,
        k.delivery_days,
        k.characteristics,
    )


async def run() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=200_000)
    ap.add_argument("--prefill", type=int, default=1_000_000)
    ap.add_argument(
        "--per-row-sample",
        type=int,
        default=20_000,
        help="rows for the per-row baseline (its rate is extrapolated)",
    )
    args = ap.parse_args()
    base = base_config()
    name = f"mp_benchw_{uuid.uuid4().hex[:8]}"
    admin = await db.connect(dataclasses.replace(base.database, name="postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    cfg = dataclasses.replace(base.database, name=name, pool_min=1, pool_max=2)
    try:
        conn = await db.connect(cfg)
        await db.migrate(conn)
        t0 = time.monotonic()
        for stmt in PREFILL_SQL.strip().split(";\n"):
            if "$1" in stmt:
                await conn.execute(stmt, args.prefill)
            else:
                await conn.execute(stmt)
        await conn.execute("ANALYZE")
        print(
            f"prefill: {args.prefill:,} skus + {args.prefill:,} history rows "
            f"in {time.monotonic() - t0:.1f} s"
        )

        snaps = snapshots(args.skus, args.prefill)
        pool = await db.create_pool(cfg)
        writer = Writer(
            pool, WriterConfig(queue_max=20000, batch_max=2000, flush_interval_s=0.5), [UzumSink()]
        )
        task = asyncio.create_task(writer.run())
        t0 = time.monotonic()
        for s in snaps:
            await writer.put(s)
        await writer.flush()
        writer_s = time.monotonic() - t0
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pool.close()
        history = await conn.fetchval(
            "SELECT count(*) FROM price_history WHERE observed_at > now() - interval '1 hour'"
        )
        writer_rate = args.skus / writer_s

        # (a) the old way: one statement per row, each its own transaction, doing the same
        # work as the writer (product upsert, history row when a SKU changed, SKU upsert), on
        # rows the writer did not touch: half prefilled products with new prices, half new
        sample = snapshots(
            args.per_row_sample,
            args.prefill,
            first_old=args.prefill // 20 + 1,
            first_new=50_000_000,
        )
        t0 = time.monotonic()
        for snap in sample:
            await per_row_product(conn, snap)
            for k in snap.skus:
                await per_row_sku(conn, k, with_history=True)
        per_row_rate = args.per_row_sample / (time.monotonic() - t0)
        # (a') the most favourable form of (a): SKU upserts only, no history, no products
        lean = snapshots(
            args.per_row_sample,
            args.prefill,
            first_old=args.prefill // 20 + 5001,
            first_new=60_000_000,
        )
        t0 = time.monotonic()
        for snap in lean:
            for k in snap.skus:
                await per_row_sku(conn, k, with_history=False)
        lean_rate = args.per_row_sample / (time.monotonic() - t0)

        # (b) the ceiling: COPY of the same SKU rows into an empty table
        await conn.execute("CREATE TABLE skus_ceiling (LIKE skus INCLUDING DEFAULTS)")
        rows = [sku_row(k) for s in snaps for k in s.skus]
        t0 = time.monotonic()
        await conn.copy_records_to_table("skus_ceiling", records=rows, columns=list(SKU_COLS))
        copy_rate = len(rows) / (time.monotonic() - t0)
        await conn.close()

        print(
            f"writer (full path)      {writer_rate:>10,.0f} SKU rows/s   ({args.skus:,} SKU rows, "
            f"{len(snaps):,} products, {history:,} history rows, "
            f"{writer.stats.batches} batches, {writer_s:.1f} s)"
        )
        print(
            f"(a) per-row, same work  {per_row_rate:>10,.0f} SKU rows/s   "
            f"(sample of {args.per_row_sample:,})"
        )
        print(f"(b) COPY, empty table   {copy_rate:>10,.0f} SKU rows/s   (ceiling)")
        print(
            f"(a') SKU upsert only      {lean_rate:>10,.0f} SKU rows/s   "
            "(per-row, no history, no products)"
        )
        print(f"writer / (a)            {writer_rate / per_row_rate:>10.1f} ×")
        print(f"writer / (a')           {writer_rate / lean_rate:>10.1f} ×")
        print(f"writer / (b)            {writer_rate / copy_rate:>10.2f}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(run())
