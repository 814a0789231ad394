"""Products and sellers lists over a sales period: the figures, their order, totals, hover text
and the period's validation, from hand-made rollup rows written as the sales rollup writes them
(sql/014_sales.sql) into the seeded web database (tests/helpers/web.py)."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from marketplaced.web.views.common import POOL
from tests.helpers.web import page, table_ids

# the period under test and the one before it (7 days each)
CUR = (date(2026, 11, 20), date(2026, 11, 26))
PREV = (date(2026, 11, 13), date(2026, 11, 19))
RANGE = "from=2026-11-20&to=2026-11-26"

# product -> (seller, category, [(day, units, revenue, units_orders, units_stock, units_split,
# observations)])
ROWS: dict[int, tuple[int, int, list[tuple[date, int, int, int, int, int, int]]]] = {
    # 10 units from the order counter, 5 the week before: +100 %
    1001: (
        100,
        12,
        [
            (date(2026, 11, 21), 6, 600_000, 6, 0, 0, 3),
            (date(2026, 11, 24), 4, 400_000, 4, 0, 0, 2),
            (date(2026, 11, 15), 5, 500_000, 5, 0, 0, 2),
        ],
    ),
    # 20 units all split over a gap, 20 before: 0 %
    1002: (
        101,
        12,
        [(date(2026, 11, 22), 20, 500_000, 20, 0, 20, 4), (date(2026, 11, 14), 20, 1, 20, 0, 0, 1)],
    ),
    # 4 units from stock decreases, 2 before: below the 5-unit base, no growth
    1003: (
        100,
        20,
        [
            (date(2026, 11, 23), 4, 2_000_000, 0, 4, 0, 1),
            (date(2026, 11, 16), 2, 1_000_000, 0, 2, 0, 1),
        ],
    ),
}


@pytest.fixture
async def sales_client(client: TestClient) -> TestClient:
    pool = client.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        for pid, (seller, category, days) in ROWS.items():
            for day, units, revenue, orders, stock, split, obs in days:
                await conn.execute(
                    "INSERT INTO sales_product_daily VALUES "
                    "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,0,$11,false) ON CONFLICT DO NOTHING",
                    day, pid, seller, category, units, revenue, orders, stock, split,
                    revenue if split else 0, obs,
                )  # fmt: skip
        # the seller rows are the sums of its products' rows, as the rollup keeps them
        await conn.execute("DELETE FROM sales_seller_daily")
        await conn.execute(
            """INSERT INTO sales_seller_daily
               SELECT day, seller_id, sum(units), sum(revenue), sum(units_orders),
                      sum(units_stock), sum(units_split), sum(revenue_split), sum(observations),
                      count(*) FILTER (WHERE units > 0)
               FROM sales_product_daily GROUP BY 1, 2"""
        )
        for i in range(14):
            day = PREV[0] + timedelta(days=i)
            gap = 180 if day == date(2026, 11, 22) else 30
            await conn.execute(
                "INSERT INTO sales_days VALUES ($1, 100, $2, true, true) ON CONFLICT DO NOTHING",
                day,
                gap,
            )
    return client


async def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    resp = await client.get(url)
    assert resp.status == status, f"{url}: {resp.status} {await resp.text()}"
    return await resp.json()


def figures(items: list[dict[str, Any]]) -> list[tuple[int, Any, Any, Any]]:
    return [(i["id"], i["units"], i["revenue"], i["growth_pct"]) for i in items]


async def test_products_sorted_by_period_figures_with_growth_base(sales_client: TestClient) -> None:
    c = sales_client
    by_revenue = await get_json(c, f"/api/v1/products?sort=revenue&{RANGE}")
    assert figures(by_revenue["items"]) == [
        (1003, 4, 2_000_000, None),
        (1001, 10, 1_000_000, 100.0),
        (1002, 20, 500_000, 0.0),
    ]
    assert by_revenue["total"] == 3 and by_revenue["total_capped"] is False
    by_units = await get_json(c, f"/api/v1/products?sort=units&{RANGE}")
    assert [i["id"] for i in by_units["items"]] == [1002, 1001, 1003]
    by_growth = await get_json(c, f"/api/v1/products?sort=growth&{RANGE}")
    assert [i["id"] for i in by_growth["items"]] == [1001, 1002, 1003]
    counted = {i["id"]: i["counted"] for i in by_revenue["items"]}
    assert counted == {
        1001: "order-counter delta; 5 observations; longest gap 3 h",
        1002: "split over a scan gap; 4 observations; longest gap 3 h",
        1003: "stock delta; 1 observations; longest gap 3 h",
    }
    # the same filters as without a period: one seller's products, with the count to match
    seller = await get_json(c, f"/api/v1/products?sort=revenue&seller=100&{RANGE}")
    assert [i["id"] for i in seller["items"]] == [1003, 1001] and seller["total"] == 2
    # offset pages of a sales order
    first = await get_json(c, f"/api/v1/products?sort=units&limit=2&{RANGE}")
    assert [i["id"] for i in first["items"]] == [1002, 1001] and first["next_offset"] == 2
    rest = await get_json(c, f"/api/v1/products?sort=units&limit=2&offset=2&{RANGE}")
    assert [i["id"] for i in rest["items"]] == [1003] and rest["next_offset"] is None


async def test_every_order_carries_the_figures_and_unobserved_days_are_unknown(
    sales_client: TestClient,
) -> None:
    c = sales_client
    data = await get_json(c, f"/api/v1/products?{RANGE}")  # default order: orders
    assert [i["id"] for i in data["items"]] == [1001, 1002, 1003, 1004]
    assert figures(data["items"])[3] == (1004, 0, 0, None)  # observed, nothing sold
    assert data["items"][3]["counted"] == "no sale observed; longest gap 3 h"
    assert data["total"] == 4
    never = await get_json(c, "/api/v1/products?from=2026-11-27&to=2026-11-28")
    assert {(i["units"], i["revenue"]) for i in never["items"]} == {(None, None)}
    assert {i["counted"] for i in never["items"]} == {"never observed: figures unknown"}
    text = await page(c, "/products?from=2026-11-27&to=2026-11-28")
    assert "Never observed, figures unknown (not zero): 2026-11-27 2026-11-28" in text


async def test_products_page_and_csv_show_order_totals_and_how_counted(
    sales_client: TestClient,
) -> None:
    c = sales_client
    text = await page(c, f"/products?sort=revenue&{RANGE}")
    assert table_ids(text, "products") == [1003, 1001, 1002]
    assert "<strong>3 products</strong>" in text
    assert "only from a base of 5 units" in text
    assert (
        '<td class="int" title="order-counter delta; 5 observations; longest gap 3 h">'
        '<a href="/how-we-count">10</a>'
    ) in text
    resp = await c.get(f"/products.csv?sort=revenue&{RANGE}")
    assert resp.status == 200
    lines = (await resp.text()).lstrip("\ufeff").splitlines()
    assert lines[0].endswith('Units,"Revenue, so\'m",Growth,How counted')
    assert [line.split(",")[0] for line in lines[1:]] == ["1003", "1001", "1002"]


async def test_sellers_ranked_by_period_sales(sales_client: TestClient) -> None:
    c = sales_client
    data = await get_json(c, f"/api/v1/sellers?sort=sales_revenue&{RANGE}")
    # seller 100: 1001 + 1003 = 14 units, 3 000 000; before 7 units → +100 %
    assert figures(data["items"]) == [(100, 14, 3_000_000, 100.0), (101, 20, 500_000, 0.0)]
    assert data["total"] == 2
    units = await get_json(c, f"/api/v1/sellers?sort=units&{RANGE}")
    assert [i["id"] for i in units["items"]] == [101, 100]
    text = await page(c, f"/sellers?sort=growth&{RANGE}")
    assert table_ids(text, "sellers") == [100, 101] and "<strong>2 sellers</strong>" in text
    own = await get_json(c, f"/api/v1/sellers?sort=orders&{RANGE}")
    assert figures(own["items"]) == [(100, 14, 3_000_000, 100.0), (101, 20, 500_000, 0.0)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=week", "period"),
        ("from=2026-11-20", "'from' and 'to' go together"),
        ("from=2026-11-20&to=2026-11-19", "before 'from'"),
        ("from=2025-01-01&to=2026-11-19", "at most 366 days"),
        ("from=2026-13-01&to=2026-11-19", "from"),
        ("sort=units&cursor=abc", "page by 'offset'"),
        ("sort=orders&offset=50", "pages by 'cursor'"),
    ],
)
async def test_bad_periods_are_400(client: TestClient, query: str, message: str) -> None:
    for path in ("/api/v1/products", "/api/v1/sellers", "/products", "/sellers"):
        resp = await client.get(f"{path}?{query}")
        assert resp.status == 400, (path, query)
        assert message in html.unescape(await resp.text()), (path, query)


async def test_openapi_lists_the_period_parameters(client: TestClient) -> None:
    spec = await get_json(client, "/api/v1/openapi.json")
    for path in ("/api/v1/products", "/api/v1/sellers"):
        params = {p["name"]: p["schema"] for p in spec["paths"][path]["get"]["parameters"]}
        assert params["period"]["enum"] == ["today", "yesterday", "7d", "30d"]
        assert params["period"]["default"] == "7d"
        assert params["from"]["format"] == params["to"]["format"] == "date"
        assert "offset" in params
        sorts = params["sort"]["enum"]
        assert {"units", "growth"} <= set(sorts)
