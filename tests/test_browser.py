"""A real browser on the real dashboard: Debian's headless Chromium through chromedriver.

The app serves the seeded database of tests/helpers/web.py on a loopback port; Chromium opens the
status page and a product page, the test checks that the SVG charts and the tables render,
that the console has no errors (a CSP violation is one), and saves screenshots under
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.app import WebDeps, create_app, start_site
from tests.conftest import base_config
from tests.helpers.browser import ARTIFACTS, visit
from tests.helpers.net import free_port
from tests.helpers.web import static_status

# the seeded database of the page tests, for this module too

pytestmark = pytest.mark.browser


async def test_status_and_product_pages_render_in_chromium(
    browser: Any, web_db: DatabaseConfig
) -> None:
    port = free_port()
    cfg = dataclasses.replace(base_config(web={"port": port}), database=web_db)
    pool = await db.create_pool(cfg.database)
    status = static_status()
    app = create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None, rate_sample_s=0.05))
    runner = await start_site(app, cfg)
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.sleep(0.2)  # a few rate samples for the chart
        page = await asyncio.to_thread(visit, browser, f"{base}/status", "status.png")
        assert page["title"].startswith("Status")
        assert page["errors"] == []
        assert page["stylesheet_applied"] == "flex"  # the CSS loaded despite the strict CSP
        assert page["tables"]["scanners"] == 2 and page["tables"]["jobs"] == 2
        assert page["tables"]["dead-counts"] == 2 and page["tables"]["hosts"] == 1
        assert "uzum.products" in page["paths"] and page["chart_width"] > 300
        product = await asyncio.to_thread(visit, browser, f"{base}/products/1001", "product.png")
        assert product["title"].startswith("Смартфон Redmi 12")
        assert product["errors"] == []
        assert product["tables"]["skus"] == 2
        # one combined price chart with a line per SKU, then stock, units per day, orders
        assert len(product["svgs"]) >= 4
        assert sum(p.startswith("SKU ") for p in product["paths"]) == 2
        assert "orders (cumulative)" in product["paths"]
        xss = await asyncio.to_thread(visit, browser, f"{base}/products/1002", "product-xss.png")
        assert xss["title"].startswith("<script>")  # shown as text, never run
        assert xss["errors"] == []
    finally:
        await runner.cleanup()
        await pool.close()
    assert (ARTIFACTS / "status.png").stat().st_size > 10_000
