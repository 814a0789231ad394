"""The seller scenario shared by the seller page, comparison and browser tests: three sellers'
history built by hand (tests/helpers/sales_scenario.py) and counted by the real sales rollup.
The figures it must give are worked out by hand in tests/test_web_seller_sales.py."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.sales import rollup
from tests.helpers.sales_scenario import Scenario, at
from tests.helpers.settings import base_config

A0 = date(2026, 10, 4)  # first seen in the evening
A1, A2, B1, B2, B3 = (A0 + timedelta(days=i) for i in (1, 2, 3, 4, 5))
PERIOD = f"from={B1}&to={B2}"  # the previous period is A1 .. A2


async def build(pool: Any) -> None:
    """Seller 100 sells product 1 (category 2, a child of 1) and product 2 (category 3);
    seller 200 sells product 3 (category 2); seller 300 sells nothing. The scanner covers
    A0 21:00 .. B2 24:00 without a gap; every change is seen at 10:00 or 11:00, so with an
    8-hour revisit no delta crosses midnight (nothing is split)."""
    sc = Scenario(pool)
    await sc.catalogue({1: None, 2: 1, 3: None}, [100, 200, 300])
    sc.product(1, 100, 2, orders=100, skus={11: (1_000, 500)})
    sc.product(2, 100, 3, orders=10, skus={21: (5_000, 500)})
    sc.product(3, 200, 2, orders=50, skus={31: (2_000, 500)})
    await sc.cover(at(A0, 21), at(B3, 0), timedelta(hours=1))
    steps: list[tuple[Any, int, dict[str, Any]]] = [
        (at(A0, 22), 1, {}),
        (at(A0, 22), 2, {}),
        (at(A0, 22), 3, {}),
        (at(A1, 10), 1, {"orders": 105}),  # 5 x 1 000
        (at(A1, 10), 3, {"orders": 53}),  # 3 x 2 000
        (at(A2, 10), 1, {"orders": 110}),  # 5 x 1 000
        (at(A2, 10), 2, {"orders": 12}),  # 2 x 5 000
        (at(A2, 10), 3, {"orders": 60}),  # 7 x 2 000
        (at(B1, 10), 1, {"orders": 120}),  # 10 x 1 000
        (at(B1, 10), 2, {"orders": 13}),  # 1 x 5 000
        (at(B1, 10), 3, {"orders": 62}),  # 2 x 2 000
        (at(B2, 9), 1, {"skus": {11: (1_200, 500)}}),  # the price changes, nothing sold
        (at(B2, 11), 1, {"orders": 128}),  # 8 x 1 200 (the price in effect since 09:00)
        (at(B2, 10), 2, {"orders": 15}),  # 2 x 5 000
    ]
    settings = rollup.SalesSettings.from_config(base_config().jobs)
    for when, pid, change in steps:
        await sc.observe(when, pid, **change)
        await rollup.catch_up(pool, settings, when + timedelta(minutes=1))
    await rollup.catch_up(pool, settings, at(B3, 1))


def seeded_with_sellers(module_db: DatabaseConfig) -> DatabaseConfig:
    """`module_db` with the scenario built and counted."""

    async def run() -> None:
        pool = await db.create_pool(module_db)
        try:
            await build(pool)
        finally:
            await pool.close()

    asyncio.run(run())
    return module_db
