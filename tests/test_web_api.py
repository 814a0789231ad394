"""The JSON API, /healthz and /metrics through `aiohttp_client` against real rows.

Shares the seed and the client factory of tests/helpers/web.py (its own seeded module database)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from marketplaced import __version__
from marketplaced.web.views.common import POOL
from tests.helpers.metrics import sample, scrape
from tests.helpers.web import ClientFactory, static_status

# the seeded database and the client factory of the page tests, for this module too


async def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    resp = await client.get(url)
    assert resp.status == status, f"{url}: {resp.status} {await resp.text()}"
    assert resp.headers["Content-Type"].startswith("application/json")
    return await resp.json()


async def test_products_json_and_cursor_paging_is_stable(client: TestClient) -> None:
    data = await get_json(client, "/api/v1/products")
    assert [p["id"] for p in data["items"]] == [1001, 1002, 1003, 1004]
    first = data["items"][0]
    assert first["title"] == "Смартфон Redmi 12 128 ГБ" and first["price"] == 1_500_000
    assert first["seller"] == "Aeris.uz" and first["category_id"] == 12
    assert "sort_key" not in first and data["next_cursor"] is None and data["limit"] == 50
    for sort in ("orders", "price_asc", "price_desc", "rating", "new"):
        full = [p["id"] for p in (await get_json(client, f"/api/v1/products?sort={sort}"))["items"]]
        seen: list[int] = []
        cursor = ""
        while True:
            page = await get_json(client, f"/api/v1/products?sort={sort}&limit=1{cursor}")
            seen += [p["id"] for p in page["items"]]
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert seen == full, sort


async def test_product_detail_and_history(client: TestClient) -> None:
    data = await get_json(client, "/api/v1/products/1001")
    assert data["url"] == "https://uzum.uz/product/1001"
    assert [s["id"] for s in data["skus"]] == [5001, 5002]
    assert data["characteristics"] == [{"title": "Rang", "values": "Qora"}]
    hist = await get_json(client, "/api/v1/products/1001/history?days=30")
    prices = [h["purchase_price"] for h in hist["prices"] if h["sku_id"] == 5001]
    assert prices == [2_000_000, 1_700_000, 1_500_000]
    assert [s["orders_amount"] for s in hist["stats"]] == [100, 200, 300]
    assert hist["truncated"] is False
    await get_json(client, "/api/v1/products/999", 404)
    assert "error" in await get_json(client, "/api/v1/products/x1", 400)


async def test_sellers_rankings_drops_top_and_compare(client: TestClient) -> None:
    sellers = await get_json(client, "/api/v1/sellers?sort=revenue")
    assert [s["id"] for s in sellers["items"]] == [100, 101]
    assert sellers["items"][0]["revenue_est"] == 300 * 1_500_000 + 5 * 300_000
    one = await get_json(client, "/api/v1/sellers/101")
    assert one["title"] == "<b>Bad</b> shop"  # JSON carries the raw text; pages escape it
    drops = await get_json(client, "/api/v1/price-drops")
    assert [(d["product_id"], d["drop_pct"]) for d in drops["items"]] == [
        (1001, 15.0),
        (1001, 11.76),
    ]
    page1 = await get_json(client, "/api/v1/price-drops?limit=1")
    page2 = await get_json(client, f"/api/v1/price-drops?limit=1&cursor={page1['next_cursor']}")
    assert page2["items"][0]["drop_pct"] == 11.76
    top = await get_json(client, "/api/v1/top-sellers?category=10&by=orders")
    assert [(t["seller_id"], t["orders"]) for t in top["items"]] == [(100, 300), (101, 50)]
    top1 = await get_json(client, "/api/v1/top-sellers?limit=1")
    assert top1["next_offset"] == 1
    comp = await get_json(client, "/api/v1/compare?q=redmi")
    assert comp["items"] == [
        {
            "seller_id": 100,
            "seller": "Aeris.uz",
            "products": 1,
            "min_price": 1500000,
            "median_price": 1500000,
            "max_price": 1500000,
            "orders": 300,
        }
    ]
    assert "'q' is required" in (await get_json(client, "/api/v1/compare", 400))["error"]
    overview = await get_json(client, "/api/v1/categories/overview")
    electronics = next(i for i in overview["items"] if i["id"] == 10)
    assert electronics["products"] == 2 and electronics["price_bands"]["1M–5M"] == 1


async def test_uzex_status_dead_letters_and_openapi(client: TestClient) -> None:
    lots = await get_json(client, "/api/v1/uzex/lots?type=auction&status=completed")
    assert [(lot["lot_id"], lot["deal_cost"]) for lot in lots["items"]] == [(379556, "1019000.50")]
    lot = await get_json(client, "/api/v1/uzex/lots/auction/379556")
    assert lot["items"][0]["unit"] == "пачка"
    by_cost = await get_json(client, "/api/v1/uzex/lots?sort=cost&limit=1")
    nxt = await get_json(
        client, f"/api/v1/uzex/lots?sort=cost&limit=1&cursor={by_cost['next_cursor']}"
    )
    assert [by_cost["items"][0]["lot_id"], nxt["items"][0]["lot_id"]] == [379556, 379557]
    status = await get_json(client, "/api/v1/status")
    assert (
        status["scanners"][0]["name"] == "uzum.products" and status["scanners"][0]["rate"] == 95.5
    )
    assert status["writer"]["depth"] == 120 and status["hosts"]["api.uzum.uz"]["in_flight"] == 7
    dead = await get_json(client, "/api/v1/dead-letters?scope=uzum.product&limit=1")
    assert len(dead["items"]) == 1 and dead["next_cursor"]
    spec = await get_json(client, "/api/v1/openapi.json")
    app_paths = {
        r.resource.canonical
        for r in client.app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/v1/")
    }
    assert app_paths - {"/api/v1/openapi.json"} == {
        p for p in spec["paths"] if p.startswith("/api/v1/")
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/products?limit=1000", "'limit' must be between 1 and 500"),
        ("/api/v1/products?page=2", "unknown parameter 'page'"),
        ("/api/v1/products?cursor=eyJ4Ijox", "not a cursor"),
        ("/api/v1/products/1/history?days=abc", "'days' must be an integer"),
        ("/api/v1/sellers?official=perhaps", "'official' must be true or false"),
        ("/api/v1/price-drops?min_pct=101", "'min_pct' must be between 0 and 100"),
        ("/api/v1/top-sellers?by=profit", "'by' must be one of"),
        ("/api/v1/uzex/lots?provider=abc", "9-digit INN"),
        ("/api/v1/uzex/lots?min_cost=5&max_cost=1", "'min_cost' must not exceed"),
        ("/api/v1/uzex/lots?from=2025-02-01&to=2025-01-01", "must not exceed"),
        ("/api/v1/uzex/lots/auction/x", "expected /api/v1/uzex/lots"),
        ("/api/v1/status?verbose=1", "unknown parameter 'verbose'"),
    ],
)
async def test_api_bad_parameters_are_json_400(client: TestClient, url: str, message: str) -> None:
    data = await get_json(client, url, 400)
    assert message in data["error"]


async def test_api_unknown_route_is_json_404(client: TestClient) -> None:
    assert "error" in await get_json(client, "/api/v1/nothing", 404)


async def test_healthz_ok_and_failing(make_client: ClientFactory) -> None:
    status = static_status()
    client, _ = await make_client(status=status)
    data = await get_json(client, "/healthz", 503)  # the seeded health check failed 10 min ago
    assert data["status"] == "fail"
    assert any("products_updated" in r for r in data["reasons"])
    assert any("blocked by upstream" in w for w in data["warnings"])
    status.writer_state = dataclasses.replace(status.writer_state, db_down_since=time.time())  # type: ignore[type-var]
    status.redis_down = time.time()
    data = await get_json(client, "/healthz", 503)
    assert any("waiting for PostgreSQL" in r for r in data["reasons"])
    assert any("redis" in w for w in data["warnings"])


async def test_healthz_ok_when_nothing_fails(make_client: ClientFactory) -> None:
    status = static_status()
    status.scanner_list = status.scanner_list[:1]
    client, _ = await make_client(status=status)
    pool = client.app[POOL]
    # the seeded failing check, made stale for this test only (older than two hourly runs)
    await pool.execute("UPDATE health_checks SET checked_at = checked_at - interval '1 day'")
    try:
        resp = await client.get("/healthz")
        data = await resp.json()
    finally:
        await pool.execute("UPDATE health_checks SET checked_at = checked_at + interval '1 day'")
    assert resp.status == 200, data
    assert data == {"status": "ok", "reasons": [], "warnings": []}


async def test_metrics_every_family_once_with_its_type(client: TestClient) -> None:
    families = await scrape(client)
    expected = {
        "marketplaced_scanner_rate": "gauge",
        "marketplaced_scanner_outcomes": "counter",
        "marketplaced_scanner_position": "gauge",
        "marketplaced_scanner_frontier": "gauge",
        "marketplaced_scanner_cycle": "gauge",
        "marketplaced_scanner_hit_rate": "gauge",
        "marketplaced_scanner_stale_seconds": "gauge",
        "marketplaced_scanner_blocked": "gauge",
        "marketplaced_writer_queue_depth": "gauge",
        "marketplaced_writer_queue_capacity": "gauge",
        "marketplaced_writer_batches": "counter",
        "marketplaced_writer_items": "counter",
        "marketplaced_writer_rows": "counter",
        "marketplaced_writer_retries": "counter",
        "marketplaced_writer_poison": "counter",
        "marketplaced_writer_flush_seconds": "histogram",
        "marketplaced_writer_db_down": "gauge",
        "marketplaced_http_requests": "counter",
        "marketplaced_http_retries": "counter",
        "marketplaced_http_request_duration_seconds": "histogram",
        "marketplaced_http_rate": "gauge",
        "marketplaced_http_in_flight": "gauge",
        "marketplaced_http_circuit_open": "gauge",
        "marketplaced_service_restarts": "counter",
        "marketplaced_service_crash_loop": "gauge",
        "marketplaced_database_up": "gauge",
        "marketplaced_job_runs": "counter",
        "marketplaced_job_last_finished_timestamp_seconds": "gauge",
        "marketplaced_dead_letters": "gauge",
        "marketplaced_web_requests": "counter",
        "marketplaced_web_request_duration_seconds": "histogram",
        "marketplaced_build_info": "gauge",
        "process_cpu_seconds": "counter",
        "process_resident_memory_bytes": "gauge",
        "process_open_fds": "gauge",
        "process_start_time_seconds": "gauge",
    }
    assert {name: families[name].type for name in expected if name in families} == expected
    assert not [n for n in families if n.endswith("_stale_s")]
    # both scanners' samples live in the one family of each name
    rate = families["marketplaced_scanner_rate"]
    assert sample(rate, scanner="uzum.products") == 95.5
    assert sample(rate, scanner="uzex.auction") == 0.0
    outcomes = families["marketplaced_scanner_outcomes"]
    assert sample(outcomes, "_total", scanner="uzum.products", outcome="error_rate_limited") == 4
    assert sample(families["marketplaced_scanner_blocked"], scanner="uzex.auction") == 1
    assert sample(families["marketplaced_scanner_stale_seconds"], scanner="uzum.products") == 0.5
    assert sample(families["marketplaced_writer_queue_depth"]) == 120
    flush = families["marketplaced_writer_flush_seconds"]
    assert sample(flush, "_bucket", le="+Inf") == 33 and sample(flush, "_count") == 33
    upstream = families["marketplaced_http_request_duration_seconds"]
    assert sample(upstream, "_bucket", host="api.uzum.uz", le="0.1") == 110
    http = families["marketplaced_http_requests"]
    assert sample(http, "_total", host="api.uzum.uz", outcome="rate_limited") == 5
    assert sample(families["marketplaced_job_runs"], "_total", job="alerts", outcome="failed") == 1
    dead = families["marketplaced_dead_letters"]
    assert sample(dead, scope="uzum.product", kind="transport") == 1
    assert sample(families["marketplaced_database_up"]) == 1
    assert sample(families["marketplaced_service_crash_loop"], service="writer") == 0
    (build,) = families["marketplaced_build_info"].samples
    assert build.labels["version"] == __version__ and build.value == 1
    assert sample(families["process_resident_memory_bytes"]) > 0


async def test_metrics_count_requests_by_route_pattern_and_status(
    make_client: ClientFactory,
) -> None:
    client, _ = await make_client()
    other, _ = await make_client()
    for url in ("/products", "/products/1001", "/products/1003", "/products/999", "/no/such"):
        await client.get(url)
    await client.get("/products/x1")  # a bad id: 400
    await client.get("/", allow_redirects=False)  # a redirect counts with its own status
    await client.request("PROPFIND", "/products")  # methods beyond HTTP's own share one label
    families = await scrape(client)
    web = families["marketplaced_web_requests"]
    counts = {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for s in web.samples
        if s.name == "marketplaced_web_requests_total"
    }
    assert counts == {
        ("/products", "GET", "200"): 1,
        ("/products/{id}", "GET", "200"): 2,
        ("/products/{id}", "GET", "404"): 1,
        ("/products/{id}", "GET", "400"): 1,
        ("unmatched", "GET", "404"): 1,
        ("unmatched", "OTHER", "403"): 1,  # the guard refuses it before routing
        ("/", "GET", "303"): 1,
    }
    latency = families["marketplaced_web_request_duration_seconds"]
    assert sample(latency, "_count", route="/products/{id}") == 4
    # the second scrape counts the first one; the raw path never becomes a label
    again = await scrape(client)
    routes = {s.labels.get("route") for s in again["marketplaced_web_requests"].samples}
    assert "/metrics" in routes and not any("1001" in str(r) for r in routes)
    # a registry per app: the other app counted only its own scrapes
    await scrape(other)
    theirs = (await scrape(other))["marketplaced_web_requests"]
    assert {s.labels["route"] for s in theirs.samples} == {"/metrics"}


async def test_metrics_answer_while_postgresql_does_not(make_client: ClientFactory) -> None:
    client, _ = await make_client()
    await client.app[POOL].close()  # every query now fails, as with the database gone
    families = await scrape(client)
    assert sample(families["marketplaced_database_up"]) == 0
    assert "marketplaced_job_runs" not in families and "marketplaced_dead_letters" not in families
    assert sample(families["marketplaced_scanner_rate"], scanner="uzum.products") == 95.5
