"""The 7- and 30-day periods built once (sales_periods) give the lists exactly what summing the
day rows gives: products by units, revenue and growth (with and without a category, later
pages, the total), trends (growing and losing products, sellers and categories; new products
that sell). The build is used only for its exact period, and rebuilt when a day ends or when a
finished day was recounted."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from marketplaced.sales import periods
from marketplaced.web import sales_window as sw
from marketplaced.web.queries import catalog, sales, trends
from marketplaced.web.queries.catalog import ProductFilter
from tests.helpers.sales_scenario import TZ

TODAY = date(2026, 11, 30)
NOW = datetime.combine(TODAY, datetime.min.time(), TZ) + timedelta(hours=10)
CATEGORIES = {1: None, 2: 1, 3: 1, 4: None, 5: 4}
LEAVES = (2, 3, 5)

pytestmark = pytest.mark.timeout(120)


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


async def fetch(pool: asyncpg.Pool, f: ProductFilter) -> list[tuple[Any, ...]]:
    q = catalog.product_list(f)
    rows = await pool.fetch(q.sql, *q.args, q.limit)
    return [(r["id"], r["units"], r["revenue"], r["growth_pct"], r["counted"]) for r in rows]


async def lists(pool: asyncpg.Pool, w: sw.SalesWindow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sort in ("units", "revenue", "growth"):
        for cats in (None, [1, 2, 3], [5]):
            for offset in (0, 7):
                f = ProductFilter(sort=sort, sales=w, category_ids=cats, limit=9, offset=offset)
                out[f"{sort} {cats} {offset}"] = await fetch(pool, f)
        count = catalog.product_count(ProductFilter(sort=sort, sales=w, category_ids=[5]))
        out[f"count {sort}"] = await pool.fetchval(count.sql, *count.args)
    for level in ("product", "seller", "category"):
        for growing in (True, False):
            found = await trends.changes(pool, w, level, growing=growing, limit=10)  # type: ignore[arg-type]
            out[f"trend {level} {growing}"] = found
    out["new"] = await trends.new_products(pool, w, limit=10)
    return out


@pytest.mark.parametrize("days", [7, 30])
async def test_a_built_period_gives_what_the_day_rows_give(pool: asyncpg.Pool, days: int) -> None:
    await seed(pool)
    period = sales.last_days(days, NOW, TZ)
    live = await sw.window(pool, period)
    assert not live.precomputed
    expected = await lists(pool, live)
    assert expected[f"revenue {None} 0"] and expected["trend product False"]
    assert expected["new"], "the seed has new products that sell"
    assert await periods.refresh(pool, TZ, NOW, 64) > 0
    built = await sw.window(pool, period)
    assert built.precomputed and dataclasses.replace(built, precomputed=False) == live
    assert await lists(pool, built) == expected
    # another period of the same length is not the build's: summed from the day rows
    other = await sw.window(pool, sales.date_range(period.first - timedelta(days=1),
                                                   period.last - timedelta(days=1)))  # fmt: skip
    assert not other.precomputed


async def test_the_build_follows_the_days(pool: asyncpg.Pool) -> None:
    await seed(pool)
    await periods.refresh(pool, TZ, NOW, 64)
    builds = {r["days"]: r["last_day"] for r in await pool.fetch(
        "SELECT days, last_day FROM sales_period_builds")}  # fmt: skip
    assert builds == {7: TODAY - timedelta(days=1), 30: TODAY - timedelta(days=1)}
    # nothing changed: nothing is rebuilt, even an hour later
    assert await periods.refresh(pool, TZ, NOW + timedelta(hours=2), 64) == 0

    # yesterday recounted (a late batch): rebuilt, then at most once an hour
    async def recount(at: datetime) -> None:
        await pool.execute(
            "UPDATE sales_product_daily SET units = units + 100, revenue = revenue + 100 "
            "WHERE day = $1 AND product_id = 50",
            TODAY - timedelta(days=1),
        )
        await pool.execute(
            "UPDATE sales_days SET updated_at = $1 WHERE day = $2", at, TODAY - timedelta(days=1)
        )

    async def built_units() -> tuple[int, int]:
        built = await pool.fetchval(
            "SELECT units FROM sales_periods WHERE level = 'p' AND days = 7 AND id = 50"
        )
        live = await pool.fetchval(
            "SELECT sum(units) FROM sales_product_daily WHERE product_id = 50 AND day >= $1",
            TODAY - timedelta(days=7),
        )
        return built, live

    await recount(NOW + timedelta(hours=2))
    assert await periods.refresh(pool, TZ, NOW + timedelta(hours=2, minutes=30), 64) > 0
    built, live = await built_units()
    assert built == live
    await recount(NOW + timedelta(hours=2, minutes=45))
    assert await periods.refresh(pool, TZ, NOW + timedelta(hours=3), 64) == 0
    assert (await built_units())[0] == built  # the hour since the last build is not over
    assert await periods.refresh(pool, TZ, NOW + timedelta(hours=3, minutes=31), 64) > 0
    built, live = await built_units()
    assert built == live
    # the next day: built for the period ending today
    tomorrow = NOW.astimezone(UTC) + timedelta(days=1)
    await periods.refresh(pool, TZ, tomorrow, 64)
    assert await pool.fetchval("SELECT min(last_day) FROM sales_period_builds") == TODAY
