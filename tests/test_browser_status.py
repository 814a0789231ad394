"""The status page in a real browser (headless Chromium): what an operator clicks and reads.

Pause/resume on a live UZEX scanner scanning the simulator, the "database unreachable" banner,
and local times named with their zone.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from marketplaced import db
from marketplaced.platforms.uzex.scanner import UzexPlan
from marketplaced.simulator.uzex import UzexCatalogue, UzexSimulator, add_uzex_routes
from marketplaced.supervisor import Supervisor
from marketplaced.web.app import WebDeps, create_app, start_site
from marketplaced.web.daemon_interface import JobStatus, StaticStatus
from marketplaced.web.live_daemon import LiveDaemon
from tests.conftest import base_config
from tests.helpers.browser import ARTIFACTS, PAGE_TIMEOUT_S
from tests.helpers.net import free_port
from tests.helpers.status import LATE_UTC, View
from tests.helpers.uzex import runtime, until, uzex_config
from tests.helpers.web import static_status

pytestmark = pytest.mark.browser


def _press(driver: Any, url: str, scanner: str, button: str, shot: str) -> dict[str, str]:
    """Open the status page, press `button` in the scanner's row (confirming the dialog) and
    read the row after the redirect (blocking: run in a thread)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, PAGE_TIMEOUT_S)
    driver.get(url)
    row = driver.find_element(By.XPATH, f"//table[@id='scanners']//tr[td[1]='{scanner}']")
    row.find_element(By.XPATH, f".//button[text()='{button}']").click()
    if button == "Pause":  # the page asks first (data-confirm)
        wait.until(ec.alert_is_present()).accept()
    wait.until(ec.presence_of_element_located((By.ID, "flash")))
    row = driver.find_element(By.XPATH, f"//table[@id='scanners']//tr[td[1]='{scanner}']")
    cells = row.find_elements(By.TAG_NAME, "td")
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / shot))
    return {
        "state": cells[1].text,
        "rate": cells[4].text,
        "buttons": " ".join(b.text for b in row.find_elements(By.TAG_NAME, "button")),
        "flash": driver.find_element(By.ID, "flash").text,
    }


async def test_pause_and_resume_a_live_uzex_scanner_in_chromium(
    browser: Any, pool: Any, aiohttp_server: Any
) -> None:
    sim = UzexSimulator(UzexCatalogue(seed=5, n_auction=5, n_shop=40, n_national=1, n_etender=1))
    upstream = web.Application()
    add_uzex_routes(upstream, sim)
    sim_server = await aiohttp_server(upstream)
    uzex_cfg = uzex_config(str(sim_server.make_url("")).rstrip("/"))
    port = free_port()
    cfg = base_config(web={"port": port}).with_section(uzex_cfg)
    async with runtime(pool, uzex_cfg) as rt:
        scanner = rt.completed("shop", plan=UzexPlan(continuous=True))
        task = asyncio.create_task(scanner.run())
        status = LiveDaemon(
            View(pool, rt.writer, Supervisor(10, 60), scanners={scanner.name: scanner})
        )
        runner = await start_site(create_app(WebDeps(pool, cfg, status, status, None)), cfg)
        try:
            await until(lambda: scanner.stats.found > 0)
            url = f"http://127.0.0.1:{port}/status"
            paused = await asyncio.to_thread(
                _press, browser, url, scanner.name, "Pause", "paused.png"
            )
            assert scanner.gate.paused
            assert paused["state"] == "paused" and paused["rate"] == "0.0"
            assert paused["buttons"] == "Resume" and "pause requested" in paused["flash"]
            resumed = await asyncio.to_thread(
                _press, browser, url, scanner.name, "Resume", "resumed.png"
            )
            assert not scanner.gate.paused
            assert resumed["state"] != "paused" and resumed["buttons"] == "Pause"
        finally:
            await runner.cleanup()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _read_status(driver: Any, url: str, shot: str) -> dict[str, Any]:
    """What an operator reads at the top of the status page and in the jobs table."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    banners = driver.find_elements(By.ID, "db-unreachable")
    job_times = driver.find_elements(By.CSS_SELECTOR, "#jobs tbody tr td:nth-child(3) time")
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / shot))
    return {
        "zone": driver.find_element(By.ID, "timezone").text,
        "banner": banners[0].text if banners and banners[0].is_displayed() else None,
        "scanner_rows": len(driver.find_elements(By.CSS_SELECTOR, "#scanners tbody tr")),
        "next_runs": [(t.text, t.get_attribute("datetime")) for t in job_times],
    }


async def _serve(pool: Any, cfg: Any, status: StaticStatus) -> Any:
    return await start_site(create_app(WebDeps(pool, cfg, status, status, None)), cfg)


async def test_status_shows_tashkent_times_with_the_zone_named_in_chromium(
    browser: Any, pool: Any
) -> None:
    port = free_port()
    cfg = base_config(web={"port": port})
    status = static_status()
    # 22:30 UTC: 03:30 the next morning in Tashkent
    status.job_list = [JobStatus("analytics", "cron: 30 3 * * *", LATE_UTC.timestamp())]
    runner = await _serve(pool, cfg, status)
    try:
        url = f"http://127.0.0.1:{port}/status"
        seen = await asyncio.to_thread(_read_status, browser, url, "status-local-time.png")
    finally:
        await runner.cleanup()
    assert seen["zone"] == "times in Asia/Tashkent (UTC+05:00)"
    assert seen["next_runs"] == [("2026-03-02 03:30", "2026-03-02T03:30:00+05:00")]
    assert seen["banner"] is None


async def test_database_unreachable_banner_in_chromium(browser: Any) -> None:
    port = free_port()
    down = dataclasses.replace(base_config().database, port=free_port())  # nothing listens
    cfg = dataclasses.replace(base_config(web={"port": port}), database=down)
    pool = await asyncpg.create_pool(**db.connect_kwargs(down), min_size=0, max_size=2)
    runner = await _serve(pool, cfg, static_status())
    try:
        url = f"http://127.0.0.1:{port}/status"
        seen = await asyncio.to_thread(_read_status, browser, url, "status-db-down.png")
    finally:
        await runner.cleanup()
        await pool.close()
    assert seen["banner"] is not None and seen["banner"].startswith("Database unreachable")
    assert seen["scanner_rows"] == 2  # the daemon's own state is still there
    assert len(seen["next_runs"]) == 2
