"""The minute rollup writes only the day rows a batch changes: a SKU row the batch adds nothing
to (its price moved, its stock did not) is left as it is, not written again with the same
figures — a third of a batch's SKU rows under a catalogue where most products change every
hour. And a run makes a fixed, small number of round trips, whatever its batches hold. The
figures stay those of the nightly recomputation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.jobs import analytics
from marketplaced.sales import rollup
from tests.conftest import base_config
from tests.helpers.sales_scenario import Scenario, at

DAY = date(2026, 11, 2)
EVE = DAY - timedelta(days=1)

pytestmark = pytest.mark.timeout(90)


async def fold(pool: asyncpg.Pool, sc: Scenario, hour: float, **change: object) -> None:
    await sc.observe(at(DAY, hour), 1, **change)  # type: ignore[arg-type]
    settings = rollup.SalesSettings.from_config(base_config().jobs)
    await rollup.catch_up(pool, settings, at(DAY, hour) + timedelta(minutes=1))


async def sku_row(pool: asyncpg.Pool, sku: int) -> tuple[object, ...]:
    """The SKU's day row: units, revenue, units_split, restocked and the transaction that last
    wrote it (xmin)."""
    row = await pool.fetchrow(
        "SELECT units, revenue, units_split, restocked, xmin::text AS written_by"
        " FROM sales_sku_daily WHERE day = $1 AND sku_id = $2",
        DAY,
        sku,
    )
    assert row is not None, sku
    return tuple(row)


async def test_a_sku_row_the_batch_adds_nothing_to_is_not_written(pool: asyncpg.Pool) -> None:
    sc = Scenario(pool)
    await sc.catalogue({1: None, 2: 1}, [100])
    sc.product(1, 100, 2, orders=100, skus={11: (100_000, 50), 12: (90_000, 20)})
    await sc.cover(at(EVE, 21), at(DAY, 23), timedelta(hours=1))
    await sc.observe(at(EVE, 22), 1)
    settings = rollup.SalesSettings.from_config(base_config().jobs)
    await rollup.catch_up(pool, settings, at(EVE, 22) + timedelta(minutes=1))
    # 09:00: SKU 11 sells 5; SKU 12 only changes its price: a row of zeros for it
    await fold(pool, sc, 9, orders=105, skus={11: (100_000, 45), 12: (95_000, 20)})
    zeros = await sku_row(pool, 12)
    assert zeros[:4] == (0, 0, 0, 0)
    sold = await sku_row(pool, 11)
    assert sold[:2] == (5, 5 * 100_000)
    # 10:00: SKU 12's price moves again and SKU 11 sells 3 more
    await fold(pool, sc, 10, orders=108, skus={11: (100_000, 42), 12: (92_000, 20)})
    assert await sku_row(pool, 12) == zeros  # the same figures, and not written again
    again = await sku_row(pool, 11)
    assert again[:2] == (8, 8 * 100_000) and again[4] != sold[4]
    # the nightly recomputation of the day finds nothing to change
    tables = ("sales_product_daily", "sales_sku_daily", "sales_seller_daily")
    query = "SELECT *, xmin::text FROM {} ORDER BY 1, 2"
    before = {t: [tuple(r) for r in await pool.fetch(query.format(t))] for t in tables}
    a_settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    await analytics.compute_day(pool, DAY, a_settings)
    after = {t: [tuple(r) for r in await pool.fetch(query.format(t))] for t in tables}
    assert after == before


class CountingConnection(asyncpg.Connection):  # type: ignore[misc]
    """A connection that counts the statements it sends (each one a round trip)."""

    statements = 0

    async def execute(self, query: str, *args: Any, **kw: Any) -> Any:
        CountingConnection.statements += 1
        return await super().execute(query, *args, **kw)

    async def fetch(self, query: str, *args: Any, **kw: Any) -> Any:
        CountingConnection.statements += 1
        return await super().fetch(query, *args, **kw)

    async def fetchrow(self, query: str, *args: Any, **kw: Any) -> Any:
        CountingConnection.statements += 1
        return await super().fetchrow(query, *args, **kw)

    async def fetchval(self, query: str, *args: Any, **kw: Any) -> Any:
        CountingConnection.statements += 1
        return await super().fetchval(query, *args, **kw)


async def test_a_run_makes_few_round_trips(pool: asyncpg.Pool, fresh_db: DatabaseConfig) -> None:
    sc = Scenario(pool)
    await sc.catalogue({1: None, 2: 1}, [100])
    sc.product(1, 100, 2, orders=100, skus={11: (100_000, 50), 12: (90_000, 20)})
    await sc.cover(at(EVE, 21), at(DAY, 23), timedelta(hours=1))
    await sc.observe(at(DAY, 1), 1)
    settings = rollup.SalesSettings.from_config(base_config().jobs)
    await rollup.catch_up(pool, settings, at(DAY, 1) + timedelta(minutes=1))
    await sc.observe(at(DAY, 9), 1, orders=105, skus={11: (100_000, 45), 12: (95_000, 20)})
    counting = await asyncpg.create_pool(
        **db.connect_kwargs(fresh_db), min_size=1, max_size=1, connection_class=CountingConnection
    )
    try:
        CountingConnection.statements = 0
        await rollup.catch_up(counting, settings, at(DAY, 9) + timedelta(minutes=1))
        # begin, lock, watermark, new stamps, the batch, the product's day rows, scan gaps,
        # the product/SKU/carry writes, the seller and category sums, the day's coverage and
        # its row (one day reached), the new watermark, commit, the pool's reset of the
        # connection
        assert CountingConnection.statements <= 14
    finally:
        await counting.close()
    row = await pool.fetchrow(
        "SELECT units, revenue FROM sales_product_daily WHERE day = $1 AND product_id = 1", DAY
    )
    assert row is not None and tuple(row) == (5, 5 * 100_000)
