"""The category tree filter in Chromium: typing in its search box loads the whole tree (the
page holds only its top level) and narrows it to the matching categories with those above
them (where they are) and below them (what a filter on them includes), the tree opens as a
list of what is left, and choosing a second-level category filters the products list to its
subtree. Then the category page of the chosen category renders its charts without a console
error (the CSP allows no inline script or style).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.app import WebDeps, create_app, start_site
from tests.conftest import base_config
from tests.helpers.browser import ARTIFACTS, PAGE_TIMEOUT_S
from tests.helpers.net import free_port
from tests.helpers.web import static_status

pytestmark = pytest.mark.browser


def _use_the_tree(driver: Any, base: str) -> dict[str, Any]:
    """Search the tree for 'телеф', pick 'Телефоны', submit; then open its category page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(f"{base}/products")
    tree = driver.find_element(By.ID, "category-tree")

    def visible() -> list[str]:
        return [
            o.get_attribute("value")
            for o in tree.find_elements(By.TAG_NAME, "option")
            if not o.get_property("hidden")
        ]

    before = visible()
    driver.find_element(By.CSS_SELECTOR, "input.tree-search").send_keys("ТЕЛЕФ")
    # the whole tree is fetched, then narrowed to what matches
    WebDriverWait(driver, PAGE_TIMEOUT_S).until(
        lambda _: tree.get_attribute("data-narrowed") == "телеф"
    )
    found = {"before": before, "after": visible(), "size": tree.get_property("size")}
    Select(tree).select_by_value("11")
    driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(driver, PAGE_TIMEOUT_S).until(lambda d: "category=11" in d.current_url)
    found["url"] = driver.current_url
    found["products"] = [
        r.find_element(By.CSS_SELECTOR, "td").text.replace(" ", "")
        for r in driver.find_elements(By.CSS_SELECTOR, "table#products tbody tr")
    ]
    driver.find_element(By.ID, "market-link").click()
    WebDriverWait(driver, PAGE_TIMEOUT_S).until(lambda d: "/categories/11" in d.current_url)
    found["market_title"] = driver.title
    found["market_charts"] = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart"))
    found["seller_bars"] = [
        (bar.get_attribute("class"), titles[0].get_attribute("textContent"))
        for bar in driver.find_elements(By.CSS_SELECTOR, "#seller-chart rect")
        if (titles := bar.find_elements(By.TAG_NAME, "title"))
    ]
    found["errors"] = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "category-market.png"))
    return found


async def _sales_of_yesterday(pool: asyncpg.Pool, tz: str) -> None:
    """Two sellers' sales in 12 yesterday (within the default 7 days), as the rollup keeps them."""
    day = datetime.now(ZoneInfo(tz)).date() - timedelta(days=1)
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO sales_product_daily VALUES ($1,$2,$3,12,$4,$5,$4,0,0,0,0,2,false)",
            [(day, 1001, 100, 5, 7_500_000), (day, 1002, 101, 3, 60_000)],
        )
        for cid in (12, 11, 10):
            await conn.execute(
                "INSERT INTO sales_category_daily VALUES ($1, $2, 8, 7560000, 8, 0, 0, 0, 4, 2)",
                day,
                cid,
            )


async def test_the_category_tree_search_narrows_and_filters(
    browser: Any, web_db: DatabaseConfig
) -> None:
    port = free_port()
    cfg = dataclasses.replace(base_config(web={"port": port}), database=web_db)
    pool = await db.create_pool(cfg.database)
    await _sales_of_yesterday(pool, cfg.jobs.timezone)
    status = static_status()
    app = create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None))
    runner = await start_site(app, cfg)
    try:
        found = await asyncio.to_thread(_use_the_tree, browser, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
        await pool.close()
    # the seeded tree: 20 Дом, 10 Электроника > 11 Телефоны > 12 Смартфоны; the page starts
    # with its top level
    assert found["before"] == ["", "20", "10"]
    # "ТЕЛЕФ" matches Телефоны whatever the case: its parent stays, its child too, Дом goes
    assert found["after"] == ["", "10", "11", "12"]
    assert found["size"] == 4  # opened as a list of what is left
    assert "category=11" in found["url"]
    # products of 12, below 11: the filter includes the subtree
    assert sorted(found["products"]) == ["1001", "1002"]
    assert found["market_title"].startswith("Телефоны")
    assert found["market_charts"] >= 3  # seller shares, price bands, units per day
    # hovering a bar tells its exact figures: Aeris.uz sold 5 of the 8 units
    assert ("bar-units", "Aeris.uz: 5 units of 8") in found["seller_bars"]
    assert ("bar-revenue", "Aeris.uz: 7 500 000 so'm of 7 560 000 so'm") in found["seller_bars"]
    assert found["errors"] == []
