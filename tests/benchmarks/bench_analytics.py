"""Benchmark (not a test): the daily analytics over a year of synthetic history at scale.

Builds a scratch database (dropped at the end) with `generate_series`: by default 1 M products
of 5 SKUs (5 M SKUs), 60 000 sellers, 3 020 categories; a first observation of everything a
year ago, a sparse change per month since (10 % of SKUs and products), and a busy last week
(every day 40 % of products sell: two SKUs change twice, the order counter three times).
Then it times `analytics.compute_day` for yesterday, cold and warm, with the time of every step,
and prints a baseline line to compare runs with. Target: under 5 minutes.

    .venv/bin/python tests/benchmarks/bench_analytics.py [--products N] [--skus-per-product K]
        [--active-pct P]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from marketplaced import db
from marketplaced.jobs import analytics, triggers
from tests.conftest import base_config

MONTHS = 12
BUSY_DAYS = 7

# $1 products, $2 skus per product, $3 first observation, $4 last seen
_DIMENSIONS = [
    "INSERT INTO categories (id, title, parent_id) "
    "SELECT g, 'top ' || g, NULL FROM generate_series(1, 20) g",
    "INSERT INTO categories (id, title, parent_id) "
    "SELECT g, 'branch ' || g, 1 + (g - 101) % 20 FROM generate_series(101, 300) g",
    "INSERT INTO categories (id, title, parent_id) "
    "SELECT g, 'leaf ' || g, 101 + (g - 1001) % 200 FROM generate_series(1001, 3800) g",
    "INSERT INTO sellers (id, title) SELECT g, 'seller ' || g FROM generate_series(1, 60000) g",
]
_PRODUCTS = """
WITH p AS (
    INSERT INTO products (id, title, category_id, seller_id, orders_amount, total_available,
                          first_seen)
    SELECT g, 'product ' || g, 1001 + (g * 7) % 2800, 1 + (g * 7919) % 60000, 0, 0, $2
    FROM generate_series(1, $1::bigint) g RETURNING id)
INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome)
SELECT id, $3, $3, 'changed' FROM p"""
_SKUS = """
INSERT INTO skus (id, product_id, full_price, purchase_price, available_amount, first_seen)
SELECT p * 10 + k, p, 20000 + (p * 31 + k * 7) % 500 * 1000, 10000 + (p * 31 + k * 7) % 500 * 1000,
       1000, $3 + ($4 - $4)
FROM generate_series(1, $1::bigint) p, generate_series(0, $2::int - 1) k"""
# one observation of everything at $3, then per month 10 % of the SKUs/products change once
_FIRST_PRICES = """
INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, full_price,
                           available_amount)
SELECT p * 10 + k, $3::timestamptz + (p % 3600) * interval '1 second', p,
       10000 + (p * 31 + k * 7) % 500 * 1000, 20000 + (p * 31 + k * 7) % 500 * 1000, 1000
FROM generate_series(1, $1::bigint) p, generate_series(0, $2::int - 1) k"""
_FIRST_STATS = """
INSERT INTO product_stats_history (product_id, observed_at, orders_amount, reviews_amount, rating,
                                   total_available)
SELECT p, $2::timestamptz + (p % 3600) * interval '1 second', 0, 0, 4.5, 5000
FROM generate_series(1, $1::bigint) p"""
_MONTH_PRICES = """
INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, full_price,
                           available_amount)
SELECT p * 10 + k, $3::timestamptz + (p % 86400) * interval '1 second', p,
       10000 + (p * 31 + k * 7 + $4) % 500 * 1000, 20000 + (p * 31 + k * 7) % 500 * 1000,
       1000 - $4
FROM generate_series(1, $1::bigint) p, generate_series(0, $2::int - 1) k
WHERE (p + k + $4) % 10 = 0"""
_MONTH_STATS = """
INSERT INTO product_stats_history (product_id, observed_at, orders_amount, reviews_amount, rating,
                                   total_available)
SELECT p, $2::timestamptz + (p % 86400) * interval '1 second', $3 * 10, $3, 4.5, 5000 - $3
FROM generate_series(1, $1::bigint) p WHERE (p + $3) % 10 = 0"""
# busy days: $3 day start, $4 day number (1 … 7), $5 percent of products active that day.
# An active product sells: two of its SKUs change stock (one also price) twice, and its order
# counter moves three times; the others have no row that day (nothing changed).
_DAY_PRICES = """
INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, full_price,
                           available_amount)
SELECT p * 10 + k, $3::timestamptz + ((p % 43200) + i * 43200) * interval '1 second', p,
       10000 + (p * 31 + k * 7 + $4 * (p % 3)) % 500 * 1000,
       20000 + (p * 31 + k * 7) % 500 * 1000, 900 - $4 * 20 - i * 5 - k
FROM generate_series(1, $1::bigint) p, generate_series(0, $2::int - 1) k, generate_series(0, 1) i
WHERE (p * 7 + $4) % 100 < $5 AND (k = (p + $4) % $2 OR k = (p + $4 + 1) % $2)"""
_DAY_STATS = """
INSERT INTO product_stats_history (product_id, observed_at, orders_amount, reviews_amount, rating,
                                   total_available)
SELECT p, $2::timestamptz + ((p % 28800) + i * 28800) * interval '1 second',
       1000 + $3 * 30 + i * 7 + p % 5, 20 + $3, 4.5, 4000 - $3 * 30 - i
FROM generate_series(1, $1::bigint) p, generate_series(0, 2) i
WHERE (p * 7 + $3) % 100 < $4"""


def _months_back(d: date, n: int) -> date:
    index = d.year * 12 + d.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


async def generate(
    conn: asyncpg.Connection, n: int, k: int, active_pct: int, day: date, tz: object
) -> float:
    started = time.monotonic()
    day_start, _ = analytics.day_bounds(day, tz)  # type: ignore[arg-type]
    first = day_start - timedelta(days=360)
    for m in range(MONTHS + 2):
        for parent in ("price_history", "product_stats_history"):
            await conn.execute(
                "SELECT marketplaced_ensure_partition_for($1, $2)", parent, _months_back(day, m)
            )
    for sql in _DIMENSIONS:
        await conn.execute(sql)
    await step(conn, "products", _PRODUCTS, n, first, day_start + timedelta(days=1))
    await step(conn, "skus", _SKUS, n, k, first, day_start + timedelta(days=1))
    await step(conn, "first prices", _FIRST_PRICES, n, k, first)
    await step(conn, "first stats", _FIRST_STATS, n, first)
    for m in range(1, MONTHS - 1):
        at = first + timedelta(days=30 * m)
        await step(conn, f"month {m} prices", _MONTH_PRICES, n, k, at, m)
        await step(conn, f"month {m} stats", _MONTH_STATS, n, at, m)
    for d in range(1, BUSY_DAYS + 1):
        at = day_start - timedelta(days=BUSY_DAYS - d)
        await step(conn, f"day -{BUSY_DAYS - d} prices", _DAY_PRICES, n, k, at, d, active_pct)
        await step(conn, f"day -{BUSY_DAYS - d} stats", _DAY_STATS, n, at, d, active_pct)
    # what autovacuum would have done by then: hint bits, visibility map, statistics
    await step(conn, "vacuum analyze", "VACUUM (ANALYZE) price_history")
    await step(conn, "vacuum analyze", "VACUUM (ANALYZE) product_stats_history")
    for table in ("products", "skus", "categories", "sellers"):
        await conn.execute(f"VACUUM (ANALYZE) {table}")
    return time.monotonic() - started


async def step(conn: asyncpg.Connection, name: str, sql: str, *args: object) -> None:
    started = time.monotonic()
    status = await conn.execute(sql, *args)
    print(f"  {name:<22} {status:<22} {time.monotonic() - started:7.1f} s", flush=True)


async def main(n: int, k: int, active_pct: int) -> None:
    cfg = base_config()
    admin = dataclasses.replace(cfg.database, name="postgres")
    name = f"mp_bench_analytics_{uuid.uuid4().hex[:8]}"
    conn = await db.connect(admin, wait_s=5)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    target = dataclasses.replace(cfg.database, name=name, command_timeout_s=3600)
    try:
        conn = await db.connect(target)
        await db.migrate(conn)
        settings = analytics.AnalyticsSettings.from_config(cfg.jobs)
        tz = triggers.timezone(cfg.jobs.timezone)
        day = datetime.now(tz).date() - timedelta(days=1)
        print(
            f"generating {n:,} products x {k} SKUs, a year of history, {active_pct} % of "
            f"products active per busy day, into {name}"
        )
        gen_s = await generate(conn, n, k, active_pct, day, tz)
        rows = await conn.fetchval(
            "SELECT (SELECT count(*) FROM price_history) + (SELECT count(*) FROM "
            "product_stats_history)"
        )
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        await conn.close()
        print(f"generated {rows:,} history rows ({size}) in {gen_s:.0f} s")
        pool = await db.create_pool(dataclasses.replace(target, pool_min=1, pool_max=2))
        results = []
        for label in ("cold", "warm"):
            started = time.monotonic()
            result = await analytics.compute_day(pool, day, settings)
            results.append(time.monotonic() - started)
            print(f"\ndaily analytics ({label}): {results[-1]:.1f} s")
            for step_name, ms in result.steps_ms.items():
                done = result.steps_rows[step_name]
                print(f"  {step_name:<16} {ms / 1000:7.1f} s  {done:>12,} rows")
        await pool.close()
        print(
            f"\nbaseline: products={n} skus={n * k} history_rows={rows} "
            f"day_products={result.products} day_skus={result.skus} "
            f"sellers={result.sellers} categories={result.categories} "
            f"cold_s={results[0]:.1f} warm_s={results[1]:.1f} target_s=300 "
            f"{'OK' if max(results) < 300 else 'OVER TARGET'}"
        )
    finally:
        conn = await db.connect(admin, wait_s=5)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--skus-per-product", type=int, default=5)
    parser.add_argument(
        "--active-pct", type=int, default=40, help="products with sales per busy day (percent)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.products, args.skus_per_product, args.active_pct))
