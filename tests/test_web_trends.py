"""The Trends page and API from hand-made rollup rows (written as the sales rollup writes them,
sql/014_sales.sql): the exact order and figures of each section, the minimum base of growth,
new products, products losing sales, and an unknown previous period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from marketplaced.web.views.common import POOL
from tests.helpers.web import page, table_ids

RANGE = "from=2026-11-20&to=2026-11-26"  # previous period: 2026-11-13 … 2026-11-19
PREV_DAY, CUR_DAY = date(2026, 11, 15), date(2026, 11, 22)
# product -> seller, category, units before, units now, first seen in the period
PRODUCTS = {
    1001: (100, 12, 5, 15, False),  # +200 %
    1002: (101, 12, 10, 12, False),  # +20 %
    1003: (100, 20, 2, 8, False),  # +300 % but from 2 units: below the base, not ranked
    1004: (101, 20, 0, 3, True),  # new in the period and already sells
}
ANCESTORS = {12: (12, 11, 10), 20: (20,)}
PRICE = 1000


@pytest.fixture
async def trends_client(client: TestClient) -> TestClient:
    pool = client.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM sales_product_daily")
        for pid, (seller, category, before, now, new) in PRODUCTS.items():
            for day, units, first in ((PREV_DAY, before, pid == 1003), (CUR_DAY, now, new)):
                if units or first:
                    await conn.execute(
                        "INSERT INTO sales_product_daily VALUES "
                        "($1,$2,$3,$4,$5,$6,$5,0,0,0,0,2,$7)",
                        day, pid, seller, category, units, units * PRICE, first,
                    )  # fmt: skip
        await conn.execute("DELETE FROM sales_seller_daily")
        await conn.execute(
            """INSERT INTO sales_seller_daily
               SELECT day, seller_id, sum(units), sum(revenue), sum(units_orders),
                      sum(units_stock), sum(units_split), sum(revenue_split), sum(observations),
                      count(*) FILTER (WHERE units > 0)
               FROM sales_product_daily GROUP BY 1, 2"""
        )
        await conn.execute("DELETE FROM sales_category_daily")
        for leaf, chain in ANCESTORS.items():
            for cid in chain:
                await conn.execute(
                    """INSERT INTO sales_category_daily
                       SELECT day, $2, sum(units), sum(revenue), sum(units_orders),
                              sum(units_stock), sum(units_split), sum(revenue_split),
                              sum(observations), count(*) FILTER (WHERE units > 0)
                       FROM sales_product_daily WHERE category_id = $1 GROUP BY 1""",
                    leaf,
                    cid,
                )
        await conn.execute("DELETE FROM sales_days")
        for i in range(14):
            await conn.execute(
                "INSERT INTO sales_days VALUES ($1, 100, 30, true, true)",
                date(2026, 11, 13) + timedelta(days=i),
            )
    return client


async def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    resp = await client.get(url)
    assert resp.status == status, f"{url}: {resp.status} {await resp.text()}"
    return await resp.json()


def rows(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(i["id"], i["units"], i["prev_units"], i["growth_pct"]) for i in items]


async def test_trends_rank_growth_from_a_minimum_base(trends_client: TestClient) -> None:
    data = await get_json(trends_client, f"/api/v1/trends?{RANGE}")
    assert data["min_base_units"] == 5 and data["previous_known"] is True
    assert (data["first"], data["last"]) == ("2026-11-20", "2026-11-26")
    assert (data["previous_first"], data["previous_last"]) == ("2026-11-13", "2026-11-19")
    # 1003 went 2 → 8 units (+300 %): below the base, so not on top
    assert rows(data["growing_products"]) == [(1001, 15, 5, 200.0), (1002, 12, 10, 20.0)]
    assert data["growing_products"][0]["revenue"] == 15 * PRICE
    # seller 100: 7 → 23; seller 101: 10 → 15
    assert rows(data["growing_sellers"]) == [(100, 23, 7, 228.57), (101, 15, 10, 50.0)]
    # category 12 and its parents 11, 10: 15 → 27; category 20 is below the base (2 units)
    assert rows(data["growing_categories"]) == [
        (10, 27, 15, 80.0),
        (11, 27, 15, 80.0),
        (12, 27, 15, 80.0),
    ]
    assert rows(data["new_products"]) == [(1004, 3, None, None)]
    assert data["losing_products"] == []


async def test_products_losing_sales_and_an_unknown_previous_period(
    trends_client: TestClient,
) -> None:
    later = await get_json(trends_client, "/api/v1/trends?from=2026-11-27&to=2026-12-03")
    # nothing sold after the 26th: every product with a base lost all; 1004 had only 3 units
    assert rows(later["losing_products"]) == [
        (1001, 0, 15, -100.0),
        (1002, 0, 12, -100.0),
        (1003, 0, 8, -100.0),
    ]
    assert later["unobserved_days"][0] == "2026-11-27" and len(later["unobserved_days"]) == 7
    early = await get_json(trends_client, "/api/v1/trends?from=2026-11-13&to=2026-11-19")
    assert early["previous_known"] is False
    assert early["growing_products"] == early["losing_products"] == []


async def test_trends_page_shows_the_sections_in_order(trends_client: TestClient) -> None:
    html = await page(trends_client, f"/trends?{RANGE}&limit=1")
    assert table_ids(html, "growing_products") == [1001]
    assert table_ids(html, "growing_sellers") == [100]
    assert table_ids(html, "new_products") == [1004]
    assert "from a base of 5 units" in html
    assert 'title="5 → 15 units"' in html
    assert 'id="lost_to_stockouts"' in html and 'id="lost-method"' in html


@pytest.mark.parametrize("query", ["period=quarter", "limit=0", "from=2026-11-20", "x=1"])
async def test_bad_trend_parameters_are_400(client: TestClient, query: str) -> None:
    for path in ("/trends", "/api/v1/trends"):
        assert (await client.get(f"{path}?{query}")).status == 400, (path, query)


async def test_openapi_lists_the_trends_parameters(client: TestClient) -> None:
    spec = await get_json(client, "/api/v1/openapi.json")
    names = {p["name"] for p in spec["paths"]["/api/v1/trends"]["get"]["parameters"]}
    assert names == {"period", "from", "to", "limit"}
