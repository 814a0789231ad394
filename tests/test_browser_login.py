"""Log in and out in a real browser (headless Chromium): the form posts from our own origin
(Chromium sends Origin, so the cross-site check is exercised as a user meets it), and after
logging out the old session cookie, put back into the browser, opens nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.app import WebDeps, create_app, start_site
from marketplaced.web.security import SESSION_COOKIE
from tests.conftest import base_config
from tests.helpers.browser import ARTIFACTS, PAGE_TIMEOUT_S
from tests.helpers.net import free_port
from tests.helpers.web import static_status

pytestmark = pytest.mark.browser

TOKEN = "7b2e9d4f1a6c3e8b0d5f2a9c4e7b1d3f"


def _login_then_logout(driver: Any, base: str) -> dict[str, Any]:
    """Blocking browser steps (run in a thread): what each step ended on."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, PAGE_TIMEOUT_S)
    seen: dict[str, Any] = {}
    driver.get(f"{base}/sellers")
    seen["before_login"] = driver.current_url
    driver.find_element(By.NAME, "token").send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(ec.url_contains("/sellers"))
    seen["after_login"] = driver.current_url
    seen["sellers_page"] = "Aeris.uz" in driver.page_source
    seen["cookie"] = driver.get_cookie(SESSION_COOKIE)
    driver.save_screenshot(str(ARTIFACTS / "login-sellers.png"))
    driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait.until(ec.url_contains("/login"))
    seen["after_logout"] = driver.current_url
    seen["cookie_after_logout"] = driver.get_cookie(SESSION_COOKIE)
    # an attacker (or a back-up of the profile) puts the old cookie back
    old = seen["cookie"]
    driver.add_cookie({"name": SESSION_COOKIE, "value": old["value"], "path": "/"})
    driver.get(f"{base}/sellers")
    seen["with_old_cookie"] = driver.current_url
    driver.save_screenshot(str(ARTIFACTS / "login-after-logout.png"))
    return seen


async def test_login_logout_and_the_old_cookie_is_refused(
    browser: Any, web_db: DatabaseConfig
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    cfg = dataclasses.replace(base_config(web={"port": port, "token": TOKEN}), database=web_db)
    pool = await db.create_pool(cfg.database)
    status = static_status()
    runner = await start_site(
        create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None)), cfg
    )
    base = f"http://127.0.0.1:{port}"
    try:
        seen = await asyncio.to_thread(_login_then_logout, browser, base)
        assert "/login?next=" in seen["before_login"]
        assert seen["after_login"] == f"{base}/sellers" and seen["sellers_page"]
        assert seen["cookie"]["httpOnly"] and seen["cookie"]["sameSite"] == "Strict"
        assert seen["after_logout"].startswith(f"{base}/login")
        assert seen["cookie_after_logout"] is None
        assert "/login?next=" in seen["with_old_cookie"]
        # and outside the browser too: the old value is dead on the server
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{base}/api/v1/status",
                headers={"Cookie": f"{SESSION_COOKIE}={seen['cookie']['value']}"},
            ) as resp,
        ):
            assert resp.status == 401
    finally:
        await runner.cleanup()
        await pool.close()
