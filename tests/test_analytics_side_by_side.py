"""The nightly analytics of a day and the recount of its sales rows run side by side, each in
its own transaction: the recount does not wait for the analytics transaction to finish."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import asyncpg
import pytest

from marketplaced.jobs import analytics
from marketplaced.sales import rollup
from tests.conftest import base_config
from tests.helpers.sales_scenario import Scenario, at

DAY = date(2026, 3, 20)
_RECOUNTED = "SELECT updated_at FROM sales_days WHERE day = $1"


async def test_the_sales_recount_does_not_wait_for_the_analytics(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = Scenario(pool)
    await sc.catalogue({1: None}, [1])
    sc.product(1, 1, 1, 100, {10: (50_000, 20)})
    await sc.observe(at(DAY, 9), 1)
    await sc.observe(at(DAY, 12), 1, orders=104, skus={10: (50_000, 16)})
    settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    await analytics.compute_day(pool, DAY, settings)
    counted = await pool.fetchval(_RECOUNTED, DAY)
    recounted = asyncio.Event()
    real = rollup.compute_day

    async def recount(*args: Any, **kwargs: Any) -> int:  # the real one, and a signal
        rows = await real(*args, **kwargs)
        recounted.set()
        return rows

    monkeypatch.setattr(rollup, "compute_day", recount)
    async with pool.acquire() as holder, holder.transaction():
        # the analytics transaction ends by updating the day's row: it waits for this lock
        await holder.execute("SELECT 1 FROM analytics_days WHERE day = $1 FOR UPDATE", DAY)
        job = asyncio.create_task(analytics.compute_day(pool, DAY, settings))
        await asyncio.wait_for(recounted.wait(), 20)
        assert await pool.fetchval(_RECOUNTED, DAY) > counted  # committed
        assert not job.done()  # while the analytics still waits
    result = await job
    assert result.products == 1 and result.steps_rows["sales_rollup"] == 1
    units = await pool.fetchval(
        "SELECT units FROM sales_product_daily WHERE day = $1 AND product_id = 1", DAY
    )
    assert units == 4
