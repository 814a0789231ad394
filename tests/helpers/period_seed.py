"""Sixty days of product rollup rows (some products new in the last week, some gone) with the
seller and category rows summed from them as the rollup keeps them: a scenario for the periods
built once (sales/periods.py) and what reads them."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import asyncpg

from tests.helpers.sales_scenario import TZ

__all__ = ["CATEGORIES", "LEAVES", "NOW", "TODAY", "TZ", "seed"]

TODAY = date(2026, 11, 30)
NOW = datetime.combine(TODAY, datetime.min.time(), TZ) + timedelta(hours=10)
CATEGORIES = {1: None, 2: 1, 3: 1, 4: None, 5: 4}
LEAVES = (2, 3, 5)


async def seed(pool: asyncpg.Pool) -> None:
    """60 days of product rows (some products new in the last week, some gone), and the
    seller and category rows summed from them as the rollup keeps them."""
    rnd = random.Random(5)
    rows = []
    for pid in range(1, 121):
        seller, leaf = 10 + pid % 7, LEAVES[pid % 3]
        first = TODAY - timedelta(days=60 if pid > 10 else 5)
        last = TODAY - timedelta(days=1 if pid % 11 else 12)  # a few stopped selling
        day = first
        while day <= last:
            if rnd.random() < 0.6:
                units = rnd.choice((0, 0, 1, 2, 3, 8))
                rows.append((day, pid, seller, leaf, units, units * rnd.choice((9, 10, 12)) * 1000,
                             units, 0, units // 4, 0, 0, 1 + units, day == first))  # fmt: skip
            day += timedelta(days=1)
    async with pool.acquire() as conn, conn.transaction():
        for cid, parent in CATEGORIES.items():
            await conn.execute(
                "INSERT INTO categories (id, title, parent_id) VALUES ($1, $2, $3)",
                cid, f"Category {cid}", parent,
            )  # fmt: skip
        for sid in range(10, 17):
            await conn.execute("INSERT INTO sellers (id, title) VALUES ($1, $2)", sid, f"S{sid}")
        await conn.execute(
            "INSERT INTO products (id, title, category_id, seller_id) "
            "SELECT g, 'Product ' || g, (ARRAY[2, 3, 5])[1 + g % 3], 10 + g % 7 "
            "FROM generate_series(1, 120) g"
        )
        await conn.executemany(
            "INSERT INTO sales_product_daily VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            rows,
        )
        await conn.execute(
            """INSERT INTO sales_seller_daily
               SELECT day, seller_id, sum(units), sum(revenue), sum(units_orders),
                      sum(units_stock), sum(units_split), sum(revenue_split), sum(observations),
                      count(*) FILTER (WHERE units > 0)
               FROM sales_product_daily GROUP BY 1, 2"""
        )
        await conn.execute(
            """INSERT INTO sales_category_daily
               SELECT d.day, c.cat, sum(units), sum(revenue), sum(units_orders),
                      sum(units_stock), sum(units_split), sum(revenue_split), sum(observations),
                      count(*) FILTER (WHERE units > 0)
               FROM sales_product_daily d,
                    LATERAL (VALUES (d.category_id), (CASE WHEN d.category_id = 5 THEN 4
                                                      ELSE 1 END)) c(cat)
               GROUP BY 1, 2"""
        )
        await conn.execute(
            "INSERT INTO sales_days (day, observed_pct, max_gap_min, complete, final, updated_at) "
            "SELECT d::date, 100, 5, true, true, $3 FROM generate_series($1::date, $2::date, "
            "interval '1 day') d",
            TODAY - timedelta(days=60),
            TODAY - timedelta(days=1),
            NOW - timedelta(hours=9),
        )
