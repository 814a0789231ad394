"""`marketplaced demo` as a newcomer runs it: within a minute the dashboard shows scanners
running, products, sellers, weeks of price history, sales over the last 7 days and alerts;
Ctrl-C stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from marketplaced import db
from marketplaced.errors import DatabaseError
from marketplaced.jobs.analytics import AnalyticsSettings
from marketplaced.web.queries import sales
from tests.helpers.browser import visit
from tests.helpers.net import free_port

from .conftest import _drop, base_config, env_for_tests

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def _figures(name: str) -> dict[str, int]:
    import dataclasses

    conn = await db.connect(dataclasses.replace(base_config().database, name=name))
    try:
        return {
            "products": await conn.fetchval("SELECT count(*) FROM products"),
            "sellers": await conn.fetchval("SELECT count(*) FROM sellers"),
            "changed_skus": await conn.fetchval(
                "SELECT count(*) FROM (SELECT sku_id FROM price_history GROUP BY sku_id "
                "HAVING count(*) > 1) t"
            ),
            "alerts": await conn.fetchval("SELECT count(*) FROM alert_events"),
            "lots": await conn.fetchval("SELECT count(*) FROM uzex_lots"),
        }
    finally:
        await conn.close()


async def _last_week(name: str) -> dict[str, Any]:
    """What the sales lists show for the last 7 days, with the prices each product was seen at,
    and the longest price history of a SKU."""
    import dataclasses

    conn = await db.connect(dataclasses.replace(base_config().database, name=name))
    try:
        tz = AnalyticsSettings.from_config(base_config().jobs).tz
        week = sales.last_days(7, datetime.now(UTC), tz)
        products = await sales.figures(conn, "product", week, order="revenue", limit=20)
        prices = {
            r["product_id"]: (r["lo"], r["hi"])
            for r in await conn.fetch(
                "SELECT product_id, min(purchase_price) lo, max(purchase_price) hi "
                "FROM price_history WHERE product_id = ANY($1::bigint[]) GROUP BY 1",
                [f.id for f in products],
            )
        }
        return {
            "products": products,
            "prices": prices,
            "sellers": await sales.figures(conn, "seller", week, limit=5),
            "categories": await sales.figures(conn, "category", week, limit=5),
            "longest_history": await conn.fetchval(
                "SELECT max(last - first) FROM (SELECT min(observed_at) first, "
                "max(observed_at) last FROM price_history GROUP BY sku_id) t"
            ),
        }
    finally:
        await conn.close()


def _assert_plausible_market(market: dict[str, Any], units: int, revenue: int) -> None:
    """A category's market share as the demo shows it: the same totals as the category's own
    rollup, sellers by revenue whose shares add up to 100 %, an index between its bounds."""
    assert (market["units"], market["revenue"]) == (units, revenue), market
    sellers = market["sellers"]
    assert sellers and market["sellers_with_sales"] >= 1, market
    named = [s for s in sellers if s["seller_id"] is not None]
    assert [s["revenue"] for s in named] == sorted((s["revenue"] for s in named), reverse=True)
    assert all(s["units"] > 0 and s["revenue"] >= 0 for s in sellers), sellers
    assert sum(s["revenue"] for s in sellers) == revenue
    assert abs(sum(s["revenue_share_pct"] for s in sellers) - 100) <= 0.01 * len(sellers)
    # one seller alone is 10 000; n equal sellers 10 000 / n, the least n sellers can make
    assert 10_000 / market["sellers_with_sales"] - 0.1 <= market["hhi"] <= 10_000, market["hhi"]
    bands = market["price_bands"]
    assert sum(b["units"] for b in bands) + market["unpriced_units"] == units
    assert sum(b["revenue"] for b in bands) == revenue
    assert any(b["units"] for b in bands)


def test_demo_fills_the_dashboard_within_a_minute(tmp_path: Path, browser: Any) -> None:
    name = f"mp_demo_{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **env_for_tests(),
        "PATH": os.environ.get("PATH", ""),
        "DB_NAME": "postgres",
        "STATE_DIRECTORY": str(tmp_path),
    }
    log = (tmp_path / "demo.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "marketplaced.cli", "demo", "--database", name, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        figures: dict[str, int] = {}
        week: dict[str, Any] = {"products": []}
        while time.monotonic() - started < 60:
            time.sleep(2)
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            try:
                figures = asyncio.run(_figures(name))
                week = asyncio.run(_last_week(name))
            except (DatabaseError, asyncpg.PostgresError):
                continue  # the demo database is still being created or migrated
            if all(figures.values()) and week["products"]:
                break
        assert all(figures.values()), figures  # every kind of data within the minute
        # the simulated past: products sorted by their sales of the last 7 days, plausible
        # figures (never negative, revenue within units × the prices the product was seen at)
        products = week["products"]
        assert products and products[0].revenue > 0, products
        assert [f.revenue for f in products] == sorted((f.revenue for f in products), reverse=True)
        for f in products:
            lo, hi = week["prices"][f.id]
            assert f.units >= 0 and f.revenue >= 0, f
            assert f.units * lo <= f.revenue <= f.units * hi, (f, lo, hi)
        assert week["sellers"] and week["categories"]
        assert week["longest_history"] >= timedelta(days=25), week["longest_history"]
        status = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=10).read()
        )
        states = {s["name"]: s["state"] for s in status["scanners"]}
        assert "uzum.products" in states
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/alerts", timeout=10).read().decode()
        assert "price_drop" in page or "out_of_stock" in page
        assert "Dashboard:  http://127.0.0.1:" in (tmp_path / "demo.log").read_text()
        # what a newcomer sees: the status page and a product page with its charts, in Chromium
        base = f"http://127.0.0.1:{port}"
        page = visit(browser, f"{base}/status", "demo-status.png")
        assert page["errors"] == []
        assert page["tables"]["scanners"] >= 2
        assert "uzum.products" in page["paths"]
        drops = json.loads(
            urllib.request.urlopen(f"{base}/api/v1/price-drops?limit=1", timeout=10).read()
        )["items"]
        pid = drops[0]["product_id"] if drops else 1
        product = visit(browser, f"{base}/products/{pid}", "demo-product.png")
        assert product["errors"] == []
        assert product["tables"]["skus"] >= 1
        # the one price chart draws a line per SKU, named after it
        assert any(p.startswith("SKU ") for p in product["paths"]), product["paths"]
        # the best-selling category's market: who sells it, at what prices, plausibly
        best = week["categories"][0]
        market = json.loads(
            urllib.request.urlopen(f"{base}/api/v1/categories/{best.id}/market", timeout=10).read()
        )
        _assert_plausible_market(market, best.units, best.revenue)
        shown = visit(browser, f"{base}/categories/{best.id}", "demo-category.png")
        assert shown["errors"] == []
        assert shown["tables"]["sellers"] >= 1 and shown["tables"]["bands"] >= 2
        assert len(shown["svgs"]) >= 3  # seller shares, price bands, units per day
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
        asyncio.run(_drop(name))
