"""Price drops: kept by the summaries refresh, recomputing only the SKUs new batches wrote rows
for, with the same rows as computing the window whole (the former materialized view's SQL is
the reference here)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import asyncpg

from marketplaced import commit_log, db
from marketplaced.config import DatabaseConfig
from marketplaced.web import price_drops, summaries

# the definition of a drop, as the materialized view computed it over the whole window
_REFERENCE = """
SELECT h.sku_id, h.product_id, h.observed_at, prev.purchase_price AS old_price,
       h.purchase_price AS new_price,
       round(100.0 * (prev.purchase_price - h.purchase_price) / prev.purchase_price, 2) AS drop_pct
FROM price_history h
CROSS JOIN LATERAL (
    SELECT purchase_price FROM price_history p
    WHERE p.sku_id = h.sku_id AND p.observed_at < h.observed_at
    ORDER BY p.observed_at DESC LIMIT 1
) prev
WHERE h.observed_at >= now() - interval '14 days'
  AND prev.purchase_price > 0 AND h.purchase_price < prev.purchase_price
ORDER BY 1, 3"""
_TABLE = "SELECT * FROM web_price_drops ORDER BY sku_id, observed_at"


async def _batch(pool: asyncpg.Pool, at: datetime, prices: dict[int, int]) -> None:
    """One writer batch: a price row per SKU (product = sku // 10), then its commit stamp."""
    async with pool.acquire() as conn, conn.transaction():
        for sku, price in prices.items():
            await conn.execute(
                "INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, "
                "full_price, available_amount) VALUES ($1, $2, $3, $4, $4, 5)",
                sku,
                at,
                sku // 10,
                price,
            )
        await commit_log.stamp(conn, at)


async def _drops(pool: asyncpg.Pool) -> list[tuple[object, ...]]:
    rows = await pool.fetch(_TABLE)
    assert rows == await pool.fetch(_REFERENCE)
    return [(r["sku_id"], r["old_price"], r["new_price"], float(r["drop_pct"])) for r in rows]


async def _old_partition_scans(pool: asyncpg.Pool, old: datetime) -> int:
    """Index scans so far of the price-history partition holding `old` (statistics as
    flushed: a pool of one connection, whose next idle moment flushes them)."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_stat_force_next_flush()")
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        n: int = await conn.fetchval(
            "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE relname = $1",
            f"price_history_y{old:%Y}m{old:%m}",
        )
    return n


async def test_price_drops_follow_new_and_late_batches(
    pool: asyncpg.Pool, fresh_db: DatabaseConfig
) -> None:
    now = datetime.now().astimezone()
    day = timedelta(days=1)
    # a row 100 days back, two months or more before the window's first: its partition is
    # not read for a SKU that has a row closer to the window (the probe goes newest month first)
    old = (now - 100 * day).astimezone(UTC)
    for back in (100, 60, 20, 0):
        await pool.execute(
            "SELECT marketplaced_ensure_partition_for('price_history', $1)",
            (now - back * day).astimezone(UTC).date(),
        )
    await _batch(pool, now - 100 * day, {11: 120_000, 21: 50_000, 31: 9_500})
    await _batch(pool, now - 20 * day, {11: 100_000, 21: 50_000, 31: 9_000})
    await _batch(pool, now - 10 * day, {11: 90_000, 31: 8_000})
    await _batch(pool, now - 5 * day, {11: 95_000})
    await _batch(pool, now - 3 * day, {21: 60_000})
    one = await db.create_pool(dataclasses.replace(fresh_db, pool_min=1, pool_max=1))
    try:
        scans = await _old_partition_scans(one, old)
        await summaries.refresh(one)  # the first refresh builds the whole window
        assert await _old_partition_scans(one, old) == scans
    finally:
        await one.close()
    assert await _drops(pool) == [
        (11, 100_000, 90_000, 10.0),  # against a row before the window
        (31, 9_000, 8_000, 11.11),
    ]
    # a new batch of SKU 21, and a late one of SKU 11 landing between two earlier rows
    await _batch(pool, now - 1 * day, {21: 45_000})
    await _batch(pool, now - 7 * day, {11: 70_000})
    untouched = await pool.fetchval("SELECT xmin::text FROM web_price_drops WHERE sku_id = 31")
    async with pool.acquire() as conn:
        assert await price_drops.refresh(conn) == 2  # the two SKUs' windows, not SKU 31's
    assert await pool.fetchval("SELECT xmin::text FROM web_price_drops WHERE sku_id = 31") == (
        untouched
    )
    seq = "SELECT commit_seq FROM web_summary_refreshes WHERE name = 'web_price_drops'"
    assert await pool.fetchval(seq) == await commit_log.top(pool)
    assert await _drops(pool) == [
        (11, 100_000, 90_000, 10.0),
        (11, 90_000, 70_000, 22.22),  # and the row after it (70 000 → 95 000) is no drop now
        (21, 60_000, 45_000, 25.0),
        (31, 9_000, 8_000, 11.11),
    ]
    # nothing committed since: nothing recomputed, nothing changed
    before = await pool.fetch("SELECT *, xmin::text FROM web_price_drops ORDER BY 1, 3")
    await summaries.refresh(pool)
    assert await pool.fetch("SELECT *, xmin::text FROM web_price_drops ORDER BY 1, 3") == before
