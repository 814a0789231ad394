"""Partition DDL against real PostgreSQL: it gives way to writers behind a long reader, and rows
that landed in a DEFAULT partition no longer break retention."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from marketplaced.config import WriterConfig
from marketplaced.jobs import maintenance
from marketplaced.partitions import LockPolicy
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import ProductSnapshot
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.writer import Writer
from tests.conftest import base_config
from tests.helpers import recorded

pytestmark = pytest.mark.timeout(60)

#: short enough for a test, long enough that a poll every 20 ms sees the DDL waiting
FAST_LOCKS = LockPolicy(lock_timeout_ms=300, attempts=4, retry_first_s=0.1)
#: rows are put this far into their month, clear of any time-zone shift of its bounds
DAYS = timedelta(days=10)


def _month(d: date, delta: int) -> date:
    index = d.year * 12 + d.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def _suffix(d: date) -> str:
    return f"_y{d.year:04d}m{d.month:02d}"


async def _partitions(pool: asyncpg.Pool, parent: str) -> set[str]:
    rows = await pool.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass",
        parent,
    )
    return {r["relname"] for r in rows}


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def _write_snapshot(pool: asyncpg.Pool) -> None:
    snap = parse_product(200, recorded.uzum_json(1772350), 1772350)
    assert isinstance(snap, ProductSnapshot)
    writer = Writer(pool, WriterConfig(flush_interval_s=0.01), [UzumSink()])
    task = asyncio.create_task(writer.run())
    try:
        await writer.put(snap)
        await writer.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_partition_ddl_gives_way_to_writers_behind_a_long_reader(
    pool: asyncpg.Pool,
) -> None:
    today = datetime.now(UTC).date()
    cfg = base_config(retention={"partitions_ahead_months": 5})
    ahead = "price_history" + _suffix(_month(today, 5))
    async with pool.acquire() as reader:
        # what the analytics job does for minutes: read the history inside one transaction
        reader_tx = reader.transaction()
        await reader_tx.start()
        await reader.fetchval("SELECT count(*) FROM price_history")
        job = asyncio.create_task(maintenance.retention(pool, cfg, locks=FAST_LOCKS))

        async def ddl_waiting() -> bool:
            waiting = await pool.fetchval(
                "SELECT count(*) FROM pg_locks WHERE relation = 'price_history'::regclass "
                "AND NOT granted"
            )
            return bool(waiting)

        await _until(ddl_waiting)
        # the writer's insert into the same table goes through while the reader still reads
        await asyncio.wait_for(_write_snapshot(pool), 20)
        assert await pool.fetchval("SELECT count(*) FROM price_history") > 0
        assert reader.is_in_transaction()
        # the DDL gave up after its attempts and said which table and why
        with pytest.raises(maintenance.MaintenanceError, match="price_history: ensure gave up"):
            await job
        assert ahead not in await _partitions(pool, "price_history")
        # the other tables were not held up by the busy one
        assert "product_stats_history" + _suffix(_month(today, 5)) in await _partitions(
            pool, "product_stats_history"
        )
        await reader_tx.rollback()
    await maintenance.retention(pool, cfg, locks=FAST_LOCKS)  # the reader is gone: it lands
    assert ahead in await _partitions(pool, "price_history")


async def test_rows_in_the_default_partition_are_moved_and_retention_goes_on(
    pool: asyncpg.Pool,
) -> None:
    today = datetime.now(UTC).date()
    later = _month(today, 6)  # beyond the partitions kept ahead: lands in the default
    ancient = _month(today, -40)  # older than history_months and without a partition
    dropped = _month(today, -30)
    assert await pool.fetchval(
        "SELECT marketplaced_ensure_partition_for('price_history', $1)", dropped
    )
    insert = (
        "INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, "
        "full_price, available_amount) VALUES ($1, $2, 1, 100, 120, 5)"
    )
    for sku, month in ((1, later), (2, later), (3, ancient)):
        await pool.execute(insert, sku, datetime.combine(month, datetime.min.time(), UTC) + DAYS)
    stats = (
        "INSERT INTO product_stats_history (product_id, observed_at, orders_amount, "
        "reviews_amount, rating, total_available) VALUES (1, $1, 1, 1, 4.5, 1)"
    )
    await pool.execute(stats, datetime.combine(later, datetime.min.time(), UTC) + DAYS)
    assert await pool.fetchval("SELECT count(*) FROM price_history_default") == 3

    cfg = base_config(retention={"history_months": 24, "partitions_ahead_months": 8})
    await maintenance.retention(pool, cfg, locks=FAST_LOCKS)

    where = await pool.fetch(
        "SELECT sku_id, tableoid::regclass::text AS part FROM price_history ORDER BY sku_id"
    )
    target = "price_history" + _suffix(later)
    assert [tuple(r) for r in where] == [(1, target), (2, target)]  # moved; the ancient is gone
    assert await pool.fetchval("SELECT count(*) FROM price_history_default") == 0
    assert await pool.fetchval("SELECT count(*) FROM product_stats_history_default") == 0
    assert await pool.fetchval(
        "SELECT tableoid::regclass::text FROM product_stats_history"
    ) == "product_stats_history" + _suffix(later)
    parts = await _partitions(pool, "price_history")
    assert "price_history" + _suffix(dropped) not in parts  # retention dropped the old month
    assert "price_history" + _suffix(_month(today, 8)) in parts  # and created ahead
    # the next run has nothing left to move and does not fail either
    await maintenance.retention(pool, cfg, locks=FAST_LOCKS)
