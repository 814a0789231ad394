"""Yesterday and the 7- and 30-day periods built once (sales_periods) give the lists exactly what
summing the day rows gives: products by units, revenue and growth (with and without a category,
later pages, the total), trends (growing and losing products, sellers and categories; new products
that sell). The build is used only for its exact period, and rebuilt when a day ends or when a
finished day was recounted."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from marketplaced.sales import periods
from marketplaced.web import sales_window as sw
from marketplaced.web.queries import catalog, sales, sellers, trends
from marketplaced.web.queries.catalog import ProductFilter
from tests.helpers.period_seed import NOW, TODAY, TZ, seed

pytestmark = pytest.mark.timeout(120)


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
    # lists in other orders carry the period's figures too (from the build when there is one)
    for sort in ("orders", "rating", "price_asc"):
        for cats in (None, [5]):
            f = ProductFilter(sort=sort, sales=w, category_ids=cats, limit=60)
            out[f"{sort} {cats}"] = await fetch(pool, f)
    for sort in ("orders", "products"):
        q = sellers.seller_ranking(sort, None, False, None, 60, sales=w)
        rows = await pool.fetch(q.sql, *q.args, q.limit)
        out[f"sellers {sort}"] = [
            (r["id"], r["units"], r["revenue"], r["growth_pct"], r["counted"]) for r in rows
        ]
    for level in ("product", "seller", "category"):
        for growing in (True, False):
            found = await trends.changes(pool, w, level, growing=growing, limit=10)  # type: ignore[arg-type]
            out[f"trend {level} {growing}"] = found
    out["new"] = await trends.new_products(pool, w, limit=10)
    return out


@pytest.mark.parametrize("days", [1, 7, 30])
async def test_a_built_period_gives_what_the_day_rows_give(pool: asyncpg.Pool, days: int) -> None:
    await seed(pool)
    period = sales.last_days(days, NOW, TZ)
    live = await sw.window(pool, period)
    assert not live.precomputed
    expected = await lists(pool, live)
    assert expected[f"revenue {None} 0"] and expected["trend product False"]
    # the lists in other orders carry the period's figures, the sellers' too
    assert any(r[1] > 0 for r in expected["orders None"])
    assert any(r[1] > 0 for r in expected["sellers orders"])
    if days >= 7:
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
    assert builds == {days: TODAY - timedelta(days=1) for days in (1, 7, 30)}
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
