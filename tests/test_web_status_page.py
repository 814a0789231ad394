"""The status page and /healthz as an operator meets them: scanner limits, bad stored values,
PostgreSQL down, pause for every scanner, local times.

Shares the seeded module database and the client factory of test_web_pages.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import socket
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.checkpoint import due_dead_letters
from marketplaced.config import DatabaseConfig
from marketplaced.supervisor import Supervisor
from marketplaced.web.app import WebDeps, create_app
from marketplaced.web.daemon_status import DaemonStatus
from marketplaced.web.status import ScannerStatus, StaticStatus
from marketplaced.web.views.common import CONFIG, POOL
from tests import test_web_pages as pages
from tests.conftest import base_config
from tests.test_web_daemon_status import View
from tests.test_web_pages import ClientFactory

web_db = pages.web_db
make_client = pages.make_client
client = pages.client


def _scanning(name: str, stale_s: float) -> ScannerStatus:
    return ScannerStatus(name, {"state": "scanning", "stale_s": stale_s, "rate": 1.0})


async def test_healthz_judges_each_scanner_by_its_own_platforms_limit(
    make_client: ClientFactory,
) -> None:
    cfg = base_config(uzum={"max_stale_s": 300.0}, uzex={"max_stale_s": 900.0})
    # between the two limits: fine for a UZEX scanner (a page of items takes long), a stall
    # for the Uzum one
    status = StaticStatus(
        scanner_list=[_scanning("uzex.auction.completed", 600.0), _scanning("uzum.products", 1.0)]
    )
    client, _ = await make_client(status=status, cfg=cfg)
    pool = client.app[POOL]
    # the seeded failing health check would fail /healthz whatever the scanners do
    await pool.execute("UPDATE health_checks SET checked_at = checked_at - interval '1 day'")
    try:
        ok = await (await client.get("/healthz")).json()
        status.scanner_list = [
            _scanning("uzex.auction.completed", 1000.0),
            _scanning("uzum.products", 400.0),
        ]
        failing = await client.get("/healthz")
        body = await failing.json()
    finally:
        await pool.execute("UPDATE health_checks SET checked_at = checked_at + interval '1 day'")
    assert ok["reasons"] == [], ok
    assert failing.status == 503
    assert body["reasons"] == [
        "uzex.auction.completed: no progress for 1000 s",
        "uzum.products: no progress for 400 s",
    ]


# -- dead-letter retry and stored infinities (items: retry writes no made-up time) -------------


async def _daemon_client(make_client: ClientFactory, aiohttp_client: Any) -> TestClient:
    """The dashboard over the production `DaemonStatus` (the retry control writes the table)."""
    seeded, _ = await make_client()
    pool = seeded.app[POOL]
    status = DaemonStatus(View(pool, None, Supervisor(10, 60)))
    cfg = seeded.app[CONFIG]
    return cast(
        TestClient, await aiohttp_client(create_app(WebDeps(pool, cfg, status, status, None)))
    )


async def _get(client: TestClient, url: str, status: int = 200) -> str:
    resp = await client.get(url)
    text = await resp.text()
    assert resp.status == status, f"{url}: {resp.status} {text[:800]}"
    return text


async def test_retry_all_keeps_pages_api_and_csv_truthful(
    make_client: ClientFactory, aiohttp_client: Any
) -> None:
    client = await _daemon_client(make_client, aiohttp_client)
    pool = client.app[POOL]
    before = {
        r["entity_id"]: r["last_failed_at"]
        for r in await pool.fetch("SELECT entity_id, last_failed_at FROM dead_letters")
    }
    token = pages.csrf_of(await _get(client, "/status"))
    resp = await client.post(
        "/status/dead-letters/retry", data={"csrf": token, "scope": "uzum.product"}
    )
    assert "2 dead letter(s) of uzum.product scheduled for a retry" in await resp.text()
    html = await _get(client, "/status")
    assert html.count("1 retry requested") == 2  # one id of each kind
    listing = await _get(client, "/status/dead-letters?limit=1")
    assert "Retry requested" in listing and "next page" in listing
    api = json.loads(await _get(client, "/api/v1/dead-letters"))
    for item in api["items"]:
        # the real time of the last failure, with its offset, and the request beside it
        assert datetime.fromisoformat(item["last_failed_at"]) == before[item["entity_id"]]
        assert item["last_failed_at"].endswith("+00:00")
        assert datetime.fromisoformat(item["retry_requested_at"]).tzinfo is not None
    rows = list(csv.DictReader(io.StringIO((await _get(client, "/status/dead-letters.csv"))[1:])))
    assert {datetime.fromisoformat(r["Last failed"]) for r in rows} == set(before.values())
    assert all(r["Last failed"].endswith("+00:00") for r in rows)
    # the scanner's next pass takes them although they failed moments ago
    assert set(await due_dead_letters(pool, "uzum.product", 3600.0, 10)) == set(before)


async def test_a_stored_infinity_never_breaks_a_page_the_api_or_the_csv(
    make_client: ClientFactory,
) -> None:
    client, _ = await make_client()
    pool = client.app[POOL]
    await pool.execute(
        "INSERT INTO dead_letters (scope, entity_id, kind, reason, last_failed_at) VALUES "
        "('uzex.shop.items', 1, 'x', 'old retry mark', '-infinity'), "
        "('uzex.shop.items', 2, 'x', 'far future', 'infinity')"
    )
    try:
        await _get(client, "/status")
        seen: list[int] = []
        url = "/api/v1/dead-letters?scope=uzex.shop.items&limit=1"
        while url:  # keyset paging passes over both infinities
            data = json.loads(await _get(client, url))
            seen += [i["entity_id"] for i in data["items"]]
            assert all(i["last_failed_at"] is None for i in data["items"])
            cursor = data["next_cursor"]
            url = (
                f"/api/v1/dead-letters?scope=uzex.shop.items&limit=1&cursor={cursor}"
                if cursor
                else ""
            )
        assert seen == [2, 1]
        html = await _get(client, "/status/dead-letters?scope=uzex.shop.items")
        assert "old retry mark" in html and "0001" not in html and "9999" not in html
        text = await _get(client, "/status/dead-letters.csv?scope=uzex.shop.items")
        rows = list(csv.DictReader(io.StringIO(text[1:])))
        assert [r["Last failed"] for r in rows] == ["", ""]
    finally:
        await pool.execute("DELETE FROM dead_letters WHERE scope = 'uzex.shop.items'")


async def test_migration_turns_old_retry_marks_into_requests(empty_db: DatabaseConfig) -> None:
    conn = await db.connect(empty_db)
    try:
        files = db.migrations()
        ours = next(m for m in files if m.path.name.endswith("_dead_letter_retry.sql"))
        for mig in files[: files.index(ours)]:
            await conn.execute(mig.path.read_text())
        await conn.execute(
            "INSERT INTO dead_letters (scope, entity_id, kind, reason, first_failed_at, "
            "last_failed_at) VALUES ('uzum.product', 1, 'x', 'r', '2026-01-02 03:04+00', "
            "'-infinity'), ('uzum.product', 2, 'x', 'r', now(), now())"
        )
        await conn.execute(ours.path.read_text())
        rows = await conn.fetch(
            "SELECT entity_id, last_failed_at, retry_requested_at FROM dead_letters ORDER BY 1"
        )
    finally:
        await conn.close()
    assert rows[0]["last_failed_at"] == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert rows[0]["retry_requested_at"] is not None
    assert rows[1]["retry_requested_at"] is None


# -- PostgreSQL down, uncaught errors ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _client_on(aiohttp_client: Any, db_cfg: DatabaseConfig) -> tuple[TestClient, Any]:
    """The dashboard over a pool of `db_cfg` that connects lazily (as after a PG restart)."""
    pool = await asyncpg.create_pool(**db.connect_kwargs(db_cfg), min_size=0, max_size=2)
    cfg = dataclasses.replace(base_config(), database=db_cfg)
    source = pages.static_status()
    app = create_app(WebDeps(pool, cfg, source, source, None))
    return cast(TestClient, await aiohttp_client(app)), pool


async def test_status_page_works_while_postgresql_is_unreachable(aiohttp_client: Any) -> None:
    down = dataclasses.replace(base_config().database, port=_free_port())  # nothing listens
    client, pool = await _client_on(aiohttp_client, down)
    try:
        html = await _get(client, "/status")
        banner = html.split('id="db-unreachable"', 1)[1].split("</p>", 1)[0]
        assert "Database unreachable" in banner
        # what the process itself knows is all there
        assert "uzum.products" in html and "120 / 20 000" in html and "api.uzum.uz" in html
        assert "unknown while the database is unreachable" in html
        page = await _get(client, "/products", 503)
        assert 'id="error-message"' in page and "The database is unreachable" in page
        assert "<footer>" in page  # the styled page, not aiohttp's bare text
        api = await client.get("/api/v1/products")
        assert api.status == 503 and "unreachable" in (await api.json())["error"]
    finally:
        await pool.close()


async def test_an_uncaught_error_renders_the_styled_error_page(
    aiohttp_client: Any, empty_db: DatabaseConfig
) -> None:
    # a database without the schema: every list query fails with an undefined table
    client, pool = await _client_on(aiohttp_client, empty_db)
    try:
        html = await _get(client, "/sellers", 500)
        assert 'id="error-message"' in html and "Internal error (UndefinedTableError)" in html
        assert "<footer>" in html and "relation" not in html  # no SQL details to the browser
        api = await client.get("/api/v1/sellers")
        assert api.status == 500
        assert (await api.json()) == {
            "error": "Internal error (UndefinedTableError); the daemon's log has the details."
        }
    finally:
        await pool.close()
