"""A seller's sales trend, category mix and the side-by-side comparison, counted from
hand-built history (tests/helpers/sales_scenario.py) through the real sales rollup and read
back through the page and the API; exact figures worked out by hand below, and every kind of
bad comparison parameter answered with a 400 that says what is wrong."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.app import WebDeps, create_app
from tests.helpers.seller_scenario import A1, A2, B1, B2, B3, PERIOD, seeded_with_sellers
from tests.helpers.settings import base_config
from tests.helpers.web import page, static_status

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def scenario_db(module_db: DatabaseConfig) -> DatabaseConfig:
    return seeded_with_sellers(module_db)


@pytest.fixture
async def sclient(aiohttp_client: Any, scenario_db: DatabaseConfig) -> AsyncIterator[TestClient]:
    cfg = dataclasses.replace(base_config(), database=scenario_db)
    pool = await db.create_pool(scenario_db)
    status = static_status()
    app = create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None))
    yield await aiohttp_client(app)
    await pool.close()


async def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    resp = await client.get(url)
    assert resp.status == status, f"{url}: {resp.status} {await resp.text()}"
    return await resp.json()


def days(items: list[dict[str, Any]]) -> list[tuple[str, int | None, int | None]]:
    return [(d["day"], d["units"], d["revenue"]) for d in items]


# seller 100: B1 10 + 1 = 11 units, 10 000 + 5 000 = 15 000 so'm; B2 8 + 2 = 10 units,
# 9 600 + 10 000 = 19 600 so'm; the period 21 units, 34 600 so'm. Before (A1 .. A2): 5 + 5 + 2
# = 12 units, 5 000 + 5 000 + 10 000 = 20 000 so'm: growth (21 - 12) / 12 = +75 % of units,
# (34 600 - 20 000) / 20 000 = +73 % of revenue.
SELLER_100 = {
    "units": 21,
    "revenue": 34_600,
    "prev_units": 12,
    "prev_revenue": 20_000,
    "units_growth_pct": 75.0,
    "revenue_growth_pct": 73.0,
}


async def test_seller_trend_per_day_totals_and_growth(sclient: TestClient) -> None:
    data = await get_json(sclient, f"/api/v1/sellers/100/sales?{PERIOD}")
    assert (data["first"], data["last"]) == (str(B1), str(B2))
    assert (data["previous_first"], data["previous_last"]) == (str(A1), str(A2))
    seller = data["seller"]
    assert {k: seller[k] for k in SELLER_100} == SELLER_100
    assert days(seller["days"]) == [(str(B1), 11, 15_000), (str(B2), 10, 19_600)]


async def test_category_mix_is_the_share_of_the_sellers_revenue(sclient: TestClient) -> None:
    data = await get_json(sclient, f"/api/v1/sellers/100/sales?{PERIOD}")
    # category 2 (product 1): 10 000 + 9 600 = 19 600 of 34 600 = 56.647 %; category 3
    # (product 2): 5 000 + 10 000 = 15 000 = 43.353 %
    assert [
        (c["category_id"], c["units"], c["revenue"], c["share_pct"]) for c in data["categories"]
    ] == [
        (2, 18, 19_600, 56.65),
        (3, 3, 15_000, 43.35),
    ]
    assert data["categories"][0]["title"] == "Category 2"


async def test_a_day_never_observed_is_unknown_not_zero(sclient: TestClient) -> None:
    data = await get_json(sclient, f"/api/v1/sellers/100/sales?from={B1}&to={B3}")
    assert data["unobserved_days"] == [str(B3)]
    assert days(data["seller"]["days"])[-1] == (str(B3), None, None)
    assert data["seller"]["units"] == 21  # the unknown day adds nothing, it is not a zero


async def test_comparison_totals_growth_and_days(sclient: TestClient) -> None:
    data = await get_json(sclient, f"/api/v1/seller-comparison?ids=100,200,300&{PERIOD}")
    rows = {s["id"]: s for s in data["sellers"]}
    assert [s["id"] for s in data["sellers"]] == [100, 200, 300]  # in the order asked
    assert {k: rows[100][k] for k in SELLER_100} == SELLER_100
    # seller 200: 2 units (4 000) against 3 + 7 = 10 (6 000 + 14 000 = 20 000): -80 % both
    assert {k: rows[200][k] for k in SELLER_100} == {
        "units": 2,
        "revenue": 4_000,
        "prev_units": 10,
        "prev_revenue": 20_000,
        "units_growth_pct": -80.0,
        "revenue_growth_pct": -80.0,
    }
    assert days(rows[200]["days"]) == [(str(B1), 2, 4_000), (str(B2), 0, 0)]
    # seller 300 sold nothing in observed days: zeros, and no growth from a zero base
    assert (rows[300]["units"], rows[300]["revenue"], rows[300]["units_growth_pct"]) == (0, 0, None)
    # repeated ids (what the checkboxes send) mean the same as a comma-separated list
    again = await get_json(sclient, f"/api/v1/seller-comparison?ids=100&ids=200&ids=300&{PERIOD}")
    assert again == data


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ids=100,200,300,1,2,3", "at most 5 ids, got 6"),
        ("ids=100,999,998", "no seller 999, 998 in the database"),
        ("ids=100,100", "id 100 more than once"),
        ("ids=100,abc", "must hold ids"),
        ("ids=100&from=2026-13-01&to=2026-10-08", "must be a date YYYY-MM-DD"),
        ("ids=100&from=2026-10-07", "'from' and 'to' go together"),
        ("ids=100&from=2026-10-08&to=2026-10-07", "is before 'from'"),
        ("period=7d", "parameter 'ids' is required"),
    ],
)
async def test_bad_comparison_parameters_are_a_clear_400(
    sclient: TestClient, query: str, message: str
) -> None:
    body = await get_json(sclient, f"/api/v1/seller-comparison?{query}", 400)
    assert message in body["error"], body
    if "is required" not in message:
        html = await page(sclient, f"/seller-comparison?{query}", 400)
        assert message in html.replace("&#39;", "'")


async def test_seller_page_shows_trend_mix_and_products(sclient: TestClient) -> None:
    html = await page(sclient, f"/sellers/100?{PERIOD}")
    assert "<title>Seller 100 · 08.10.2026 · 19 600 so&#39;m</title>" in html  # revenue hover
    assert "<title>Seller 100 · 07.10.2026 · 11</title>" in html  # units hover
    mix = html.split('id="category-mix"', 1)[1].split("</table>", 1)[0]
    assert "Category 2" in mix and "56.6 %" in mix and "43.4 %" in mix
    products = html.split('id="seller-products"', 1)[1].split("</table>", 1)[0]
    assert products.index(">1<") < products.index(">2<")  # by revenue: 19 600 before 15 000
    by_units = await page(sclient, f"/sellers/100?{PERIOD}&sort=units")
    assert 'href="/seller-comparison?ids=100' in by_units
    await page(sclient, "/sellers/100?sort=orders", 400)
    await page(sclient, "/sellers/999", 404)
    assert (await sclient.get("/api/v1/sellers/999/sales")).status == 404


async def test_comparison_page_and_the_sellers_list_checkboxes(sclient: TestClient) -> None:
    html = await page(sclient, f"/seller-comparison?ids=200,100&{PERIOD}")
    table = html.split('id="comparison"', 1)[1].split("</table>", 1)[0]
    assert table.index("Seller 200") < table.index("Seller 100")
    assert "-80.0 %" in table and "75.0 %" in table and "73.0 %" in table
    assert 'data-series="Seller 200"' in html and 'data-series="Seller 100"' in html
    empty = await page(sclient, "/seller-comparison")
    assert "Pick up to 5 sellers" in empty
    sellers = await page(sclient, "/sellers")
    assert 'name="ids" value="100" form="compare-sellers"' in sellers
