"""The category filter is a tree (every level, indented, each level by title) on every list
that filters by category: a page holds the top level and the chosen category's branch, the
whole tree is one API request away (the filter's search loads it), and a filter on a category
includes its subtree — on the products list and on the sellers list, whose figures then are
the sellers' in that category."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from marketplaced.web import summaries
from marketplaced.web.views.common import POOL
from tests.helpers.web import page, table_ids

RANGE = "from=2026-11-20&to=2026-11-26"
# (product, seller, category, units, revenue on 2026-11-22); the seeded tree is
# 10 Электроника > 11 Телефоны > 12 Смартфоны, and 20 Дом; sellers 100 and 101 have products
# 1001 and 1002 in 12 and 1003 and 1004 in 20
SALES = [
    (3001, 201, 12, 10, 70_000),
    (3002, 202, 11, 20, 20_000),
    (3003, 203, 12, 3, 0),
    (3020, 201, 20, 100, 1_000_000),  # seller 201's other category
]


@pytest.fixture
async def tree_client(client: TestClient) -> TestClient:
    pool = client.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM sales_product_daily")
        await conn.execute("DELETE FROM sales_days")
        await conn.executemany(
            "INSERT INTO sellers (id, title) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(s, f"Shop {s}") for s in (201, 202, 203)],
        )
        await conn.executemany(
            "INSERT INTO products (id, title, category_id, seller_id) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT DO NOTHING",
            [(pid, f"Product {pid}", cat, seller) for pid, seller, cat, _, _ in SALES],
        )
        await conn.executemany(
            "INSERT INTO sales_product_daily VALUES ($1,$2,$3,$4,$5,$6,$5,0,0,0,0,2,false)",
            [(date(2026, 11, 22), pid, s, c, u, r) for pid, s, c, u, r in SALES],
        )
        for n in range(13, 27):
            await conn.execute(
                "INSERT INTO sales_days VALUES ($1, 100, 30, true, true)", date(2026, 11, n)
            )
    await summaries.refresh(pool)  # web_category_sellers: who sells in which category
    return client


def tree_options(html: str) -> list[tuple[int, int, str]]:
    """(id, depth, title) of the category tree select, in order."""
    body = html.split('id="category-tree"', 1)[1].split("</select>", 1)[0]
    return [
        (int(i), int(d), t.strip("\u2003"))
        for i, d, t in re.findall(r'<option value="(\d+)" data-depth="(\d+)"[^>]*>([^<]*)<', body)
    ]


TREE = [(20, 0, "Дом"), (10, 0, "Электроника"), (11, 1, "Телефоны"), (12, 2, "Смартфоны")]


async def test_the_whole_tree_is_one_request_away(client: TestClient) -> None:
    resp = await client.get("/api/v1/categories")
    assert resp.status == 200
    items = (await resp.json())["items"]
    # depth-first, each level by title, with the parent of each
    assert [(i["id"], i["depth"], i["title"]) for i in items] == TREE
    assert [i["parent_id"] for i in items] == [None, None, 10, 11]
    assert (await client.get("/api/v1/categories?x=1")).status == 400


@pytest.mark.parametrize(
    "url",
    [
        "/products",
        "/sellers",
        "/analytics/price-drops",
        "/analytics/top-sellers",
        "/analytics/compare",
    ],
)
async def test_every_category_filter_is_the_tree(client: TestClient, url: str) -> None:
    html = await page(client, url)
    # a page starts with the top level; the search box loads the whole tree (static/app.js)
    assert tree_options(html) == [(20, 0, "Дом"), (10, 0, "Электроника")]
    assert 'class="tree-search"' in html and 'data-src="/api/v1/categories"' in html
    chosen = await page(client, f"{url}?category=11")
    # the chosen category's branch is open: its ancestors, itself and its children
    assert tree_options(chosen) == TREE
    assert re.search(r'<option value="11" data-depth="1" selected>', chosen)
    # indentation is text (no inline style): two em spaces before a second-level category
    assert ">\u2003\u2003Смартфоны<" in chosen


async def test_the_chosen_category_is_selected_at_any_depth(client: TestClient) -> None:
    html = await page(client, "/products?category=12")
    assert re.search(r'<option value="12" data-depth="2" selected>', html)
    assert tree_options(html) == TREE
    assert table_ids(html, "products") == [1001, 1002]
    assert table_ids(await page(client, "/products?category=10"), "products") == [1001, 1002]


def ids_of(data: dict[str, Any]) -> list[int]:
    return [i["id"] for i in data["items"]]


async def test_sellers_of_a_category_with_their_sales_in_it(tree_client: TestClient) -> None:
    resp = await tree_client.get(f"/api/v1/sellers?category=12&sort=sales_revenue&{RANGE}")
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    # seller 201 sold 70 000 in 12, not its 1 000 000 in 20; 202 sold only in 11 (above 12)
    assert [(i["id"], i["units"], i["revenue"]) for i in data["items"]] == [
        (201, 10, 70_000),
        (203, 3, 0),
    ]
    assert data["total"] == 2
    top = await (await tree_client.get(f"/api/v1/sellers?category=10&sort=units&{RANGE}")).json()
    assert [(i["id"], i["units"]) for i in top["items"]] == [(202, 20), (201, 10), (203, 3)]
    home = await (await tree_client.get(f"/api/v1/sellers?category=20&{RANGE}")).json()
    # sellers with products in 20, by their own orders; 201's figures are its sales in 20 only
    assert sorted(ids_of(home)) == [100, 101, 201] and home["total"] == 3
    assert next(i for i in home["items"] if i["id"] == 201)["revenue"] == 1_000_000


async def test_sellers_catalogue_figures_are_the_categorys(tree_client: TestClient) -> None:
    data = await (await tree_client.get("/api/v1/sellers?category=11&sort=products")).json()
    # every seller with a product in 11 or 12, one product each there: ties by id, descending
    assert ids_of(data) == [203, 202, 201, 101, 100]
    assert {i["products"] for i in data["items"]} == {1}  # 201 has 2 products, 1 of them here
    assert all(i["in_stock"] is None for i in data["items"])
    whole = await (await tree_client.get("/api/v1/sellers?sort=products")).json()
    assert next(i for i in whole["items"] if i["id"] == 201)["products"] == 2
    html = await page(tree_client, "/sellers?category=11")
    assert re.search(r'<option value="11" data-depth="1" selected>', html)
    assert '<a href="/categories/11" id="market-link">' in html


@pytest.mark.parametrize("query", ["category=-1", "category=x", "category=2147483648"])
async def test_a_bad_seller_category_is_400(client: TestClient, query: str) -> None:
    for path in ("/sellers", "/api/v1/sellers"):
        assert (await client.get(f"{path}?{query}")).status == 400, (path, query)
