"""A category's market (the category page's reads) over 30 days of sales rollups (a benchmark
script, not a test).

Builds a scratch database (migrated like production) with a category tree of 20 top-level
categories × 10 × 10 leaves, `--products` products (default 300 000) in random leaves and
sellers, and 30 days of `sales_product_daily` rows in which ≈ 16 % of the products sell on a
given day (the simulator's realistic share), plus the per-level `sales_category_daily` rows;
then times `category_market.market` (seller shares, HHI, price bands, best-selling products,
days) for a top-level category (≈ 5 % of the rows) and a leaf, and the first page of the
sellers list of a top-level category by 30-day revenue, each p50/p95 over `--runs` sequential
runs, next to a baseline measured in the same run: one plain `sum(units)` over the same rows.
Each is timed twice: summing the day rows, then from the 30-day period's sums per product as
the minute job builds them when a day ends (sales/periods.py; its build time is printed).
The scratch database is dropped at the end unless `--keep`.

    .venv/bin/python tests/benchmarks/bench_category_market.py
    .venv/bin/python tests/benchmarks/bench_category_market.py --products 1500000
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db, price_bands  # noqa: E402
from marketplaced.sales import periods  # noqa: E402
from marketplaced.web import summaries  # noqa: E402
from marketplaced.web.listing import fetch_page  # noqa: E402
from marketplaced.web.queries import category_market, sellers  # noqa: E402
from marketplaced.web.queries.sales import Period  # noqa: E402
from marketplaced.web.sales_window import SalesWindow  # noqa: E402
from tests.conftest import _admin, _admin_cfg, base_config  # noqa: E402

LAST = date(2026, 11, 30)
DAYS = 30
#: the share of products selling on a given day in the simulator's realistic dynamics
SELLING_SHARE = 0.16

_FILL = """
INSERT INTO categories (id, title, parent_id)
SELECT r, 'root ' || r, NULL FROM generate_series(1, 20) r;
INSERT INTO categories (id, title, parent_id)
SELECT 100 + (r - 1) * 10 + m, 'mid ' || r || '.' || m, r
FROM generate_series(1, 20) r, generate_series(1, 10) m;
INSERT INTO categories (id, title, parent_id)
SELECT 1000 + (c - 101) * 10 + l, 'leaf ' || c || '.' || l, c
FROM generate_series(101, 300) c, generate_series(1, 10) l;
INSERT INTO sellers (id, title) SELECT s, 'seller ' || s FROM generate_series(1, 20000) s;
INSERT INTO products (id, title, category_id, seller_id)
SELECT p, 'product ' || p, 1001 + (hashint4(p) & 2147483647) % 2000,
       1 + (hashint4(p + 7) & 2147483647) % 20000
FROM generate_series(1, $1::int) p;
INSERT INTO sales_product_daily
SELECT d::date, p.id, p.seller_id, p.category_id, u, u * price, u, 0, 0, 0, 0, 2, false
FROM generate_series($2::date, $3::date, interval '1 day') d
CROSS JOIN products p
CROSS JOIN LATERAL (SELECT 1 + (hashint8(p.id) & 7) AS u,
                           1000 * (1 + (hashint8(p.id * 31) & 2147483647) % 2000) AS price) x
WHERE (hashint8(p.id * 40 + extract(day FROM d)::bigint) & 1023) < $4::int;
"""

_CATEGORY_DAYS = """
WITH RECURSIVE up (category_id, ancestor_id, depth) AS (
    SELECT id, id, 0 FROM categories
    UNION ALL
    SELECT up.category_id, c.parent_id, up.depth + 1
    FROM up JOIN categories c ON c.id = up.ancestor_id
    WHERE c.parent_id IS NOT NULL AND up.depth < 10
)
INSERT INTO sales_category_daily
SELECT d.day, up.ancestor_id, sum(units), sum(revenue), sum(units_orders), 0, 0, 0,
       sum(observations), count(*)
FROM sales_product_daily d JOIN up ON up.category_id = d.category_id
GROUP BY 1, 2;
INSERT INTO sales_days SELECT d::date, 100, 30, true, true
FROM generate_series($1::date, $2::date, interval '1 day') d;
ANALYZE;
"""


async def timed(runs: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(p50, p95) in ms of `runs` sequential calls, after one warm-up call."""
    await call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)]


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    name = f"mp_bench_market_{uuid.uuid4().hex[:8]}"
    first = LAST - timedelta(days=DAYS - 1)
    await _admin(f'CREATE DATABASE "{name}"')
    cfg = dataclasses.replace(_admin_cfg(), name=name)
    try:
        conn = await db.connect(cfg)
        try:
            await db.migrate(conn)
            start = time.perf_counter()
            await conn.execute(
                _FILL.replace("$1::int", str(args.products))
                .replace("$2::date", f"DATE '{first}'")
                .replace("$3::date", f"DATE '{LAST}'")
                .replace("$4::int", str(round(SELLING_SHARE * 1024)))
            )
            await conn.execute(
                _CATEGORY_DAYS.replace("$1::date", f"DATE '{first}'").replace(
                    "$2::date", f"DATE '{LAST}'"
                )
            )
            rows = await conn.fetchval("SELECT count(*) FROM sales_product_daily")
            print(
                f"generated {args.products:,} products, {rows:,} product-days in "
                f"{time.perf_counter() - start:.1f} s"
            )
        finally:
            await conn.close()
        pool = await db.create_pool(cfg)
        try:
            await summaries.refresh(pool)  # web_category_sellers: who sells in which category
            await measure(pool, first, args.runs)
        finally:
            await pool.close()
    finally:
        if args.keep:
            print(f"kept the database {name}")
        else:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


async def measure(pool: asyncpg.Pool, first: date, runs: int) -> None:
    period = Period(first, LAST)
    edges = price_bands.edges(base_config().jobs.price_bands)
    # root 1, its children 101…110 and their leaves 1001…1100
    root = [1, *range(101, 111), *range(1001, 1101)]
    leaf = [1001]
    window = SalesWindow(period, period.previous(), False, (), DAYS, 30)
    baseline = (
        "SELECT sum(units) FROM sales_product_daily "
        "WHERE category_id = ANY($1::integer[]) AND day >= $2 AND day <= $3"
    )
    scope = sellers.SellerScope(1, root)
    figures = {
        "baseline: sum(units) of a top-level category": await timed(
            runs, lambda: pool.fetchval(baseline, root, first, LAST)
        ),
        **await market_figures(pool, period, edges, root, leaf, window, runs, "day rows"),
    }
    async with pool.acquire() as conn, conn.transaction():
        start = time.perf_counter()
        built = await periods.build(conn, DAYS, LAST, datetime.now(UTC), edges)
        took = time.perf_counter() - start
    await pool.execute("ANALYZE")
    print(f"the {DAYS}-day period's sums built: {built:,} rows in {took:.1f} s")
    built_window = dataclasses.replace(window, precomputed=True)
    figures |= await market_figures(pool, period, edges, root, leaf, built_window, runs, "built")
    rows = await pool.fetchval(baseline.replace("sum(units)", "count(*)"), root, first, LAST)
    ranking = sellers.seller_ranking("sales_revenue", None, False, None, 50, window, 0, scope)
    listed = len((await fetch_page(pool, ranking)).rows)
    print(f"a top-level category holds {rows:,} product-days of the 30; {listed} sellers listed")
    for label, (p50, p95) in figures.items():
        print(f"{label:<62} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


async def market_figures(
    pool: asyncpg.Pool,
    period: Period,
    edges: tuple[int, ...],
    root: list[int],
    leaf: list[int],
    window: SalesWindow,
    runs: int,
    source: str,
) -> dict[str, tuple[float, float]]:
    """The category page's reads, from `source` (the day rows, or the built period)."""
    scope = sellers.SellerScope(1, root)
    ranking = sellers.seller_ranking("sales_revenue", None, False, None, 50, window, 0, scope)
    return {
        f"market of a top-level category, 30 days ({source})": await timed(
            runs, lambda: category_market.market(pool, 1, root, period, edges)
        ),
        f"market of a leaf category, 30 days ({source})": await timed(
            runs, lambda: category_market.market(pool, 1001, leaf, period, edges)
        ),
        f"sellers of a top-level category by 30-day revenue ({source})": await timed(
            runs, lambda: fetch_page(pool, ranking)
        ),
    }


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
