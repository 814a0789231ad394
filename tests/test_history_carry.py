"""The nightly recomputation of a day finds the values in effect at 00:00 (the latest history
row before it) in the newest month that has one: older monthly partitions are not read for a
product or SKU that changed this month."""

from __future__ import annotations

import dataclasses
from datetime import date

import asyncpg

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.jobs import analytics
from tests.conftest import base_config
from tests.helpers.sales_scenario import Scenario, at

DAY = date(2026, 3, 20)
OLD_MONTH = date(2025, 12, 1)
# index scans of the old month's partitions (their statistics as flushed)
_OLD_SCANS = """
SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes
WHERE relname IN ('price_history_y2025m12', 'product_stats_history_y2025m12')"""


async def _old_scans(conn: asyncpg.Connection) -> int:
    await conn.execute("SELECT pg_stat_force_next_flush()")  # this backend's, at its next idle
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    n: int = await conn.fetchval(_OLD_SCANS)
    return n


async def test_a_day_reads_only_the_months_it_needs(
    pool: asyncpg.Pool, fresh_db: DatabaseConfig
) -> None:
    for parent in ("price_history", "product_stats_history"):
        for month in (OLD_MONTH, date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
            await pool.execute("SELECT marketplaced_ensure_partition_for($1, $2)", parent, month)
    sc = Scenario(pool)
    await sc.catalogue({1: None}, [1])
    for pid in (1, 2, 3):
        sc.product(pid, 1, 1, 100, {pid * 10: (50_000, 20), pid * 10 + 1: (70_000, 9)})
        await sc.observe(at(date(2025, 12, 10), 12), pid)
        # this month, before the day: the rows in effect at its 00:00
        march = {pid * 10: (48_000, 16), pid * 10 + 1: (70_000, 8)}
        await sc.observe(at(date(2026, 3, 5), 12), pid, orders=104, skus=march)
        await sc.observe(at(DAY, 12), pid, orders=107, skus={pid * 10: (48_000, 13)})
    settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    # one connection: the statistics of the day's statements are this backend's to flush
    one = await db.create_pool(dataclasses.replace(fresh_db, pool_min=1, pool_max=1))
    try:
        async with one.acquire() as conn:
            before = await _old_scans(conn)
        await analytics.compute_day(one, DAY, settings)
        async with one.acquire() as conn:
            assert await _old_scans(conn) == before
    finally:
        await one.close()
    rows = await pool.fetch(
        "SELECT sku_id, stock_start, stock_end, units, revenue FROM analytics_sku_daily "
        "WHERE day = $1 ORDER BY sku_id",
        DAY,
    )
    assert [tuple(r) for r in rows] == [
        (10, 16, 13, 3, 144_000),
        (20, 16, 13, 3, 144_000),
        (30, 16, 13, 3, 144_000),
    ]
    # no scan coverage was recorded: each delta is spread over the days before it, in parts
    # that add up to it (the day's share: 12 of 48 hours)
    sales = await pool.fetch(
        "SELECT product_id, units, revenue FROM sales_product_daily WHERE day = $1 ORDER BY 1",
        DAY,
    )
    assert [tuple(r) for r in sales] == [(1, 1, 36_000), (2, 1, 36_000), (3, 1, 36_000)]
