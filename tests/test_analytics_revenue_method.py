"""The daily analytics prices each growth of the order counter at the price in effect between
the two observations around it, not at the day's first price (a price changed at noon without
stock moving used to price the afternoon's orders at the morning's price)."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from marketplaced.jobs import analytics
from tests.conftest import base_config
from tests.helpers.sales_scenario import Scenario, at

DAY = date(2026, 11, 3)

pytestmark = pytest.mark.timeout(60)


async def test_orders_after_a_mid_day_price_change_are_priced_at_the_new_price(
    pool: asyncpg.Pool,
) -> None:
    sc = Scenario(pool)
    await sc.catalogue({10: None}, [1])
    # two SKUs; the card price is the cheaper one (100 000); stock never moves
    sc.product(7, 1, 10, orders=100, skus={71: (100_000, 40), 72: (150_000, 40)})
    await sc.observe(at(DAY - timedelta(days=1), 22), 7)
    await sc.observe(at(DAY, 10), 7, orders=110)  # 10 orders at 100 000
    await sc.observe(at(DAY, 12), 7, skus={71: (120_000, 40)})  # price only: no stats row
    await sc.observe(at(DAY, 16), 7, orders=125)  # 15 orders, after the change: 120 000
    # the other SKU got cheaper than the first: the card price from 18:00 is 90 000
    await sc.observe(at(DAY, 18), 7, skus={72: (90_000, 40)})
    await sc.observe(at(DAY, 23), 7, orders=126)  # 1 order at 90 000
    await sc.cover(
        at(DAY - timedelta(days=1), 21), at(DAY + timedelta(days=1), 1), timedelta(hours=1)
    )
    settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    await analytics.compute_day(pool, DAY, settings)
    row = await pool.fetchrow(
        "SELECT * FROM analytics_product_daily WHERE day = $1 AND product_id = 7", DAY
    )
    assert row is not None
    assert (row["sales"], row["sales_source"]) == (26, "orders")
    assert row["revenue"] == 10 * 100_000 + 15 * 120_000 + 1 * 90_000
    assert row["price_basis"] == "card_price"
    assert row["price_in_effect"] == round(row["revenue"] / 26)


async def test_orders_with_stock_moving_are_priced_at_the_prices_units_sold_at(
    pool: asyncpg.Pool,
) -> None:
    sc = Scenario(pool)
    await sc.catalogue({10: None}, [1])
    sc.product(8, 1, 10, orders=0, skus={81: (50_000, 10), 82: (80_000, 10)})
    await sc.observe(at(DAY - timedelta(days=1), 22), 8)
    # morning: 2 orders, the 80 000 SKU lost 2 units
    await sc.observe(at(DAY, 9), 8, orders=2, skus={82: (80_000, 8)})
    # both SKUs get dearer at noon, then 3 orders, 3 units of the first SKU at its noon price
    await sc.observe(at(DAY, 12), 8, skus={81: (60_000, 10), 82: (90_000, 8)})
    await sc.observe(at(DAY, 15), 8, orders=5, skus={81: (60_000, 7)})
    await sc.cover(
        at(DAY - timedelta(days=1), 21), at(DAY + timedelta(days=1), 1), timedelta(hours=1)
    )
    settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    await analytics.compute_day(pool, DAY, settings)
    row = await pool.fetchrow(
        "SELECT * FROM analytics_product_daily WHERE day = $1 AND product_id = 8", DAY
    )
    assert row is not None
    assert row["sales"] == 5 and row["units_stock"] == 5
    assert row["revenue"] == 2 * 80_000 + 3 * 60_000
    assert row["price_basis"] == "stock_mix"
