"""The minute rollup counts a batch against what it last counted for each product, not by
reading the product's day of history again: what a batch costs does not grow with the day.
A late batch, a new product and a product moved to another category are still recomputed from
history, and every way gives the rows the nightly recomputation gives."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from marketplaced.jobs import analytics
from marketplaced.sales import rollup
from tests.conftest import base_config
from tests.helpers.sales_scenario import Scenario, at

DAY = date(2026, 11, 2)
EVE = DAY - timedelta(days=1)

pytestmark = pytest.mark.timeout(90)


def settings() -> rollup.SalesSettings:
    return rollup.SalesSettings.from_config(base_config().jobs)


async def scenario(pool: asyncpg.Pool) -> Scenario:
    sc = Scenario(pool)
    await sc.catalogue({1: None, 2: 1, 3: None}, [100])
    sc.product(1, 100, 2, orders=100, skus={11: (100_000, 50), 12: (90_000, 20)})
    await sc.cover(at(EVE, 21), at(DAY, 23), timedelta(hours=1))
    return sc


async def fold(pool: asyncpg.Pool, sc: Scenario, hour: float, **change: object) -> None:
    await sc.observe(at(DAY, hour), 1, **change)  # type: ignore[arg-type]
    await rollup.catch_up(pool, settings(), at(DAY, hour) + timedelta(minutes=1))


async def day_row(pool: asyncpg.Pool) -> dict[str, object]:
    row = await pool.fetchrow(
        "SELECT * FROM sales_product_daily WHERE day = $1 AND product_id = 1", DAY
    )
    assert row is not None
    return dict(row)


async def test_a_batch_is_counted_against_the_last_counted_values(pool: asyncpg.Pool) -> None:
    sc = await scenario(pool)
    await sc.observe(at(EVE, 22), 1)
    await rollup.catch_up(pool, settings(), at(EVE, 22) + timedelta(minutes=1))
    await fold(pool, sc, 9, orders=110, skus={11: (100_000, 45), 12: (90_000, 15)})
    await fold(pool, sc, 10, orders=120, skus={11: (100_000, 40), 12: (90_000, 10)})
    # the day's earlier history is gone (say, archived): only what the rollup carried is left
    for table in ("price_history", "product_stats_history"):
        await pool.execute(
            f"DELETE FROM {table} WHERE product_id = 1 AND observed_at > $1",  # noqa: S608
            at(EVE, 23),
        )
    await fold(pool, sc, 11, orders=125, skus={11: (110_000, 38), 12: (90_000, 7)})
    row = await day_row(pool)
    # 10 + 10 + 5 units, each interval at its own prices; three observations that day
    assert (row["units"], row["observations"]) == (25, 3)
    assert row["revenue"] == 10 * 95_000 + 10 * 95_000 + 5 * 94_000
    sku = await pool.fetchrow(
        "SELECT units, revenue FROM sales_sku_daily WHERE day = $1 AND sku_id = 12", DAY
    )
    assert sku is not None and (sku["units"], sku["revenue"]) == (13, 13 * 90_000)
    carry = await pool.fetchrow("SELECT * FROM sales_carry WHERE product_id = 1")
    assert carry is not None and carry["observed_at"] == at(DAY, 11)
    assert carry["orders"] == 125
    assert dict(zip(carry["sku_ids"], carry["prices"], strict=True)) == {11: 110_000, 12: 90_000}
    cat = await pool.fetchrow(
        "SELECT units FROM sales_category_daily WHERE day = $1 AND category_id = 1", DAY
    )
    assert cat is not None and cat["units"] == 25  # the parent of the product's category


async def test_late_new_and_moved_products_are_recomputed_the_same(pool: asyncpg.Pool) -> None:
    sc = await scenario(pool)
    await sc.observe(at(EVE, 22), 1)
    await rollup.catch_up(pool, settings(), at(EVE, 22) + timedelta(minutes=1))
    await fold(pool, sc, 9, orders=110, skus={11: (100_000, 45)})
    await fold(pool, sc, 12, orders=130)
    # a batch stamped 10:00 commits after the 12:00 one: the intervals after it change
    await sc.observe(at(DAY, 10), 1, orders=115)
    await rollup.catch_up(pool, settings(), at(DAY, 12) + timedelta(minutes=5))
    # the product moves to category 3: its day rows follow it, so do the category sums
    await pool.execute("UPDATE products SET category_id = 3 WHERE id = 1")
    await fold(pool, sc, 14, orders=140)
    row = await day_row(pool)
    assert (row["units"], row["category_id"]) == (40, 3)
    cats = {
        r["category_id"]: r["units"]
        for r in await pool.fetch(
            "SELECT category_id, units FROM sales_category_daily WHERE day = $1", DAY
        )
    }
    assert cats.get(3) == 40 and cats.get(2, 0) == 0 and cats.get(1, 0) == 0
    tables = ("sales_product_daily", "sales_sku_daily", "sales_seller_daily")
    before = {t: sorted(map(tuple, await pool.fetch(f"SELECT * FROM {t}"))) for t in tables}  # noqa: S608
    a_settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    await analytics.compute_day(pool, DAY, a_settings)
    after = {t: sorted(map(tuple, await pool.fetch(f"SELECT * FROM {t}"))) for t in tables}  # noqa: S608
    assert after == before
