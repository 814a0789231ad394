"""The product page against real PostgreSQL rows made by hand: one price chart for all SKUs
(a line each, or a band when there are many), exact values on hover in so'm and Tashkent time,
years on an axis that crosses a new year, units per day as bars linked to "How we count", the
SKU table folded beyond ten rows, and when the product was last checked."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web import product_charts
from tests.helpers.web import page

NOW = datetime.now(UTC)
#: 30 Dec 10:00 UTC of last year is 15:00 in Tashkent (UTC+5): the window crosses a new year
DEC30 = datetime(NOW.year - 1, 12, 30, 10, 0, tzinfo=UTC)
JAN2 = datetime(NOW.year, 1, 2, 20, 30, tzinfo=UTC)  # 3 Jan 01:30 in Tashkent
DEC30_DAY, JAN1_DAY, JAN2_DAY = (
    date(NOW.year - 1, 12, 30),
    date(NOW.year, 1, 1),
    date(NOW.year, 1, 2),
)
#: the analytics days' zone (`jobs.timezone`, Tashkent by default): today is its local date
TODAY = NOW.astimezone(ZoneInfo("Asia/Tashkent")).date()


@pytest.fixture(scope="module")
def product_db(web_db: DatabaseConfig) -> DatabaseConfig:
    async def seed() -> None:
        conn = await db.connect(web_db)
        try:
            await conn.execute(
                "INSERT INTO products (id, title, category_id, seller_id, orders_amount, "
                "total_available, first_seen) VALUES (3001, 'Three SKUs', 12, 100, 10, 9, $1), "
                "(3002, 'Many SKUs', 12, 100, 5, 12, $1)",
                DEC30 - timedelta(days=1),
            )
            skus = [(6001, 3001, 1_250_000), (6002, 3001, 990_000), (6003, 3001, 2_000_000)]
            skus += [(7000 + i, 3002, 100_000 + 1000 * i) for i in range(12)]
            await conn.executemany(
                "INSERT INTO skus (id, product_id, purchase_price, available_amount) "
                "VALUES ($1, $2, $3, 1)",
                skus,
            )
            history = [
                (6001, DEC30, 3001, 1_250_000),
                (6001, JAN2, 3001, 1_100_000),
                (6002, DEC30 + timedelta(days=1), 3001, 990_000),
                (6003, JAN2, 3001, 2_000_000),
            ]
            history += [(7000 + i, DEC30, 3002, 100_000 + 1000 * i) for i in range(12)]
            await conn.executemany(
                "INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price, "
                "available_amount) VALUES ($1, $2, $3, $4, 1)",
                history,
            )
            await conn.execute(
                "INSERT INTO product_stats_history (product_id, observed_at, orders_amount, "
                "reviews_amount, total_available) VALUES "
                "(3001, $1, 4, 0, 12), (3001, $2, 10, 0, 9)",
                DEC30,
                JAN2,
            )
            await conn.execute(
                "INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome) VALUES "
                "(3001, now() - interval '7 minutes', now() - interval '7 minutes', 'unchanged')"
            )
            # the sales rollup's rows: 30 Dec and 1 Jan counted, today so far; 29 Dec (first
            # seen) and 2 Jan observed without a change; 31 Dec never observed
            counted = [(DEC30_DAY, 4, 5_000_000), (JAN1_DAY, 6, 6_600_000), (TODAY, 3, 3_300_000)]
            await conn.executemany(
                "INSERT INTO sales_product_daily VALUES ($1, 3001, 100, 12, $2, $3, $2, 0, 0, 0, "
                "0, 2, false) ON CONFLICT DO NOTHING",
                counted,
            )
            observed = {DEC30_DAY - timedelta(days=1), DEC30_DAY, JAN1_DAY, JAN2_DAY, TODAY}
            await conn.executemany(
                "INSERT INTO sales_days (day, observed_pct, max_gap_min, complete, final) "
                "VALUES ($1, 100, 30, true, $2)",
                [(d, d != TODAY) for d in sorted(observed)],
            )
        finally:
            await conn.close()

    asyncio.run(seed())
    return web_db


@pytest.fixture
async def pclient(product_db: DatabaseConfig, client: TestClient) -> TestClient:
    return client


def svg(html: str, figure_id: str) -> str:
    match = re.search(rf'<figure class="chart wide" id="{figure_id}">(.*?)</figure>', html, re.S)
    assert match, f"no {figure_id} on the page"
    return match.group(1)


async def test_one_price_chart_with_a_line_per_sku_and_exact_hover(pclient: TestClient) -> None:
    html = await page(pclient, "/products/3001?days=3650")
    chart = svg(html, "price-chart")
    assert html.count('id="price-chart"') == 1
    assert re.findall(r'class="line s\d" d="[^"]+" data-series="SKU (\d+)"', chart) == [
        "6002",
        "6001",
        "6003",
    ]
    year = NOW.year
    assert f"<title>SKU 6001 · 30.12.{year - 1} 15:00 · 1 250 000 so&#39;m</title>" in chart
    assert f"<title>SKU 6001 · 03.01.{year} 01:30 · 1 100 000 so&#39;m</title>" in chart
    assert "so&#39;m</text>" in chart  # the money axis is in so'm
    assert re.search(rf">\d\d\.\d\d\.{year - 1}</text>", chart)  # the axis names the year
    assert 'data-series="in stock"' in svg(html, "stock-chart")


async def test_units_per_day_bars_link_how_we_count_and_mark_unobserved(
    pclient: TestClient,
) -> None:
    """The bars come from the sales rollups: today so far shows, a day observed without a
    change is a zero that was seen, a day never observed is marked, never a zero bar."""
    html = await page(pclient, "/products/3001?days=3650")
    units = svg(html, "units-chart")
    y = NOW.year
    assert f"30.12.{y - 1}: 4 units, 5 000 000 so&#39;m — order-counter delta ·" in units
    assert f"01.01.{y}: 6 units, 6 600 000 so&#39;m — order-counter delta ·" in units
    assert f"29.12.{y - 1}: 0 units, 0 so&#39;m — observed, no change: nothing sold" in units
    assert f"31.12.{y - 1}: not observed (unknown, not zero)" in units
    assert f"30.12.{y - 1}: not observed" not in units
    if TODAY not in (DEC30_DAY, JAN1_DAY, JAN2_DAY):
        today = TODAY.strftime("%d.%m.%Y")
        assert f"{today}: 3 units, 3 300 000 so&#39;m — order-counter delta (today so far)" in units
    # every bar and every unobserved mark links to the method
    marks = units.count('<rect class="bar"') + units.count('<rect class="unobserved"')
    assert units.count('<a href="/how-we-count">') == marks


async def test_many_skus_band_and_folded_table(pclient: TestClient) -> None:
    html = await page(pclient, "/products/3002?days=3650&sku=7005")
    chart = svg(html, "price-chart")
    assert chart.count('<path class="band"') == 1
    assert re.findall(r'class="line hl" d="[^"]+" data-series="SKU (\d+)"', chart) == ["7005"]
    assert "from 100 000 so&#39;m to 111 000 so&#39;m across 12 SKUs" in chart
    table = html.split('<table class="list" id="skus">')[1].split("</table>")[0]
    assert table.count("<tr><td") == 10
    assert '<details id="more-skus"><summary>2 more SKUs</summary>' in html


async def test_checked_ago_and_nothing_inline(pclient: TestClient) -> None:
    resp = await pclient.get("/products/3001")
    html = await resp.text()
    assert re.search(r'id="checked">checked [78] min ago<', html)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in html and " style=" not in html and "<style" not in html


async def test_how_we_count_page_renders_the_document_and_is_linked(pclient: TestClient) -> None:
    resp = await pclient.get("/how-we-count")
    html = await resp.text()
    assert resp.status == 200
    assert "<h1>How we count sales</h1>" in html and "<table>" in html
    assert "<strong>order counter</strong>" in html
    assert '<a href="/how-we-count"' in await page(pclient, "/products")  # in the nav
    assert "<script>" not in html and " style=" not in html
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]


def test_a_run_of_days_alike_is_one_mark_naming_its_first_and_last_day() -> None:
    """180 days of which 2 sold: five marks (never observed, nothing sold, a sale, nothing
    sold, a sale), not one per day."""
    tz = ZoneInfo("Asia/Tashkent")
    first = date(2026, 6, 1)
    nothing = "observed, no change: nothing sold"
    bars = [product_charts.DayBar(first + timedelta(days=i), None) for i in range(30)]
    bars += [
        product_charts.DayBar(first + timedelta(days=i), 0, 0, nothing) for i in range(30, 100)
    ]
    bars.append(
        product_charts.DayBar(first + timedelta(days=100), 5, 50_000, "order-counter delta")
    )
    bars += [
        product_charts.DayBar(first + timedelta(days=i), 0, 0, nothing) for i in range(101, 179)
    ]
    bars.append(
        product_charts.DayBar(first + timedelta(days=179), 2, 20_000, "order-counter delta")
    )
    start = datetime.combine(first, datetime.min.time(), tz).timestamp()
    chart = product_charts.units_chart(bars, start=start, end=start + 180 * 86400, tz=tz)
    titles = re.findall(r'<rect class="(?:bar|unobserved)"[^>]*><title>([^<]*)</title>', chart)
    assert titles == [
        "01.06.2026–30.06.2026: not observed (unknown, not zero) · how we count",
        f"01.07.2026–08.09.2026: 0 units, 0 so&#39;m — {nothing} · how we count",
        "09.09.2026: 5 units, 50 000 so&#39;m — order-counter delta · how we count",
        f"10.09.2026–26.11.2026: 0 units, 0 so&#39;m — {nothing} · how we count",
        "27.11.2026: 2 units, 20 000 so&#39;m — order-counter delta · how we count",
    ]
    # the run's mark spans its days: 30 days of a 180-day chart, a sixth of the plot
    width = float(re.search(r'class="unobserved"[^>]*width="([\d.]+)"', chart).group(1))  # type: ignore[union-attr]
    plot_w = 720 - 112 - 12
    assert abs(width - plot_w * (29 + 0.8) / 180) < 0.2
