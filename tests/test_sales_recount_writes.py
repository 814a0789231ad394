"""The nightly recount of a day writes only the sales rows that change: what the minute job
already counted right is left as it is, a late batch's product is rewritten, and the result
is the same as counting the day from nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg
import pytest

from marketplaced.jobs import analytics
from marketplaced.sales import rollup
from tests.conftest import base_config
from tests.helpers.sales_scenario import Scenario, at

D0 = date(2026, 11, 2)
D1, D2, D3 = (D0 + timedelta(days=i) for i in (1, 2, 3))
EVE = D0 - timedelta(days=1)


async def build(pool: asyncpg.Pool) -> Scenario:
    """Three products over four days with a scan gap; the minute job after every batch."""
    settings = rollup.SalesSettings.from_config(base_config().jobs)
    sc = Scenario(pool)
    await sc.catalogue({1: None, 2: 1, 3: None}, [100, 200])
    sc.product(1, 100, 2, orders=100, skus={11: (100_000, 50)})
    sc.product(2, 100, 3, orders=40, skus={21: (50_000, 10)})
    sc.product(3, 200, 2, orders=5, skus={31: (30_000, 20)})
    await sc.cover(at(EVE, 21), at(D1, 10), timedelta(hours=1))
    await sc.cover(at(D3, 2), at(D3 + timedelta(days=1), 0), timedelta(hours=1))
    steps: list[tuple[datetime, int, dict[str, object]]] = [
        (at(EVE, 22), 1, {}),
        (at(EVE, 22), 2, {}),
        (at(D0, 9), 2, {"orders": 43, "skus": {21: (50_000, 7)}}),
        (at(D0, 10), 1, {"orders": 110}),
        (at(D0, 11), 3, {}),
        (at(D0, 12), 1, {"skus": {11: (120_000, 50)}}),
        (at(D0, 13), 2, {"skus": {21: (50_000, 30)}}),
        (at(D0, 15), 3, {"orders": 8}),
        (at(D0, 18), 2, {"orders": 2, "skus": {21: (50_000, 26)}}),
        (at(D1, 9), 1, {"orders": 130}),
        (at(D3, 2), 1, {"orders": 170}),
    ]
    for when, pid, change in steps:
        await sc.observe(when, pid, **change)  # type: ignore[arg-type]
        await rollup.catch_up(pool, settings, when + timedelta(minutes=1))
    return sc


pytestmark = pytest.mark.timeout(90)

_TABLES = ("sales_product_daily", "sales_sku_daily", "sales_seller_daily", "sales_category_daily")


async def _rows(pool: asyncpg.Pool) -> dict[str, list[tuple[object, ...]]]:
    """Each table's rows with the transaction that last wrote them (xmin) at the end."""
    return {
        t: sorted(
            tuple(r)
            for r in await pool.fetch(f"SELECT *, xmin::text FROM {t}")  # noqa: S608
        )
        for t in _TABLES
    }


def _values(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(r[:-1] for r in v) for t, v in rows.items()}


async def test_the_nightly_recount_rewrites_only_what_changed(pool: asyncpg.Pool) -> None:
    sc = await build(pool)
    a_settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    counted = await _rows(pool)
    for day in (D0, D1, D2, D3):
        await analytics.compute_day(pool, day, a_settings)
    assert await _rows(pool) == counted  # the same rows, none of them written again
    # a late batch the minute job has not folded: product 3 sold 2 more on D1 at 11:00
    await sc.observe(at(D1, 11), 3, orders=10)
    await analytics.compute_day(pool, D1, a_settings)
    after = await _rows(pool)
    product_rows = {r[1]: r for r in after["sales_product_daily"] if r[0] == D1}
    before_rows = {r[1]: r for r in counted["sales_product_daily"] if r[0] == D1}
    assert product_rows[1] == before_rows[1]  # product 1 untouched
    assert product_rows[3][4] == 2 and product_rows[3][-1] != before_rows.get(3, (None,))[-1]
    # the same as counting D1 from nothing
    for t in _TABLES:
        await pool.execute(f"DELETE FROM {t} WHERE day = $1", D1)  # noqa: S608
    await analytics.compute_day(pool, D1, a_settings)
    assert _values(await _rows(pool)) == _values(after)
