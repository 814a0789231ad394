"""Sales per day and per period, counted from hand-built history through the minute rollup
and the nightly recomputation: a price change mid-day without stock moving, a restock, a
counter reset, a first-seen product, a day never observed and a delta spanning it (split),
a late batch; sellers and categories (a parent includes its subcategory) add up; growth."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from marketplaced.jobs import analytics
from marketplaced.sales import rollup
from marketplaced.web.queries import sales
from tests.conftest import base_config
from tests.helpers.sales_scenario import D0, D1, D2, D3, TZ, Scenario, at, three_products

pytestmark = pytest.mark.timeout(90)


def settings() -> rollup.SalesSettings:
    return rollup.SalesSettings.from_config(base_config().jobs)


async def build(pool: asyncpg.Pool) -> Scenario:
    return await three_products(pool, settings())


async def product_day(pool: asyncpg.Pool, day: date, pid: int) -> dict[str, object]:
    row = await pool.fetchrow(
        "SELECT * FROM sales_product_daily WHERE day = $1 AND product_id = $2", day, pid
    )
    assert row is not None, (day, pid)
    return dict(row)


# the 40 orders seen at D3 02:00 happened between D1 09:00 and then (41 h: 15 h of D1, 24 h of
# D2, 2 h of D3), split in proportion as whole units: 14.63 / 23.41 / 1.95 -> 15, 23, 2, and
# 4 800 000 so'm -> 1 756 098, 2 809 756, 234 146
SPLIT_UNITS = {D1: 15, D2: 23, D3: 2}
SPLIT_REVENUE = {D1: 1_756_098, D2: 2_809_756, D3: 234_146}


async def check_days(pool: asyncpg.Pool) -> None:
    p1 = await product_day(pool, D0, 1)
    assert (p1["units"], p1["revenue"], p1["units_orders"]) == (25, 2_800_000, 25)
    assert p1["units_split"] == 0
    p2 = await product_day(pool, D0, 2)
    assert (p2["units"], p2["revenue"]) == (7, 350_000)
    assert (p2["units_orders"], p2["units_stock"], p2["restocked"]) == (3, 4, 23)
    p3 = await product_day(pool, D0, 3)
    assert (p3["units"], p3["revenue"], p3["first_seen"]) == (3, 90_000, True)
    for day in (D1, D2, D3):
        row = await product_day(pool, day, 1)
        own = (5, 600_000) if day == D1 else (0, 0)
        assert row["units"] == own[0] + SPLIT_UNITS[day], day
        assert row["revenue"] == own[1] + SPLIT_REVENUE[day], day
        assert (row["units_split"], row["revenue_split"]) == (SPLIT_UNITS[day], SPLIT_REVENUE[day])
    sku = await pool.fetchrow("SELECT * FROM sales_sku_daily WHERE day = $1 AND sku_id = 21", D0)
    assert sku is not None and (sku["units"], sku["revenue"], sku["restocked"]) == (7, 350_000, 23)


async def check_sums(pool: asyncpg.Pool) -> None:
    day0 = sales.Period(D0, D0)
    sellers = {f.id: f for f in await sales.figures(pool, "seller", day0)}
    assert (sellers[100].units, sellers[100].revenue) == (32, 3_150_000)
    assert (sellers[200].units, sellers[200].revenue) == (3, 90_000)
    cats = {f.id: f for f in await sales.figures(pool, "category", day0)}
    assert (cats[2].units, cats[2].revenue) == (28, 2_890_000)
    assert (cats[1].units, cats[1].revenue) == (28, 2_890_000)  # the parent includes it
    assert (cats[3].units, cats[3].revenue) == (7, 350_000)
    four = sales.date_range(D0, D3)
    # "the last 4 days", asked on the day after D3, is the same period
    assert sales.last_days(4, at(D3 + timedelta(days=1), 9), TZ) == four
    (p1,) = await sales.figures(pool, "product", four, ids=[1])
    assert (p1.units, p1.revenue) == (70, 8_200_000)  # 170 - 100 orders, every one counted once
    assert (p1.units_split, p1.method) == (40, "mixed")
    cov = await sales.coverage(pool, four)
    assert cov.unobserved == (D2,) and cov.observed_days == 3
    # D1 10:00 until the end of D2, as scan coverage measures a gap within the days it touches
    assert cov.longest_gap_min == 38 * 60
    # D1 against D0: 20 units against 25
    (g,) = await sales.figures(pool, "product", sales.Period(D1, D1), ids=[1])
    assert (g.prev_units, g.units_growth_pct) == (25, -20.0)
    assert g.revenue_growth_pct == round(100 * (2_356_098 - 2_800_000) / 2_800_000, 2)
    # D3 against D2, a day never observed: no growth from an unknown figure
    (h,) = await sales.figures(pool, "product", sales.Period(D3, D3), ids=[1])
    assert (h.prev_units, h.units_growth_pct) == (None, None)


async def test_the_minute_rollup_counts_every_case(pool: asyncpg.Pool) -> None:
    await build(pool)
    await check_days(pool)
    await check_sums(pool)
    today = sales.today(at(D3, 3), TZ)
    cov = await sales.coverage(pool, today)
    assert cov.live and cov.unobserved == ()


async def test_the_nightly_recomputation_gives_the_same_rows(pool: asyncpg.Pool) -> None:
    sc = await build(pool)
    tables = ("sales_product_daily", "sales_sku_daily", "sales_seller_daily")
    before = {t: sorted(map(tuple, await pool.fetch(f"SELECT * FROM {t}"))) for t in tables}  # noqa: S608
    a_settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    for day in (D0, D1, D2, D3):
        await analytics.compute_day(pool, day, a_settings)
    after = {t: sorted(map(tuple, await pool.fetch(f"SELECT * FROM {t}"))) for t in tables}  # noqa: S608
    assert after == before
    await check_days(pool)
    await check_sums(pool)
    # a batch stamped D0 20:00 commits only now: the minute job counts it on D0
    await sc.observe(at(D0, 20), 3, orders=10)
    await rollup.catch_up(pool, settings(), at(D3, 4))
    row = await product_day(pool, D0, 3)
    assert (row["units"], row["revenue"]) == (5, 150_000)
    cats = {f.id: f for f in await sales.figures(pool, "category", sales.Period(D0, D0))}
    assert cats[1].units == 30
