"""Revenue lost to out-of-stock days on the Trends page and API, from hand-made rows: the
products' stock as the writer stores it (a `product_stats_history` row when it changed), their
sales per day as the rollup writes them (sql/014_sales.sql), the days' scan coverage and the
last visits. The expected figures are worked out by hand next to each product."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import DatabaseConfig
from tests.helpers.web import page

TZ = ZoneInfo("Asia/Tashkent")
RANGE = "from=2026-10-15&to=2026-10-21"
UNOBSERVED = date(2026, 10, 20)  # no scan coverage: left out of a rate, never a zero day


def at(month_day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, month_day, hour, tzinfo=TZ)


# product -> [(time, total stock)]
STOCK = {
    # out from 17 Oct 12:00 to 19 Oct 12:00: 2 days; sold 10 a day at 1 000 on 10 .. 16 Oct
    # (7 observed days): 2 x 10 = 20 units, 2 x 10 000 = 20 000 so'm lost
    5001: [(at(1, 10), 50), (at(12, 9), 45), (at(17, 12), 0), (at(18, 9), 0), (at(19, 12), 30)],
    # out from 21 Oct 00:00, still out at its last visit (25 Oct): 1 day of the period; sold
    # 3 a day at 5 000 on the 6 observed days of 14 .. 20 Oct: 90 000 / 6 = 15 000 so'm a day
    5002: [(at(1, 10), 20), (at(21, 0), 0)],
    # out for a day in the period, but sold nothing before: no estimate
    5003: [(at(1, 10), 5), (at(18, 0), 0), (at(19, 0), 5)],
    # out and back before the period: nothing lost in it
    5004: [(at(2, 10), 0), (at(5, 10), 10)],
}
# product -> [(day, units, revenue)]
SALES = {
    5001: [(date(2026, 10, d), 10, 10_000) for d in range(10, 17)],
    5002: [(date(2026, 10, d), 3, 15_000) for d in range(14, 20)],
    5004: [(date(2026, 10, d), 9, 9_000) for d in range(1, 5)],
}


async def _seed(conn: Any) -> None:
    for pid in STOCK:
        await conn.execute(
            "INSERT INTO products (id, title, category_id, seller_id, first_seen) "
            "VALUES ($1, $2, 12, 100, $3)",
            pid,
            f"Product {pid}",
            at(1),
        )
        await conn.execute(
            "INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome) "
            "VALUES ($1, $2, $2, 'unchanged')",
            pid,
            at(25, 8),
        )
        await conn.executemany(
            "INSERT INTO product_stats_history (product_id, observed_at, orders_amount, "
            "reviews_amount, total_available) VALUES ($1, $2, 0, 0, $3)",
            [(pid, when, stock) for when, stock in STOCK[pid]],
        )
    for pid, days in SALES.items():
        await conn.executemany(
            "INSERT INTO sales_product_daily VALUES ($1, $2, 100, 12, $3, $4, $3, 0, 0, 0, 0, 2, "
            "false)",
            [(d, pid, units, revenue) for d, units, revenue in days],
        )
    await conn.executemany(
        "INSERT INTO sales_days (day, observed_pct, max_gap_min, complete, final) "
        "VALUES ($1, 100, 30, true, true)",
        [(d,) for i in range(30) if (d := date(2026, 9, 25) + timedelta(days=i)) != UNOBSERVED],
    )


@pytest.fixture(scope="module")
def lost_db(web_db: DatabaseConfig) -> DatabaseConfig:
    async def run() -> None:
        conn = await db.connect(web_db)
        try:
            await _seed(conn)
        finally:
            await conn.close()

    asyncio.run(run())
    return web_db


@pytest.fixture
async def lclient(lost_db: DatabaseConfig, client: TestClient) -> TestClient:
    return client


async def test_lost_revenue_is_days_out_times_the_rate_before(lclient: TestClient) -> None:
    resp = await lclient.get(f"/api/v1/trends?{RANGE}")
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert data["lost_base_days"] == 7
    assert data["lost_to_stockouts"] == [
        {
            "id": 5001,
            "title": "Product 5001",
            "out_of_stock_days": 2.0,
            "units_per_day": 10.0,
            "revenue_per_day": 10_000,
            "lost_units": 20,
            "lost_revenue": 20_000,
            "still_out": False,
        },
        {
            "id": 5002,
            "title": "Product 5002",
            "out_of_stock_days": 1.0,
            "units_per_day": 3.0,
            "revenue_per_day": 15_000,
            "lost_units": 3,
            "lost_revenue": 15_000,
            "still_out": True,
        },
    ]


async def test_a_stockout_is_clipped_to_the_period(lclient: TestClient) -> None:
    # 16 .. 18 Oct: 5001 is out from the 17th 12:00 to the end of the 18th, 1.5 days
    data = await (await lclient.get("/api/v1/trends?from=2026-10-16&to=2026-10-18")).json()
    (row,) = data["lost_to_stockouts"]
    assert (row["id"], row["out_of_stock_days"], row["lost_revenue"]) == (5001, 1.5, 15_000)


async def test_trends_page_shows_the_estimate_and_its_method(lclient: TestClient) -> None:
    html = await page(lclient, f"/trends?{RANGE}")
    table = html.split('id="lost_to_stockouts"', 1)[1].split("</table>", 1)[0]
    assert table.index("Product 5001") < table.index("Product 5002")
    assert 'title="2.00 days × 10 000 so\'m a day">20 000<' in table
    assert "Product 5003" not in table and "Product 5004" not in table
    method = html.split('id="lost-method"', 1)[1].split("</p>", 1)[0]
    assert "over the 7 days before it ran out" in method and "35 000 so'm" in method
    doc = await page(lclient, "/how-we-count")
    assert "Revenue lost to out-of-stock days" in doc and "days out of stock" in doc
