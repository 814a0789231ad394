"""Headless Chromium through chromedriver for the dashboard tests (fixture `browser` in
conftest.py): page visits that read what rendered and save screenshots under tests/artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
#: a page that has not rendered in 20 s is broken, not slow
PAGE_TIMEOUT_S = 20


def missing() -> str | None:
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


def _console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def visit(driver: Any, url: str, shot: str) -> dict[str, Any]:
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
