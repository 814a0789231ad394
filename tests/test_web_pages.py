"""Dashboard pages through `aiohttp_client` against real PostgreSQL rows.

The module's database is seeded once (categories, sellers, products with an XSS title, SKUs,
change-based history, dead letters, job runs, UZEX lots) and the summaries are refreshed; each
test gets an app backed by a plain-data `StaticStatus`. The other web test modules import the
seed and the client factory from here.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import Config, DatabaseConfig
from marketplaced.http import HostStats
from marketplaced.web import summaries
from marketplaced.web.app import WebDeps, create_app
from marketplaced.web.daemon_interface import (
    HealthCheck,
    JobStatus,
    ScannerStatus,
    ServiceStatus,
    StaticStatus,
    WriterStatus,
)
from tests.conftest import base_config

XSS_TITLE = "<script>alert('x')</script> Чехол"
NOW = datetime.now(UTC)

ClientFactory = Callable[..., Awaitable[tuple[TestClient, StaticStatus]]]


async def _seed(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        INSERT INTO categories (id, title, parent_id) VALUES
            (10, 'Электроника', NULL), (11, 'Телефоны', 10), (12, 'Смартфоны', 11),
            (20, 'Дом', NULL);
        INSERT INTO sellers (id, title, link, rating, reviews, orders, official) VALUES
            (100, 'Aeris.uz', 'aeris', 4.8, 900, 5000, true),
            (101, '<b>Bad</b> shop', 'bad', 3.1, 10, 20, false);
        """
    )
    products = [
        (1001, "Смартфон Redmi 12 128 ГБ", "Smartfon Redmi 12", 12, 100, 4.7, 300, 10),
        (1002, XSS_TITLE, None, 12, 101, 4.0, 50, 3),
        (1003, "Чайник Tefal", "Choynak Tefal", 20, 100, None, 5, 0),
        (1004, '=HYPERLINK("http://evil") Кабель', None, 20, 101, 2.5, 1, 7),
    ]
    await conn.executemany(
        "INSERT INTO products (id, title, title_ru, title_uz, category_id, seller_id, rating, "
        "orders_amount, total_available, characteristics) VALUES "
        "($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)",
        [
            (*p, '[{"title": "Rang", "values": [{"title": "Qora", "value": "#000"}]}]')
            for p in products
        ],
    )
    await conn.executemany(
        "INSERT INTO skus (id, product_id, full_price, purchase_price, available_amount, "
        "characteristics, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (5001, 1001, 1_800_000, 1_500_000, 6, "Rang: Qora, Xotira: 128 GB", NOW),
            (5002, 1001, 1_900_000, 1_600_000, 4, "Rang: Koʻk, Xotira: 128 GB", NOW),
            (5003, 1002, None, 20_000, 3, "", NOW),
            (5004, 1003, 350_000, 300_000, 0, "", NOW - timedelta(days=20)),
            (5005, 1004, None, 9_000, 7, "", NOW),
        ],
    )
    await conn.executemany(
        "INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, full_price, "
        "available_amount) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (5001, NOW - timedelta(days=10), 1001, 2_000_000, 1_800_000, 20),
            (5001, NOW - timedelta(days=5), 1001, 1_700_000, 1_800_000, 12),
            (5001, NOW - timedelta(days=1), 1001, 1_500_000, 1_800_000, 6),
            (5004, NOW - timedelta(days=30), 1003, 300_000, 350_000, 0),
        ],
    )
    await conn.executemany(
        "INSERT INTO product_stats_history (product_id, observed_at, orders_amount, "
        "reviews_amount, rating, total_available) VALUES ($1, $2, $3, 0, 4.7, 10)",
        [(1001, NOW - timedelta(days=d), n) for d, n in ((20, 100), (9, 200), (2, 300))],
    )
    await conn.execute(
        """
        INSERT INTO dead_letters (scope, entity_id, kind, reason, attempts) VALUES
            ('uzum.product', 777001, 'http_5xx', 'HTTP 503 after 5 attempts', 5),
            ('uzum.product', 777002, 'transport', 'connection reset', 5);
        INSERT INTO job_runs (job, started_at, finished_at, outcome, rows_touched, error) VALUES
            ('analytics', now() - interval '1 hour', now() - interval '59 minutes', 'ok', 42, NULL),
            ('alerts', now() - interval '5 minutes', now() - interval '4 minutes', 'failed', 0,
             'apprise: telegram unreachable');
        """
    )
    if await conn.fetchval("SELECT to_regclass('uzex_lots') IS NOT NULL"):
        await _seed_uzex(conn)
    if await conn.fetchval("SELECT to_regclass('alert_events') IS NOT NULL"):
        await _seed_jobs(conn)
    await conn.execute("ANALYZE")


async def _seed_jobs(conn: asyncpg.Connection) -> None:
    """What the scheduled jobs write: one analytics day, alert rules/events, a health check."""
    for table in ("analytics_seller_daily", "analytics_product_daily", "analytics_category_daily"):
        await conn.execute("SELECT marketplaced_ensure_partition_for($1, current_date - 1)", table)
    await conn.execute(
        """
        INSERT INTO analytics_days (day, day_start, day_end, observed_pct, max_gap_min, complete,
            products, skus, sellers, categories, ms)
        VALUES (current_date - 1, now() - interval '2 days', now() - interval '1 day', 96.5, 50,
            false, 4, 5, 2, 4, 10);
        INSERT INTO analytics_seller_daily (day, seller_id, revenue, sales, orders, units_stock,
            products_active, products_with_sales, products_listed, categories, rank_revenue,
            quality)
        VALUES (current_date - 1, 100, 151500000, 101, 100, 99, 2, 1, 2, 1, 1, 'gap'),
               (current_date - 1, 101, 1000000, 50, 50, 0, 1, 1, 2, 1, 2, 'gap');
        INSERT INTO analytics_product_daily (day, product_id, seller_id, category_id, orders,
            orders_end, units_stock, restocked, sales, sales_source, revenue, price_in_effect,
            price_basis, stock_end, reviews_delta, observations, quality)
        VALUES (current_date - 1, 1001, 100, 12, 100, 300, 6, 0, 100, 'orders', 150000000,
            1500000, 'card_price', 10, 0, 3, 'gap');
        INSERT INTO analytics_category_daily (day, category_id, revenue, sales, orders,
            products_listed, products_active, products_with_sales, sellers_active,
            sellers_with_sales, avg_price, price_bands, quality)
        VALUES (current_date - 1, 10, 151000000, 150, 150, 2, 2, 2, 2, 2, 760000,
            '[{"from": 1000000, "to": 5000000, "products": 1, "with_sales": 1}]', 'gap');
        INSERT INTO alert_rules (id, name, kind, scope, target_id, pct)
        VALUES (1, 'phones -10%', 'price_drop', 'category', 12, 10);
        INSERT INTO alert_events (rule_id, kind, item, product_id, sku_id, observed_at, old_value,
            new_value, title, message, status)
        VALUES (1, 'price_drop', 'sku:5001', 1001, 5001, now() - interval '1 day', 1700000,
            1500000, 'Redmi 12 −11.8 %', 'price fell <b>below</b> 1.6 M', 'sent');
        INSERT INTO alert_deliveries (event_ids, channel, status, attempts)
        VALUES ('{1}', 'tgram://***/***', 'sent', 1);
        INSERT INTO health_checks (checked_at, ok, checks)
        VALUES (now() - interval '10 minutes', false,
            '{"postgres": {"ok": true, "detail": "answered in 2 ms"},
              "products_updated": {"ok": false, "detail": "0 products updated in the last hour"}}');
        """
    )


async def _seed_uzex(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        INSERT INTO uzex_lots (lot_type, lot_id, display_no, deal_id, status, start_date, deal_date,
            start_cost, deal_cost, currency, participants, category_name, customer_inn,
            customer_name, customer_region, provider_inn, provider_name) VALUES
            ('auction', 379556, '25111006379556', 9001, 'completed', now() - interval '9 days',
             now() - interval '8 days', 1200000.00, 1019000.50, 'UZS', 3, 'Канцтовары',
             '201234567', 'Школа №5 <i>', 'Ташкент', '309876543', 'ООО Поставщик'),
            ('auction', 379557, '25111006379557', NULL, 'active', now() - interval '1 day', NULL,
             500000.00, NULL, 'UZS', NULL, 'Мебель', '201234567', 'Школа №5 <i>', 'Ташкент',
             NULL, NULL),
            ('shop', 55, 'S-55', 77, 'completed', now() - interval '3 days',
             now() - interval '2 days', 90000.00, 88000.00, 'UZS', 1, 'Канцтовары', '299999999',
             'Больница', 'Самарканд', '309876543', 'ООО Поставщик');
        INSERT INTO uzex_lot_items (lot_type, lot_id, line_no, name, quantity, unit, unit_price,
            cost, country, priced_as) VALUES
            ('auction', 379556, 1, 'Бумага А4', 100, 'пачка', 10190.00, 1019000.00, 'UZ',
             'completed');
        INSERT INTO uzex_parties (inn, kind, name) VALUES
            ('201234567', 'customer', 'Школа №5 <i>'), ('309876543', 'provider', 'ООО Поставщик');
        INSERT INTO uzex_lot_status_history (lot_type, lot_id, observed_at, status, deal_cost)
        VALUES ('auction', 379556, now() - interval '9 days', 'active', NULL),
               ('auction', 379556, now() - interval '8 days', 'completed', 1019000.50);
        """
    )


@pytest.fixture(scope="module")
def web_db(module_db: DatabaseConfig) -> DatabaseConfig:
    """The module's database, seeded once, with the summaries refreshed."""

    async def seed() -> None:
        conn = await db.connect(module_db)
        try:
            await _seed(conn)
        finally:
            await conn.close()
        pool = await db.create_pool(module_db)
        try:
            await summaries.refresh(pool)
        finally:
            await pool.close()

    asyncio.run(seed())
    return module_db


def host_stats(host: str = "api.uzum.uz") -> HostStats:
    return HostStats(
        host=host,
        requests=120,
        outcomes={"ok": 100, "not_found": 15, "rate_limited": 5},
        retries=5,
        bytes_received=10_000,
        latency_sum_s=6.0,
        latency_count=120,
        latency_buckets=((0.05, 60), (0.1, 110), (float("inf"), 120)),
        rate_current=50.0,
        rate_configured=100.0,
        concurrency=50,
        in_flight=7,
        queued=2,
        breaker_state="closed",
        circuit_opens=0,
        paused_for_s=0.0,
    )


def static_status() -> StaticStatus:
    snapshot = {
        "state": "scanning",
        "cycle": 3,
        "position": 1500,
        "frontier": 5000,
        "highest_seen": 4000,
        "found": 700,
        "missing": 300,
        "parse_failures": 2,
        "errors": {"rate_limited": 4, "http_5xx": 1, "transport": 2},
        "rate": 95.5,
        "hit_rate": 0.7,
        "last_commit_position": 1400,
        "stale_s": 0.5,
    }
    return StaticStatus(
        scanner_list=[
            ScannerStatus("uzum.products", snapshot),
            ScannerStatus(
                "uzex.auction",
                {**snapshot, "state": "blocked", "rate": 0.0},
                blocked_reason="HTTP 500 Not Valid",
            ),
        ],
        writer_state=WriterStatus(
            depth=120,
            capacity=20000,
            batches=33,
            items=5000,
            rows=9000,
            retries=1,
            poison=0,
            last_commit_at=time.time() - 3,
            last_batch_ms=41.0,
            latency_buckets=((0.01, 3), (0.05, 30), (float("inf"), 33)),
            latency_sum_s=1.2,
            db_down_since=None,
        ),
        host_map={"api.uzum.uz": host_stats()},
        service_list=[ServiceStatus("writer", True, 1, "OSError: boom", time.time() - 100)],
        job_list=[
            JobStatus("analytics", "cron: 0 3 * * *", time.time() + 3600),
            JobStatus("alerts", "every 15 min", time.time() + 600),
        ],
        health_list=[HealthCheck("disk", True, "71 GiB free", time.time() - 60)],
    )


@pytest.fixture
async def make_client(aiohttp_client: Any, web_db: DatabaseConfig) -> AsyncIterator[ClientFactory]:
    pools: list[asyncpg.Pool] = []

    async def make(
        token: str = "", status: StaticStatus | None = None, cfg: Config | None = None
    ) -> tuple[TestClient, StaticStatus]:
        config = cfg or base_config(web={"token": token})
        config = dataclasses.replace(config, database=web_db)
        pool = await db.create_pool(web_db)
        pools.append(pool)
        source = status or static_status()
        app = create_app(WebDeps(pool, config, source, source, summary_refresh_s=None))
        return await aiohttp_client(app), source

    yield make
    for p in pools:
        await p.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> TestClient:
    c, _ = await make_client()
    return c


async def page(client: TestClient, url: str, status: int = 200) -> str:
    resp = await client.get(url)
    text = await resp.text()
    assert resp.status == status, f"{url}: {resp.status} {text[:500]}"
    return text


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def table_ids(html: str, table_id: str) -> list[int]:
    """First-column ids of a rendered list table, in order."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return [
        int(x.replace(" ", ""))
        for x in re.findall(r'<tr><td class="int">(?:<a [^>]*>)?([\d ]+)<', body)
    ]


# -- status ---------------------------------------------------------------------------------------


async def test_status_page_shows_scanners_writer_hosts_jobs_and_dead_letters(
    client: TestClient,
) -> None:
    html = await page(client, "/status")
    assert "uzum.products" in html and "scanning" in html
    assert "blocked by upstream: HTTP 500 Not Valid" in html
    assert "1 500 / 5 000" in html  # cursor / frontier
    assert "95.5" in html and "70.0 %" in html  # rate, hit rate
    assert "429 4" in html and "5xx 1" in html and "parse failures 2" in html
    assert '<svg class="chart"' in html and "Scanner rate" in html
    assert 'id="writer"' in html and "120 / 20 000" in html
    assert "api.uzum.uz" in html and "50.0 / 100.0" in html
    assert "analytics" in html and "/status/jobs/analytics/run" in html
    assert "apprise: telegram unreachable" in html  # last run of alerts failed
    assert "777001" in html.replace(" ", "") and "Retry all of uzum.product" in html
    assert "71 GiB free" in html
    assert "price_history" in html  # table sizes


async def test_status_security_headers(client: TestClient) -> None:
    resp = await client.get("/status")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    html = await resp.text()
    assert "<script>" not in html and " style=" not in html  # nothing inline for the CSP
    static = await client.get("/static/style.css")
    assert static.status == 200 and static.headers["X-Content-Type-Options"] == "nosniff"


async def test_pause_requires_csrf_and_then_pauses(make_client: ClientFactory) -> None:
    client, source = await make_client()
    html = await page(client, "/status")
    denied = await client.post("/status/scanners/uzum.products/pause", data={})
    assert denied.status == 403 and not source.actions
    forged = await client.post("/status/scanners/uzum.products/pause", data={"csrf": "0" * 64})
    assert forged.status == 403 and not source.actions
    ok = await client.post(
        "/status/scanners/uzum.products/pause", data={"csrf": csrf_of(html)}, allow_redirects=False
    )
    assert ok.status == 303 and ok.headers["Location"].startswith("/status?msg=")
    assert source.actions == [("pause", "uzum.products")]
    after = await page(client, "/status")
    assert "paused" in after and "/status/scanners/uzum.products/resume" in after
    await client.post("/status/scanners/uzum.products/resume", data={"csrf": csrf_of(after)})
    assert source.actions[-1] == ("resume", "uzum.products")


async def test_unknown_scanner_and_job_are_reported(make_client: ClientFactory) -> None:
    client, source = await make_client()
    token = csrf_of(await page(client, "/status"))
    resp = await client.post("/status/scanners/nope/pause", data={"csrf": token})
    assert resp.status == 200 and "no scanner named" in await resp.text()
    resp = await client.post("/status/jobs/nope/run", data={"csrf": token})
    assert "no job named" in await resp.text()
    assert source.actions == []


async def test_run_job_and_retry_dead_letters(make_client: ClientFactory) -> None:
    client, source = await make_client()
    token = csrf_of(await page(client, "/status"))
    resp = await client.post("/status/jobs/analytics/run", data={"csrf": token})
    assert "job analytics started" in await resp.text()
    resp = await client.post(
        "/status/dead-letters/retry", data={"csrf": token, "scope": "uzum.product"}
    )
    assert "scheduled for a retry" in await resp.text()
    form = [("csrf", token), ("scope", "uzum.product"), ("id", "777001"), ("id", "777002")]
    await client.post("/status/dead-letters/retry", data=form)
    assert source.actions == [
        ("run", "analytics"),
        ("retry", "uzum.product:all"),
        ("retry", "uzum.product:777001,777002"),
    ]
    bad = await client.post("/status/dead-letters/retry", data=[*form[:2], ("id", "x")])
    assert "bad dead-letter ids" in await bad.text()


async def test_dead_letters_and_job_runs_lists(client: TestClient) -> None:
    html = await page(client, "/status/dead-letters?scope=uzum.product")
    assert "connection reset" in html and "HTTP 503 after 5 attempts" in html
    html = await page(client, "/status/job-runs?job=alerts")
    assert "apprise: telegram unreachable" in html and "analytics" not in html.split("<tbody>")[1]


# -- products -------------------------------------------------------------------------------------


async def test_products_list_sorted_by_orders_with_min_price(client: TestClient) -> None:
    html = await page(client, "/products")
    assert table_ids(html, "products") == [1001, 1002, 1003, 1004]
    assert "1 500 000" in html  # cheapest SKU of 1001
    assert "Aeris.uz" in html and "Смартфоны" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=redmi", [1001]),
        ("q=choynak", [1003]),  # the uz title is searched too
        ("q=%25%25%25", []),  # LIKE wildcards are literal
        ("category=10", [1001, 1002]),  # subcategories included
        ("category=11&seller=101", [1002]),
        ("min_price=10000&max_price=400000", [1002, 1003]),
        ("in_stock=1", [1001, 1002, 1004]),
        ("min_rating=4.5", [1001]),
        ("min_orders=50", [1001, 1002]),
        ("sort=price_asc", [1004, 1002, 1003, 1001]),
        ("sort=price_desc", [1001, 1003, 1002, 1004]),
        ("sort=price_asc&min_price=15000", [1002, 1003, 1001]),
        ("sort=rating", [1001, 1002, 1004, 1003]),
        ("sort=new", [1004, 1003, 1002, 1001]),
    ],
)
async def test_products_filters_and_sorts(
    client: TestClient, query: str, expected: list[int]
) -> None:
    assert table_ids(await page(client, f"/products?{query}"), "products") == expected


@pytest.mark.parametrize("sort", ["orders", "rating", "reviews", "new", "price_asc", "price_desc"])
async def test_products_keyset_pages_cover_the_list_once(client: TestClient, sort: str) -> None:
    full = table_ids(await page(client, f"/products?sort={sort}"), "products")
    seen: list[int] = []
    url: str | None = f"/products?sort={sort}&limit=1"
    while url:
        html = await page(client, url)
        seen += table_ids(html, "products")
        nxt = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == full


async def test_xss_title_is_rendered_as_text(client: TestClient) -> None:
    for url in ("/products", "/products/1002", "/sellers", "/sellers/101", "/analytics"):
        html = await page(client, url)
        assert "<script>alert" not in html and "<b>Bad</b>" not in html, url
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in await page(client, "/products/1002")


async def test_products_csv_is_exactly_the_page_with_bom(client: TestClient) -> None:
    html = await page(client, "/products?sort=price_asc&limit=2")
    resp = await client.get("/products.csv?sort=price_asc&limit=2")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="products.csv"' in resp.headers["Content-Disposition"]
    body = await resp.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    assert rows[0][:3] == ["ID", "Title", "Category"]
    assert [int(r[0]) for r in rows[1:]] == table_ids(html, "products") == [1004, 1002]
    assert rows[1][1].startswith("'=HYPERLINK")  # a formula is neutralised
    assert rows[2][1] == XSS_TITLE and rows[2][4] == "20000"
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html)
    assert next_link and "/products.csv?sort=price_asc&amp;limit=2" in html


async def test_product_page_skus_charts_and_link(client: TestClient) -> None:
    html = await page(client, "/products/1001")
    assert "https://uzum.uz/product/1001" in html
    assert "Rang: Qora, Xotira: 128 GB" in html and "Rang: Koʻk, Xotira: 128 GB" in html
    assert "1 500 000" in html and "1 800 000" in html
    assert html.count('<svg class="chart') == 7  # orders, daily orders+revenue, 2 SKUs x 2
    assert "no observations in this period" in html  # SKU 5002 has no history
    assert 'data-series="price"' in html and 'data-series="orders (cumulative)"' in html
    assert "Rang" in html and "Qora" in html  # product characteristics decoded
    assert "Электроника" in html and "Смартфоны" in html  # breadcrumbs


async def test_product_page_marks_observation_gap(client: TestClient) -> None:
    html = await page(client, "/products/1003")  # SKU last seen 20 days ago
    assert "not seen since" in html


async def test_product_page_missing_and_bad_id(client: TestClient) -> None:
    assert "no product 999" in await page(client, "/products/999", 404)
    await page(client, "/products/abc", 400)
    await page(client, "/products/1001?days=0", 400)


# -- sellers --------------------------------------------------------------------------------------


async def test_sellers_ranking_and_seller_page(client: TestClient) -> None:
    html = await page(client, "/sellers")
    assert table_ids(html, "sellers") == [100, 101]
    assert "&lt;b&gt;Bad&lt;/b&gt; shop" in html
    html = await page(client, "/sellers?sort=products")
    assert table_ids(html, "sellers") == [101, 100]  # 2 products each: ties by id, descending
    html = await page(client, "/sellers?sort=revenue")
    assert table_ids(html, "sellers") == [100, 101]  # 300 orders x 1.5 M so'm
    html = await page(client, "/sellers/100")
    assert "Aeris.uz" in html and "Смартфоны" in html and 'id="trend-chart"' in html
    assert "450 000 000" in html  # 300 x 1 500 000 + 5 x 300 000 … estimated revenue present
    await page(client, "/sellers/5", 404)


# -- analytics ------------------------------------------------------------------------------------


async def test_analytics_pages(client: TestClient) -> None:
    html = await page(client, "/analytics")
    assert "Top sellers" in html and "Aeris.uz" in html
    drops = await page(client, "/analytics/price-drops")
    assert "Смартфон Redmi 12" in drops and "15.0 %" in drops and "11.8 %" in drops
    assert "Смартфон Redmi 12" not in await page(client, "/analytics/price-drops?min_pct=20")
    assert "15.0 %" not in await page(client, "/analytics/price-drops?days=3")
    top = await page(client, "/analytics/top-sellers?category=10")
    assert "Aeris.uz" in top and "Смартфон Redmi 12" in top
    cats = await page(client, "/analytics/categories")
    assert "Электроника" in cats and "Дом" in cats and "1M–5M: 50%" in cats
    comp = await page(client, "/analytics/compare?q=redmi")
    assert "Aeris.uz" in comp and "1 500 000" in comp
    assert "Type a product name" in await page(client, "/analytics/compare")


async def test_analytics_csv_exports(client: TestClient) -> None:
    for url, header in (
        ("/analytics/price-drops.csv", "Product ID"),
        ("/analytics/top-sellers.csv", "Seller ID"),
        ("/analytics/compare.csv?q=redmi", "Seller ID"),
        ("/analytics/categories.csv", "Category ID"),
    ):
        resp = await client.get(url)
        body = await resp.read()
        assert resp.status == 200 and body.startswith(b"\xef\xbb\xbf" + header.encode()), url


# -- UZEX and alerts ------------------------------------------------------------------------------


async def test_uzex_lots_lot_and_parties(client: TestClient) -> None:
    html = await page(client, "/uzex/lots")
    assert "25111006379556" in html and "25111006379557" in html and "S-55" not in html
    assert "Школа №5 &lt;i&gt;" in html
    assert "25111006379557" not in await page(client, "/uzex/lots?status=completed")
    assert "S-55" in await page(client, "/uzex/lots?type=shop&customer=299999999")
    by_cost = await page(client, "/uzex/lots?sort=cost&min_cost=1000000")
    assert "25111006379556" in by_cost and "25111006379557" not in by_cost
    lot = await page(client, "/uzex/lots/auction/379556")
    assert (
        "Бумага А4" in lot and "пачка" in lot and "1 019 000.50" in lot and "Status history" in lot
    )
    customer = await page(client, "/uzex/customers/201234567")
    assert "Школа №5 &lt;i&gt;" in customer and "25111006379556" in customer
    provider = await page(client, "/uzex/providers/309876543")
    assert "ООО Поставщик" in provider and "S-55" in provider
    await page(client, "/uzex/lots?customer=12", 400)
    await page(client, "/uzex/lots/bogus/1", 400)
    await page(client, "/uzex/lots/auction/1", 404)
    resp = await client.get("/uzex/lots.csv?type=shop")
    assert (await resp.read()).startswith(b"\xef\xbb\xbfType,Lot")


async def test_alerts_rules_history_and_deliveries(client: TestClient) -> None:
    html = await page(client, "/alerts")
    assert "phones -10%" in html and "price_drop" in html
    assert "Redmi 12 −11.8 %" in html and "price fell &lt;b&gt;below&lt;/b&gt; 1.6 M" in html
    assert "tgram://***/***" in html
    assert "Redmi 12" not in await page(client, "/alerts?kind=new_low")
    body = await (await client.get("/alerts.csv?rule=1")).read()
    assert body.startswith(b"\xef\xbb\xbfEvent,When,Rule") and "phones -10%" in body.decode()


async def test_analytics_job_tables_feed_the_pages(client: TestClient) -> None:
    overview = await page(client, "/analytics")
    assert "daily analytics, day with a scan gap" in overview and 'id="day-top-sellers"' in overview
    cats = await page(client, "/analytics/categories")
    assert 'id="day-categories"' in cats and "151 000 000" in cats
    seller = await page(client, "/sellers/100")
    assert "From the daily analytics job" in seller and 'id="revenue-chart"' in seller
    product = await page(client, "/products/1001")
    assert 'id="daily-revenue-chart"' in product


async def test_recorded_health_check_shows_on_status(client: TestClient) -> None:
    html = await page(client, "/status")
    assert "products_updated" in html and "0 products updated in the last hour" in html


# -- bad parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/products?limit=0", "'limit' must be between 1 and 500"),
        ("/products?limit=abc", "'limit' must be an integer"),
        ("/products?limit=501", "'limit' must be between 1 and 500"),
        ("/products?colour=red", "unknown parameter 'colour'"),
        ("/products?sort=cheapest", "'sort' must be one of"),
        ("/products?cursor=garbage", "not a cursor"),
        ("/products?sort=price_asc&cursor=WzEuNV0", "not a cursor"),
        ("/products?min_price=10&max_price=5", "'min_price' must not exceed 'max_price'"),
        ("/products?q=ab", "'q' must be 3 to 100 characters"),
        ("/products?min_rating=6", "'min_rating' must be between 0 and 5"),
        ("/products?min_rating=nan", "'min_rating' must be between"),
        ("/products?seller=99999999999999999999", "'seller' must be between"),
        ("/products?in_stock=maybe", "'in_stock' must be true or false"),
        ("/products?q=a&q=b", "given more than once"),
        ("/sellers?sort=best", "'sort' must be one of"),
        ("/analytics/price-drops?days=15", "'days' must be between 1 and 14"),
        ("/analytics/top-sellers?offset=-1", "'offset' must be between"),
        ("/uzex/lots?from=2024-13-01", "'from' must be a date"),
        ("/uzex/lots?type=tender", "'type' must be one of"),
        ("/status?nope=1", "unknown parameter 'nope'"),
    ],
)
async def test_bad_parameters_are_400_with_a_message(
    client: TestClient, url: str, message: str
) -> None:
    html = await page(client, url, 400)
    assert message in html.replace("&#39;", "'")
