"""How the lists ranked by a built period (sales_periods) are read, on a small real database:
each reads the rows it shows or counts, through an index in its order, instead of walking or
scanning other rows of the period to find them. These are plan properties (which index, how
many rows read), not timings; the figures themselves are test_sales_periods.py's."""

from __future__ import annotations

import dataclasses
from typing import Any

import asyncpg
import pytest

from marketplaced.sales import periods
from marketplaced.web import sales_window as sw
from marketplaced.web.queries import catalog, sales, seller_sales, trends
from marketplaced.web.queries.catalog import ProductFilter
from tests.helpers.period_seed import NOW, TZ, seed
from tests.helpers.plans import explain, rows_read, scans

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def built(pool: asyncpg.Pool) -> sw.SalesWindow:
    """The seeded scenario's last 7 days, built."""
    await seed(pool)
    assert await periods.refresh(pool, TZ, NOW, 64) > 0
    await pool.execute("ANALYZE sales_periods")
    w = await sw.window(pool, sales.last_days(7, NOW, TZ))
    assert w.precomputed
    return w


async def test_new_products_read_only_new_products_with_sales(
    pool: asyncpg.Pool, built: sw.SalesWindow
) -> None:
    async with pool.acquire() as conn:
        plan = await explain(conn, trends._BUILT_NEW, 7, 10, index_walks=True)
    new = await trends.new_products(pool, built, limit=10)
    assert new, "the seed has new products that sell"
    (scan,) = scans(plan, "sales_periods")
    # not the period's products walked by units and filtered down to the new ones
    assert not scan.get("Rows Removed by Filter"), scan
    assert rows_read(scan) == len(new)


@pytest.mark.parametrize("categories", [None, [1, 2, 3], [5]])
async def test_a_built_periods_total_is_counted_from_its_rows_with_sales(
    pool: asyncpg.Pool, built: sw.SalesWindow, categories: list[int] | None
) -> None:
    count = catalog.product_count(
        ProductFilter(sort="revenue", sales=built, category_ids=categories)
    )
    async with pool.acquire() as conn:
        plan = await explain(conn, count.sql, *count.args, index_walks=True)
        counted = await conn.fetchval(count.sql, *count.args)
    assert counted > 0
    (scan,) = scans(plan, "sales_periods")
    # the index of the period's rows with sales, read without the table: no row of another
    # period or without sales in this one is fetched to be thrown away
    assert scan["Node Type"] == "Index Only Scan", scan
    assert "current" not in scan.get("Filter", ""), scan
    if categories is None:
        assert rows_read(scan) == counted


class Recorder:
    """A connection that keeps the statements sent through it (to explain them)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.sent.append((sql, args))
        return await self.conn.fetch(sql, *args)


async def test_a_sellers_category_mix_over_a_built_period_reads_its_rows_per_product(
    pool: asyncpg.Pool, built: sw.SalesWindow
) -> None:
    live = dataclasses.replace(built, precomputed=False)
    async with pool.acquire() as conn:
        for sid in range(10, 17):
            seen = Recorder(conn)
            mix = await seller_sales.category_mix(seen, sid, built)  # type: ignore[arg-type]
            assert mix and mix == await seller_sales.category_mix(conn, sid, live)
        ((sql, args),) = seen.sent
        plan = await explain(conn, sql, *args, index_walks=True)
    # not the seller's product-day rows: its rows of the built period, found by seller
    assert not scans(plan, "sales_product_daily"), plan
    (scan,) = scans(plan, "sales_period_market")
    assert not scan.get("Rows Removed by Filter"), scan
