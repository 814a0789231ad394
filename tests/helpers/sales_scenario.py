"""Hand-built sales scenarios: history rows inserted exactly as the writer stores them.

A `Scenario` keeps the state of each product (order counter, per-SKU price and stock) and, at
each `observe`, writes what the writer would for that visit: upserts of the product and its
SKUs, its `uzum_visits` row (`last_seen` moves), a `price_history` row per SKU whose price or
stock changed, a `product_stats_history` row when the counter or total stock changed
(change-based history), and the batch's `writer_commits` stamp as the last step of the
transaction. `cover` records the scan-coverage periods a running scanner would have produced,
so gaps are real gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from marketplaced import commit_log
from marketplaced.jobs import coverage
from marketplaced.sales import rollup

TZ = ZoneInfo("Asia/Tashkent")
#: the days of `three_products`
D0 = date(2026, 11, 2)
D1, D2, D3 = (D0 + timedelta(days=i) for i in (1, 2, 3))
EVE = D0 - timedelta(days=1)


def at(day: date, hour: float) -> datetime:
    """Local time `hour` (fractions allowed) of `day`."""
    return datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=hour)


@dataclass
class _Product:
    seller_id: int
    category_id: int
    orders: int
    skus: dict[int, tuple[int, int]] = field(default_factory=dict)  # sku -> (price, stock)


class Scenario:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.products: dict[int, _Product] = {}

    async def catalogue(self, categories: dict[int, int | None], sellers: list[int]) -> None:
        """Categories (id -> parent) and sellers."""
        for cid, parent in categories.items():
            await self.pool.execute(
                "INSERT INTO categories (id, title, parent_id) VALUES ($1, $2, $3)",
                cid,
                f"Category {cid}",
                parent,
            )
        for sid in sellers:
            await self.pool.execute(
                "INSERT INTO sellers (id, title) VALUES ($1, $2)", sid, f"Seller {sid}"
            )

    def product(
        self, pid: int, seller: int, category: int, orders: int, skus: dict[int, tuple[int, int]]
    ) -> None:
        """Declare a product; it is written at its first `observe`."""
        self.products[pid] = _Product(seller, category, orders, dict(skus))

    async def observe(
        self,
        when: datetime,
        pid: int,
        *,
        orders: int | None = None,
        skus: dict[int, tuple[int, int]] | None = None,
    ) -> None:
        """One visit of `pid` at `when`, committed as one writer batch."""
        p = self.products[pid]
        async with self.pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval(
                "SELECT NOT EXISTS (SELECT 1 FROM products WHERE id=$1)", pid
            )
            changed_stats = first or (orders is not None and orders != p.orders)
            old = dict(p.skus)
            if orders is not None:
                p.orders = orders
            if skus:
                p.skus.update(skus)
            total = sum(stock for _, stock in p.skus.values())
            changed_stats = changed_stats or total != sum(s for _, s in old.values())
            await conn.execute(
                """INSERT INTO products (id, title, category_id, seller_id, orders_amount,
                       total_available, first_seen, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                   ON CONFLICT (id) DO UPDATE SET orders_amount = EXCLUDED.orders_amount,
                       total_available = EXCLUDED.total_available""",
                pid,
                f"Product {pid}",
                p.category_id,
                p.seller_id,
                p.orders,
                total,
                when,
            )
            for sku, (price, stock) in p.skus.items():
                await conn.execute(
                    """INSERT INTO skus (id, product_id, full_price, purchase_price,
                           available_amount, first_seen, last_seen)
                       VALUES ($1, $2, $3, $3, $4, $5, NULL)
                       ON CONFLICT (id) DO UPDATE SET purchase_price = EXCLUDED.purchase_price,
                           available_amount = EXCLUDED.available_amount""",
                    sku,
                    pid,
                    price,
                    stock,
                    when,
                )
                if first or old.get(sku) != (price, stock):
                    await conn.execute(
                        """INSERT INTO price_history (sku_id, observed_at, product_id,
                               purchase_price, full_price, available_amount)
                           VALUES ($1, $2, $3, $4, $4, $5)""",
                        sku,
                        when,
                        pid,
                        price,
                        stock,
                    )
            if changed_stats:
                await conn.execute(
                    """INSERT INTO product_stats_history (product_id, observed_at, orders_amount,
                           reviews_amount, rating, total_available)
                       VALUES ($1, $2, $3, 0, NULL, $4)""",
                    pid,
                    when,
                    p.orders,
                    total,
                )
            await conn.execute(
                """INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome)
                   VALUES ($1, $2, $2, 'changed')
                   ON CONFLICT (product_id) DO UPDATE SET visited_at = EXCLUDED.visited_at,
                       last_seen = EXCLUDED.last_seen, outcome = EXCLUDED.outcome""",
                pid,
                when,
            )
            await commit_log.stamp(conn, when)

    async def cover(self, start: datetime, end: datetime, step: timedelta) -> None:
        """Scan-coverage periods from `start` to `end`, as the sampler records them while the
        scanner runs (each period saw products)."""
        t = start
        while t < end:
            nxt = min(t + step, end)
            await self.pool.execute(
                "INSERT INTO scan_coverage (scope, period_start, period_end, seen)"
                " VALUES ($1, $2, $3, 1) ON CONFLICT DO NOTHING",
                coverage.SCOPE,
                t,
                nxt,
            )
            t = nxt


async def three_products(pool: asyncpg.Pool, settings: rollup.SalesSettings) -> Scenario:
    """Three products over four days (D0 … D3) with a scan gap, the minute job folding after
    every batch as in the daemon: a price change mid-day without stock moving, a restock, a
    counter reset, a first-seen product and a delta spanning the gap. The hand-computed
    figures are in tests/test_sales_rollup.py."""
    sc = Scenario(pool)
    await sc.catalogue({1: None, 2: 1, 3: None}, [100, 200])
    sc.product(1, 100, 2, orders=100, skus={11: (100_000, 50)})
    sc.product(2, 100, 3, orders=40, skus={21: (50_000, 10)})
    sc.product(3, 200, 2, orders=5, skus={31: (30_000, 20)})
    # the scanner runs from the evening before D0 until D1 10:00, then not until D3 02:00
    await sc.cover(at(EVE, 21), at(D1, 10), timedelta(hours=1))
    await sc.cover(at(D3, 2), at(D3 + timedelta(days=1), 0), timedelta(hours=1))
    steps: list[tuple[datetime, int, dict[str, object]]] = [
        (at(EVE, 22), 1, {}),
        (at(EVE, 22), 2, {}),
        (at(D0, 9), 2, {"orders": 43, "skus": {21: (50_000, 7)}}),  # 3 sold
        (at(D0, 10), 1, {"orders": 110}),  # 10 at 100 000
        (at(D0, 11), 3, {}),  # first seen
        (at(D0, 12), 1, {"skus": {11: (120_000, 50)}}),  # price only, no stock moved
        (at(D0, 13), 2, {"skus": {21: (50_000, 30)}}),  # restock +23
        (at(D0, 15), 3, {"orders": 8}),  # 3 at 30 000
        (at(D0, 16), 1, {"orders": 125}),  # 15 at 120 000
        (at(D0, 18), 2, {"orders": 2, "skus": {21: (50_000, 26)}}),  # reset: 4 by stock
        (at(D1, 9), 1, {"orders": 130}),  # 5 at 120 000
        (at(D3, 2), 1, {"orders": 170}),  # 40 over the gap: D1 09:00 .. D3 02:00
    ]
    for when, pid, change in steps:
        await sc.observe(when, pid, **change)  # type: ignore[arg-type]
        await rollup.catch_up(pool, settings, when + timedelta(minutes=1))
    return sc
