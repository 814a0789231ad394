"""A real browser on the real dashboard: Debian's headless Chromium through chromedriver.

The app serves the seeded database of test_web_pages on a loopback port; Chromium opens the
status page and a product page, the test checks that the SVG charts and the tables render,
that the console has no errors (a CSP violation is one), and saves screenshots under
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.app import WebDeps, create_app, start_site
from tests import test_web_pages as pages
from tests.conftest import base_config
from tests.test_web_pages import static_status

# the seeded database of the page tests, for this module too
web_db = pages.web_db

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: a page that has not rendered in 20 s is broken, not slow
PAGE_TIMEOUT_S = 20


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        return (
            "Debian chromium and chromium-driver are not installed "
            "(apt-get install chromium chromium-driver)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _visit(driver: Any, url: str, shot: str) -> dict[str, Any]:
    """Load `url`, read what rendered, save a screenshot (blocking: run in a thread)."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    found = {
        "title": driver.title,
        "svgs": driver.find_elements(By.CSS_SELECTOR, "svg.chart"),
        "paths": [
            p.get_attribute("data-series")
            for p in driver.find_elements(By.CSS_SELECTOR, "svg.chart path.line")
        ],
        "tables": {
            t.get_attribute("id"): len(t.find_elements(By.CSS_SELECTOR, "tbody tr"))
            for t in driver.find_elements(By.CSS_SELECTOR, "table.list")
        },
        "chart_width": max(
            (s.size["width"] for s in driver.find_elements(By.CSS_SELECTOR, "svg.chart")), default=0
        ),
        "stylesheet_applied": driver.execute_script(
            "return getComputedStyle(document.querySelector('header.top')).display"
        ),
        "errors": _console_errors(driver),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / shot))
    return found


async def test_status_and_product_pages_render_in_chromium(
    browser: Any, web_db: DatabaseConfig
) -> None:
    port = _free_port()
    cfg = dataclasses.replace(base_config(web={"port": port}), database=web_db)
    pool = await db.create_pool(cfg.database)
    status = static_status()
    app = create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None, rate_sample_s=0.05))
    runner = await start_site(app, cfg)
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.sleep(0.2)  # a few rate samples for the chart
        page = await asyncio.to_thread(_visit, browser, f"{base}/status", "status.png")
        assert page["title"].startswith("Status")
        assert page["errors"] == []
        assert page["stylesheet_applied"] == "flex"  # the CSS loaded despite the strict CSP
        assert page["tables"]["scanners"] == 2 and page["tables"]["jobs"] == 2
        assert page["tables"]["dead-counts"] == 2 and page["tables"]["hosts"] == 1
        assert "uzum.products" in page["paths"] and page["chart_width"] > 300
        product = await asyncio.to_thread(_visit, browser, f"{base}/products/1001", "product.png")
        assert product["title"].startswith("Смартфон Redmi 12")
        assert product["errors"] == []
        assert product["tables"]["skus"] == 2
        assert len(product["svgs"]) >= 5 and "price" in product["paths"]
        assert "orders (cumulative)" in product["paths"]
        xss = await asyncio.to_thread(_visit, browser, f"{base}/products/1002", "product-xss.png")
        assert xss["title"].startswith("<script>")  # shown as text, never run
        assert xss["errors"] == []
    finally:
        await runner.cleanup()
        await pool.close()
    assert (ARTIFACTS / "status.png").stat().st_size > 10_000
