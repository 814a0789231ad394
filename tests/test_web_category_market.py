"""A category's page and API from hand-made rollup rows (written as the sales rollup writes them,
sql/014_sales.sql): the exact seller shares (top 10 and others), the concentration index, the
configured price bands' shares of units and revenue, the best-selling products and the sales
per day, over the category's whole subtree and only the chosen period."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator

from marketplaced.config import DatabaseConfig
from marketplaced.web import market_schema
from marketplaced.web.views.common import POOL
from tests.helpers.settings import base_config
from tests.helpers.web import ClientFactory, page, table_ids

RANGE = "from=2026-11-20&to=2026-11-26"
EDGES = "1000,5000"  # bands: < 1k, 1k–5k, ≥ 5k
D = {n: date(2026, 11, n) for n in range(13, 27)}
# (day, product, seller, category, units, revenue); categories 10 > 11 > 12 (web_db), 20 apart
ROWS = [
    (D[21], 3001, 201, 12, 10, 40_000),  # 4 000 each: band 1k–5k
    (D[22], 3001, 201, 12, 5, 30_000),  # 6 000 each: band ≥ 5k (the same product, repriced)
    (D[22], 3002, 202, 11, 20, 20_000),  # 1 000 each: band 1k–5k (edges are included)
    *((D[23], 3003 + i, 203 + i, 10, 1, 500) for i in range(10)),  # sellers 203…212: < 1k
    (D[23], 3013, None, 12, 2, 1_000),  # seller unknown: in the totals and "others" only
    (D[24], 3014, 203, 12, 3, 0),  # sold without a known price: outside the bands
    (D[22], 3020, 201, 20, 100, 1_000_000),  # another category: never counted
    (D[19], 3001, 201, 12, 50, 200_000),  # before the period: never counted
]
ANCESTORS = {10: (10,), 11: (11, 10), 12: (12, 11, 10), 20: (20,)}
UNOBSERVED = D[25]


@pytest.fixture
async def market_client(make_client: ClientFactory, web_db: DatabaseConfig) -> TestClient:
    cfg = dataclasses.replace(base_config(jobs={"price_bands": EDGES}), database=web_db)
    client, _ = await make_client(cfg=cfg)
    pool = client.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        for table in ("sales_product_daily", "sales_category_daily", "sales_days"):
            await conn.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
        sellers = {r[2] for r in ROWS if r[2] is not None}
        await conn.executemany(
            "INSERT INTO sellers (id, title) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(s, f"Shop {s}") for s in sorted(sellers)],
        )
        await conn.executemany(
            "INSERT INTO products (id, title, category_id, seller_id) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT DO NOTHING",
            sorted({(r[1], f"Product {r[1]}", r[3], r[2]) for r in ROWS}),
        )
        await conn.executemany(
            "INSERT INTO sales_product_daily VALUES ($1,$2,$3,$4,$5,$6,$5,0,0,0,0,2,false)",
            ROWS,
        )
        for leaf, chain in ANCESTORS.items():
            for cid in chain:
                await conn.execute(
                    """INSERT INTO sales_category_daily
                       SELECT day, $2, sum(units), sum(revenue), sum(units_orders),
                              sum(units_stock), sum(units_split), sum(revenue_split),
                              sum(observations), count(*) FILTER (WHERE units > 0)
                       FROM sales_product_daily WHERE category_id = $1 GROUP BY 1
                       ON CONFLICT (day, category_id) DO UPDATE SET
                           units = sales_category_daily.units + excluded.units,
                           revenue = sales_category_daily.revenue + excluded.revenue""",
                    leaf,
                    cid,
                )
        for day in D.values():
            if day != UNOBSERVED:
                await conn.execute("INSERT INTO sales_days VALUES ($1, 100, 30, true, true)", day)
    return client


async def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    resp = await client.get(url)
    assert resp.status == status, f"{url}: {resp.status} {await resp.text()}"
    return await resp.json()


def shares(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (s["seller_id"], s["units"], s["revenue"], s["units_share_pct"], s["revenue_share_pct"])
        for s in items
    ]


async def test_seller_shares_top_ten_and_others_and_the_hhi(market_client: TestClient) -> None:
    m = await get_json(market_client, f"/api/v1/categories/10/market?{RANGE}")
    # the subtree 10 > 11 > 12 in 20–26 Nov: 15 + 20 + 10 + 2 + 3 units
    assert (m["units"], m["revenue"]) == (50, 96_000)
    assert (m["first"], m["last"]) == ("2026-11-20", "2026-11-26")
    assert m["products_with_sales"] == 14 and m["sellers_with_sales"] == 12
    # by revenue, ties (500 so'm each) by units then id; 203 sold 1 + 3 units
    assert shares(m["sellers"][:4]) == [
        (201, 15, 70_000, 30.0, 72.92),
        (202, 20, 20_000, 40.0, 20.83),
        (203, 4, 500, 8.0, 0.52),
        (204, 1, 500, 2.0, 0.52),
    ]
    assert [s["seller_id"] for s in m["sellers"][:10]] == [201, 202, *range(203, 211)]
    assert m["sellers"][0]["title"] == "Shop 201"
    # others: sellers 211 and 212 and the sales of an unknown seller
    others = m["sellers"][10]
    assert len(m["sellers"]) == 11
    assert (others["seller_id"], others["sellers"], others["products"]) == (None, 2, 3)
    assert shares([others]) == [(None, 4, 2_000, 8.0, 2.08)]
    assert sum(s["revenue"] for s in m["sellers"]) == m["revenue"]
    # (70 000² + 20 000² + 10 · 500²) / 96 000² · 10 000 = 5 753.58: the unknown seller's
    # 1 000 so'm is in the total but is no seller of its own
    assert m["hhi"] == 5753.6 and m["concentration"] == "highly concentrated"
    Draft202012Validator(market_schema.CATEGORY_MARKET).validate(m)  # every field documented


async def test_price_bands_share_units_and_revenue(market_client: TestClient) -> None:
    m = await get_json(market_client, f"/api/v1/categories/10/market?{RANGE}")
    bands = [
        (b["label"], b["lo"], b["hi"], b["units"], b["revenue"], b["products"])
        for b in m["price_bands"]
    ]
    # product 3001 counts in two bands: 10 units at 4 000 on the 21st, 5 at 6 000 on the 22nd
    assert bands == [
        ("< 1k", None, 1000, 12, 6_000, 11),
        ("1k–5k", 1000, 5000, 30, 60_000, 2),
        ("≥ 5k", 5000, None, 5, 30_000, 1),
    ]
    assert [(b["units_share_pct"], b["revenue_share_pct"]) for b in m["price_bands"]] == [
        (25.53, 6.25),  # 12 / 47 units, 6 000 / 96 000 so'm
        (63.83, 62.5),
        (10.64, 31.25),
    ]
    assert m["unpriced_units"] == 3  # product 3014: units without a price stay out of the bands


async def test_products_and_days_of_the_period(market_client: TestClient) -> None:
    m = await get_json(market_client, f"/api/v1/categories/10/market?{RANGE}")
    top = [(p["id"], p["units"], p["revenue"], p["seller_id"]) for p in m["products"][:3]]
    assert top == [(3001, 15, 70_000, 201), (3002, 20, 20_000, 202), (3013, 2, 1_000, None)]
    assert len(m["products"]) == 10 and m["products"][0]["revenue_share_pct"] == 72.92
    days = [(d["day"], d["units"], d["revenue"]) for d in m["days"]]
    assert days == [
        ("2026-11-20", 0, 0),
        ("2026-11-21", 10, 40_000),
        ("2026-11-22", 25, 50_000),
        ("2026-11-23", 12, 6_000),
        ("2026-11-24", 3, 0),
        ("2026-11-25", None, None),  # never observed: unknown, not zero
        ("2026-11-26", 0, 0),
    ]
    assert m["unobserved_days"] == ["2026-11-25"]


async def test_a_subcategory_holds_only_its_own_subtree(market_client: TestClient) -> None:
    m = await get_json(market_client, f"/api/v1/categories/12/market?{RANGE}")
    assert (m["units"], m["revenue"], m["sellers_with_sales"]) == (20, 71_000, 2)
    assert [s["seller_id"] for s in m["sellers"]] == [201, 203, None]
    # 70 000² / 71 000² · 10 000: seller 203 sold without a price, its share is 0
    assert m["hhi"] == 9720.3
    assert (m["sellers"][2]["sellers"], m["sellers"][2]["revenue"]) == (0, 1_000)
    html = await page(market_client, f"/categories/12?{RANGE}")
    # no seller beyond the top ones: the last row is the unknown seller's sales, not "others"
    assert "<td>seller unknown</td>" in html and "others (" not in html
    empty = await get_json(
        market_client, "/api/v1/categories/12/market?from=2026-10-01&to=2026-10-07"
    )
    assert (empty["units"], empty["hhi"], empty["concentration"]) == (0, None, "no sales")
    assert empty["sellers"] == [] and all(b["units"] == 0 for b in empty["price_bands"])


async def test_the_category_page_shows_shares_bands_and_the_index(
    market_client: TestClient,
) -> None:
    html = await page(market_client, f"/categories/10?{RANGE}")
    assert table_ids(html, "sellers") == [201, 202, *range(203, 211)]
    assert "others (2 sellers)" in html
    assert re.search(r'id="hhi">5 754: highly concentrated<', html)
    assert "Herfindahl–Hirschman" in html
    bands = html.split('id="band-chart"', 1)[1].split("</figure>", 1)[0]
    assert (
        bands.count('class="bar-units"') == 4 and "<title>1k–5k so&#39;m: 30 units of 47" in bands
    )
    assert (
        'href="/products?category=10&amp;sort=revenue&amp;from=2026-11-20&amp;to=2026-11-26"'
        in html
    )
    assert 'href="/categories/12?from=2026-11-20&amp;to=2026-11-26"' not in html  # 12 is no child
    assert 'href="/categories/11?from=2026-11-20&amp;to=2026-11-26"' in html
    assert table_ids(html, "products")[:2] == [3001, 3002]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/categories/999", 404),
        ("/api/v1/categories/999/market", 404),
        ("/categories/x", 400),
        ("/categories/10?period=quarter", 400),
        ("/api/v1/categories/10/market?from=2026-11-20", 400),
        ("/api/v1/categories/10/market?limit=5", 400),
    ],
)
async def test_bad_category_requests(client: TestClient, url: str, status: int) -> None:
    assert (await client.get(url)).status == status


async def test_openapi_lists_the_market_parameters(client: TestClient) -> None:
    spec = await get_json(client, "/api/v1/openapi.json")
    get = spec["paths"]["/api/v1/categories/{id}/market"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"id", "period", "from", "to"}


async def test_the_category_page_is_reachable_from_the_lists_and_a_product(
    market_client: TestClient,
) -> None:
    overview = await page(market_client, "/analytics/categories")
    assert 'href="/categories/10"' in overview and 'href="/categories/20"' in overview
    sub = await page(market_client, "/analytics/categories?category=11")
    assert '<a href="/categories/11" id="market-link">' in sub
    product = await page(market_client, "/products/1001")  # category 12 (web_db)
    assert '<a href="/categories/12" id="market-link">' in product
    listed = await page(market_client, "/products?category=11")
    assert '<a href="/categories/11" id="market-link">' in listed
    how = await page(market_client, "/how-we-count")
    assert "Herfindahl" in how and "Price bands" in how
