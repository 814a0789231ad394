"""The seeded dashboard database and the client factory the web test modules share.

The module database is seeded once (categories, sellers, products with an XSS title, SKUs,
change-based history, dead letters, job runs, UZEX lots) and the summaries are refreshed; each
test gets an app backed by a plain-data `StaticStatus`. The fixtures `web_db`, `make_client`
and `client` are registered for every test module by tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
from tests.helpers.settings import base_config

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


def seeded(
    module_db: DatabaseConfig, seed: Callable[[asyncpg.Connection], Awaitable[None]]
) -> DatabaseConfig:
    """`module_db` after `seed(conn)`, with the dashboard's summaries refreshed."""

    async def run() -> None:
        conn = await db.connect(module_db)
        try:
            await seed(conn)
        finally:
            await conn.close()
        pool = await db.create_pool(module_db)
        try:
            await summaries.refresh(pool)
        finally:
            await pool.close()

    asyncio.run(run())
    return module_db


@pytest.fixture(scope="module")
def web_db(module_db: DatabaseConfig) -> DatabaseConfig:
    """The module's database, seeded once, with the summaries refreshed."""
    return seeded(module_db, _seed)


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
