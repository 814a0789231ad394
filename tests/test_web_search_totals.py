"""A product search's total (the page's "734 products" and the API's `total`) is counted once
a minute for the same search, not again for every page of its results and every seller who
searches the same word (web/count_cache.py); the rows themselves are always read live, and
lists without a search are always counted at once. Real PostgreSQL, an injected clock."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.count_cache import COUNT_TTL_S, CountCache
from marketplaced.web.listing import Count
from marketplaced.web.views.common import STATE
from tests.helpers.web import ClientFactory, page, seeded, table_ids


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _seed(conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO sellers (id, title, orders) VALUES (1, 'Termoshop', 0)")
    await conn.executemany(
        "INSERT INTO products (id, title, seller_id, orders_amount) VALUES ($1, $2, 1, $3)",
        [(1, "Termos 1 litr", 30), (2, "Termos 0.5 litr", 20), (3, "Choynak elektr", 10)],
    )
    await conn.execute("ANALYZE")


@pytest.fixture(scope="module")
def web_db(module_db: DatabaseConfig) -> DatabaseConfig:
    return seeded(module_db, _seed)


def total(html: str) -> str:
    match = re.search(r'<p class="hint totals"><strong>([^<]*)</strong>', html)
    assert match, "no total on the page"
    return match.group(1)


async def api(client: TestClient, url: str) -> dict[str, Any]:
    resp = await client.get(url)
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


async def add_product(cfg: DatabaseConfig, pid: int, title: str) -> None:
    conn = await db.connect(cfg)
    try:
        await conn.execute(
            "INSERT INTO products (id, title, seller_id, orders_amount) VALUES ($1, $2, 1, 1)",
            pid,
            title,
        )
    finally:
        await conn.close()


async def test_a_search_total_is_shared_for_a_minute_then_counted_again(
    make_client: ClientFactory, web_db: DatabaseConfig
) -> None:
    client, _ = await make_client()
    clock = Clock()
    client.server.app[STATE].search_counts = CountCache(clock=clock)
    assert total(await page(client, "/products?q=termos")) == "2 products"
    assert (await api(client, "/api/v1/products?q=termos"))["total"] == 2
    await add_product(web_db, 4, "Termos 2 litr")
    clock.now += COUNT_TTL_S - 1
    # the rows are live; the heading is the count of under a minute ago, on every page of it
    html = await page(client, "/products?q=termos")
    assert sorted(table_ids(html, "products")) == [1, 2, 4] and total(html) == "2 products"
    first = await api(client, "/api/v1/products?q=termos&limit=1")
    later = await api(client, f"/api/v1/products?q=termos&limit=1&cursor={first['next_cursor']}")
    assert (first["total"], later["total"], len(later["items"])) == (2, 2, 1)
    # a list without a search is counted at once
    assert total(await page(client, "/products")) == "4 products"
    clock.now += 1  # a minute on: counted again
    assert total(await page(client, "/products?q=termos")) == "3 products"
    assert (await api(client, "/api/v1/products?q=termos"))["total"] == 3
    # another search (other words or filters) has its own count
    await add_product(web_db, 5, "Termos sumka")
    assert total(await page(client, "/products?q=termos&seller=1")) == "4 products"
    assert total(await page(client, "/products?q=termos")) == "3 products"


async def test_the_least_recently_used_count_goes_first(web_db: DatabaseConfig) -> None:
    counts = CountCache(max_entries=2, clock=Clock())
    conn = await db.connect(web_db)
    sql = "SELECT count(*) FROM products WHERE seller_id = $1 AND id <= $2"
    try:
        for limit in (1, 2, 3):  # three counts: only two are kept
            assert await counts.count(conn, Count(sql, (1, limit), 100)) == limit
        await conn.execute("UPDATE products SET seller_id = NULL WHERE id = 1")
        try:
            assert await counts.count(conn, Count(sql, (1, 3), 100)) == 3  # kept
            assert await counts.count(conn, Count(sql, (1, 1), 100)) == 0  # gone: counted now
        finally:
            await conn.execute("UPDATE products SET seller_id = 1 WHERE id = 1")
    finally:
        await conn.close()
