"""`marketplaced demo` as a newcomer runs it: within a minute the dashboard shows scanners
running, products, sellers, price history and alerts; Ctrl-C stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from marketplaced import db
from marketplaced.errors import DatabaseError

from .browser_helpers import visit
from .conftest import _drop, base_config, env_for_tests

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def test_demo_fills_the_dashboard_within_a_minute(tmp_path: Path, browser: Any) -> None:
    name = f"mp_demo_{uuid.uuid4().hex[:8]}"
    port = _free_port()
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
        while time.monotonic() - started < 60:
            time.sleep(2)
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            try:
                figures = asyncio.run(_figures(name))
            except (DatabaseError, asyncpg.PostgresError):
                continue  # the demo database is still being created or migrated
            if all(figures.values()):
                break
        assert all(figures.values()), figures  # every kind of data within the minute
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
        assert "price" in product["paths"]
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
        asyncio.run(_drop(name))
