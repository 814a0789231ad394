"""Dashboard pages through `aiohttp_client` against real PostgreSQL rows (the seeded database
and the client factory are in tests/helpers/web.py)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from marketplaced.web.app import HERE
from tests.helpers.web import XSS_TITLE, ClientFactory, csrf_of, page, table_ids

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


async def test_pages_link_static_files_by_their_content_hash(client: TestClient) -> None:
    html = await page(client, "/products")
    for name in ("style.css", "app.js", "favicon.svg"):
        body = (HERE / "static" / name).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode()
        url = f"/static/{name}?v={quote(digest, safe='')}"
        assert f'="{url}"' in html, name
        served = await client.get(url)
        assert served.status == 200 and await served.read() == body


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
    assert html.count('<svg class="chart') == 4  # all SKUs' prices, stock, units/day, orders
    assert 'data-series="SKU 5001: Rang: Qora, Xotira: 128 GB"' in html
    assert 'data-series="orders (cumulative)"' in html
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
    assert "Aeris.uz" in html and "Смартфоны" in html and 'id="revenue-chart"' in html
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
        ("/products?q=%25%25%25", "'q' has no letter or digit to search for"),
        ("/sellers?q=%25_%25", "'q' has no letter or digit to search for"),
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
