"""The seller comparison in a real browser (headless Chromium, tests/helpers/browser.py): on
the Sellers list a person ticks two sellers and presses "Compare ticked sellers"; the
comparison page opens for exactly those sellers and the period of the list, with a line per
seller in both charts, the totals table, and no console error (a CSP violation is one)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.app import WebDeps, create_app, start_site
from tests.helpers.browser import ARTIFACTS, visit
from tests.helpers.net import free_port
from tests.helpers.seller_scenario import B1, B2, PERIOD, seeded_with_sellers
from tests.helpers.settings import base_config
from tests.helpers.web import static_status

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def scenario_db(module_db: DatabaseConfig) -> DatabaseConfig:
    return seeded_with_sellers(module_db)


def tick_and_compare(driver: Any, url: str, ids: list[int]) -> dict[str, Any]:
    """Open the Sellers list, tick `ids`, press the compare button, read the page it opens
    (blocking: run in a thread)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    for sid in ids:
        driver.find_element(By.CSS_SELECTOR, f'input[name="ids"][value="{sid}"]').click()
    driver.find_element(By.CSS_SELECTOR, "#compare-sellers button").click()
    WebDriverWait(driver, 20).until(expected_conditions.url_contains("/seller-comparison"))
    found = visit(driver, driver.current_url, "seller-comparison.png")
    found["url"] = driver.current_url
    found["rows"] = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in driver.find_elements(By.CSS_SELECTOR, "#comparison tbody tr")
    ]
    return found


async def test_ticking_sellers_opens_their_comparison(
    browser: Any, scenario_db: DatabaseConfig
) -> None:
    port = free_port()
    cfg = dataclasses.replace(base_config(web={"port": port}), database=scenario_db)
    pool = await db.create_pool(cfg.database)
    status = static_status()
    app = create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None))
    runner = await start_site(app, cfg)
    try:
        url = f"http://127.0.0.1:{port}/sellers?{PERIOD}"
        page = await asyncio.to_thread(tick_and_compare, browser, url, [200, 100])
    finally:
        await runner.cleanup()
        await pool.close()
    assert page["errors"] == []
    assert page["title"].startswith("Compare sellers")
    assert f"from={B1}" in page["url"] and f"to={B2}" in page["url"]
    # the boxes are sent in the list's order (no orders published: ties by id, descending)
    assert [row[0] for row in page["rows"]] == ["200", "100"]
    assert page["rows"][1][2:5] == ["21", "12", "75.0 %"]
    assert page["rows"][0][5:8] == ["4 000", "20 000", "-80.0 %"]
    # revenue and units charts: one line per seller each
    assert sorted(page["paths"]) == ["Seller 100", "Seller 100", "Seller 200", "Seller 200"]
    assert page["chart_width"] > 300
    assert (ARTIFACTS / "seller-comparison.png").stat().st_size > 10_000
