"""The period builds (yesterday, 7 and 30 days) are a job of their own that never holds up
today's rollup: a build reads a snapshot instead of taking the rollup's lock, and a second
builder leaves a period to the one building it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from marketplaced.sales import periods, rollup, rollup_sql
from tests.conftest import base_config
from tests.helpers.period_seed import NOW, TZ, seed

pytestmark = pytest.mark.timeout(120)

#: the advisory lock of period builders (sales/periods.py _TRY_LOCK)
BUILDERS_LOCK = 1885696617


async def _waiting_on(pool: asyncpg.Pool, table: str) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND relation = $1::regclass)",
            table,
        )
    )


async def test_a_build_in_progress_does_not_hold_up_todays_rollup(pool: asyncpg.Pool) -> None:
    await seed(pool)
    settings = rollup.SalesSettings.from_config(base_config().jobs)
    async with pool.acquire() as blocker:
        tx = blocker.transaction()
        await tx.start()
        # the build's first write waits here, in the middle of its transaction
        await blocker.execute("LOCK TABLE sales_periods IN EXCLUSIVE MODE")
        build = asyncio.create_task(periods.refresh(pool, TZ, NOW, 64))
        try:
            for _ in range(200):
                if await _waiting_on(pool, "sales_periods"):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the build never reached its first write")
            # today's fold runs meanwhile (it waited for the whole build before)
            await asyncio.wait_for(rollup.catch_up(pool, settings, NOW), timeout=30)
            assert not build.done()
        finally:
            await tx.rollback()
        assert await build > 0
    built = await pool.fetchval("SELECT count(*) FROM sales_period_builds")
    assert built == len(periods.DAYS)


async def test_a_second_builder_leaves_the_period_to_the_one_building(pool: asyncpg.Pool) -> None:
    await seed(pool)
    async with pool.acquire() as other, other.transaction():
        await other.execute("SELECT pg_advisory_xact_lock($1)", BUILDERS_LOCK)
        assert await periods.refresh(pool, TZ, NOW, 64) == 0
        assert await pool.fetchval("SELECT count(*) FROM sales_period_builds") == 0
    # the other builder is gone: this one builds
    assert await periods.refresh(pool, TZ, NOW, 64) > 0
    assert await pool.fetchval("SELECT count(*) FROM sales_period_builds") == len(periods.DAYS)


async def test_a_fold_in_flight_when_the_build_starts_is_in_its_snapshot(
    pool: asyncpg.Pool,
) -> None:
    await seed(pool)
    yesterday = NOW.astimezone(TZ).date() - timedelta(days=1)
    async with pool.acquire() as fold:
        tx = fold.transaction()
        await tx.start()
        await fold.execute(rollup_sql.LOCK)
        build = asyncio.create_task(periods.refresh(pool, TZ, NOW, 64))
        await asyncio.sleep(0.5)
        # the fold books late units on yesterday and commits while the build waits
        await fold.execute(
            "UPDATE sales_product_daily SET units = units + 1000 WHERE day = $1 AND product_id = "
            "(SELECT min(product_id) FROM sales_product_daily WHERE day = $1)",
            yesterday,
        )
        assert not build.done()
        await tx.commit()
    await build
    summed = await pool.fetchval(
        "SELECT sum(units) FROM sales_product_daily WHERE day = $1", yesterday
    )
    built = await pool.fetchval(
        "SELECT sum(units) FROM sales_periods WHERE days = 1 AND level = 'p' AND current"
    )
    assert built == summed


async def test_a_build_plans_its_reads_on_statistics_that_include_its_own_rows(
    pool: asyncpg.Pool,
) -> None:
    """The market rows a build writes are read back by its next statements; planned on
    statistics that had never seen that period (a first 30-day build), the reads ran for
    a quarter of an hour at full scale."""
    await seed(pool)
    await periods.refresh(pool, TZ, NOW, 64)
    counts = dict(await pool.fetch("SELECT days, count(*) FROM sales_period_market GROUP BY days"))
    assert set(counts) == set(periods.DAYS)
    # the last build's ANALYZE saw every period's rows, its own uncommitted ones included
    estimated = await pool.fetchval(
        "SELECT reltuples FROM pg_class WHERE oid = 'sales_period_market'::regclass"
    )
    assert estimated == sum(counts.values())
    common = await pool.fetchval(
        "SELECT most_common_vals::text FROM pg_stats "
        "WHERE tablename = 'sales_period_market' AND attname = 'days'"
    )
    assert common is not None and "30" in common
