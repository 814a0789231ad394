"""The status page and /healthz as an operator meets them: scanner limits, bad stored values,
PostgreSQL down, pause for every scanner, local times.

Shares the seeded module database and the client factory of tests/helpers/web.py.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from marketplaced import db, platforms
from marketplaced.checkpoint import due_dead_letters
from marketplaced.config import DatabaseConfig
from marketplaced.errors import ConfigError
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex.completed import CompletedScanner
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.simulator.uzex import UzexCatalogue, UzexSimulator, add_uzex_routes
from marketplaced.simulator.uzum import UzumCatalogue, UzumSimulator, add_uzum_routes
from marketplaced.supervisor import Supervisor
from marketplaced.web import listing
from marketplaced.web.app import WebDeps, create_app
from marketplaced.web.charts import Series, line_chart
from marketplaced.web.daemon_interface import ScannerStatus, StaticStatus
from marketplaced.web.live_daemon import LiveDaemon
from marketplaced.web.views import status_page
from marketplaced.web.views.common import CONFIG, POOL
from marketplaced.writer import Writer
from tests.conftest import base_config
from tests.helpers import web as pages
from tests.helpers.net import free_port
from tests.helpers.status import LATE_UTC, View
from tests.helpers.uzex import runtime, until, uzex_config
from tests.helpers.uzum import pipeline, scan_config
from tests.helpers.web import ClientFactory


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
    """The dashboard over the production `LiveDaemon` (the retry control writes the table)."""
    seeded, _ = await make_client()
    pool = seeded.app[POOL]
    status = LiveDaemon(View(pool, None, Supervisor(10, 60)))
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
        for r in await pool.fetch(
            "SELECT entity_id, last_failed_at FROM dead_letters WHERE scope = 'uzum.product'"
        )
    }
    token = pages.csrf_of(await _get(client, "/status"))
    resp = await client.post(
        "/status/dead-letters/retry", data={"csrf": token, "scope": "uzum.product"}
    )
    assert "2 dead letter(s) of uzum.product scheduled for a retry" in await resp.text()
    html = await _get(client, "/status")
    assert html.count("1 retry requested") == 2  # one id of each kind
    listing = await _get(client, "/status/dead-letters?scope=uzum.product&limit=1")
    assert "Retry requested" in listing and "next page" in listing
    api = json.loads(await _get(client, "/api/v1/dead-letters?scope=uzum.product"))
    for item in api["items"]:
        # the real time of the last failure, with its offset, and the request beside it
        assert datetime.fromisoformat(item["last_failed_at"]) == before[item["entity_id"]]
        assert item["last_failed_at"].endswith("+00:00")
        assert datetime.fromisoformat(item["retry_requested_at"]).tzinfo is not None
    rows = list(
        csv.DictReader(
            io.StringIO((await _get(client, "/status/dead-letters.csv?scope=uzum.product"))[1:])
        )
    )
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


async def _client_on(aiohttp_client: Any, db_cfg: DatabaseConfig) -> tuple[TestClient, Any]:
    """The dashboard over a pool of `db_cfg` that connects lazily (as after a PG restart)."""
    pool = await asyncpg.create_pool(**db.connect_kwargs(db_cfg), min_size=0, max_size=2)
    cfg = dataclasses.replace(base_config(), database=db_cfg)
    source = pages.static_status()
    app = create_app(WebDeps(pool, cfg, source, source, None))
    return cast(TestClient, await aiohttp_client(app)), pool


async def test_status_page_works_while_postgresql_is_unreachable(aiohttp_client: Any) -> None:
    down = dataclasses.replace(base_config().database, port=free_port())  # nothing listens
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
        export = await client.get("/products.csv")  # no 200 that breaks off after the header
        assert export.status == 503 and "unreachable" in (await export.json())["error"]
    finally:
        await pool.close()


async def test_status_page_answers_while_postgresql_hangs(
    aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts connections and never answers (a network partition)."""
    held: list[asyncio.StreamWriter] = []

    async def black_hole(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    hole = await asyncio.start_server(black_hole, "127.0.0.1", 0)
    port = hole.sockets[0].getsockname()[1]
    monkeypatch.setattr(status_page, "DB_READ_TIMEOUT_S", 0.5)  # the page's own budget
    client, pool = await _client_on(
        aiohttp_client, dataclasses.replace(base_config().database, port=port)
    )
    try:
        html = await _get(client, "/status")
        banner = html.split('id="db-unreachable"', 1)[1].split("</p>", 1)[0]
        assert "no answer within 0.5 s" in banner and "uzum.products" in html
    finally:
        pool.terminate()
        for w in held:
            w.close()
        hole.close()
        await hole.wait_closed()


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


# -- pause for every scanner ----------------------------------------------------------------------


def _scanner_rows(html: str) -> dict[str, str]:
    body = html.split('id="scanners"', 1)[1].split("</table>", 1)[0]
    rows = body.split("<tr>")[2:]  # past the header row
    return {row.split("<td>", 1)[1].split("</td>", 1)[0]: row for row in rows}


async def test_every_scanner_the_daemon_runs_pauses_from_the_status_page(
    make_client: ClientFactory, aiohttp_client: Any
) -> None:
    seeded, _ = await make_client()
    pool, cfg = seeded.app[POOL], seeded.app[CONFIG]
    writer = Writer(pool, cfg.writer, platforms.sinks())
    async with platforms.new_fetcher(cfg) as fetcher:
        built = platforms.build_scanners(cfg, pool=pool, fetcher=fetcher, writer=writer)
        scanners = {s.name: s for s in built}
        assert {n.split(".")[0] for n in scanners} == {"uzum", "uzex"} and len(scanners) > 2
        for s in built:
            s.stats.state, s.stats.rate = "scanning", 3.0
        status = LiveDaemon(View(pool, writer, Supervisor(10, 60), scanners=scanners))
        app = create_app(WebDeps(pool, cfg, status, status, None))
        client = cast(TestClient, await aiohttp_client(app))
        html = await _get(client, "/status")
        token = pages.csrf_of(html)
        for name, row in _scanner_rows(html).items():
            assert f"/status/scanners/{name}/pause" in row and "3.0" in row
            resp = await client.post(
                f"/status/scanners/{name}/pause", data={"csrf": token}, allow_redirects=False
            )
            assert resp.status == 303, name
            assert resp.headers["Location"].startswith("/status?msg="), resp.headers["Location"]
        rows = _scanner_rows(await _get(client, "/status"))
        assert set(rows) == set(scanners)
        for name, row in rows.items():
            assert "state-paused" in row and f"/status/scanners/{name}/resume" in row, name
            assert '<td class="int">0.0</td>' in row, name  # a paused scanner does 0 ids/s
        assert all(s.gate.paused for s in built)


async def test_a_paused_uzex_scanner_sends_nothing_until_resumed(
    pool: asyncpg.Pool, aiohttp_server: Any
) -> None:
    sim = UzexSimulator(UzexCatalogue(seed=5, n_auction=25, n_shop=1, n_national=1, n_etender=1))
    seen: list[str] = []
    scanner: CompletedScanner | None = None

    @web.middleware
    async def pause_at_first_request(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)
        if len(seen) == 1:
            assert scanner is not None
            scanner.pause()  # the operator presses Pause while the first page is on its way
        response: web.StreamResponse = await handler(request)
        return response

    upstream = web.Application(middlewares=[pause_at_first_request])
    add_uzex_routes(upstream, sim)
    server = await aiohttp_server(upstream)
    async with runtime(pool, uzex_config(str(server.make_url("")).rstrip("/"))) as rt:
        scanner = rt.completed("auction")
        task = asyncio.create_task(scanner.run())
        await until(lambda: scanner is not None and scanner.gate.waiting > 0)
        # the lots of the first page wait for their items at the gate: nothing left after it
        assert len(seen) == 1 and scanner.stats.snapshot()["state"] == "paused"
        scanner.unpause()
        await task
    assert scanner.stats.snapshot()["state"] == "done"
    assert await pool.fetchval("SELECT count(*) FROM uzex_lots WHERE lot_type = 'auction'") == 25


async def test_a_paused_uzum_scanner_holds_every_worker_and_loses_no_id(
    pool: asyncpg.Pool, aiohttp_server: Any
) -> None:
    sim = UzumSimulator(UzumCatalogue(seed=7, n_ids=300))
    seen: list[str] = []
    scanner: UzumScanner | None = None

    @web.middleware
    async def pause_at_tenth(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)
        if len(seen) == 10:
            assert scanner is not None
            scanner.pause()
        response: web.StreamResponse = await handler(request)
        return response

    upstream = web.Application(middlewares=[pause_at_tenth])
    add_uzum_routes(upstream, sim)
    server = await aiohttp_server(upstream)
    cfg = scan_config(str(server.make_url("")).rstrip("/"), concurrency=4)
    async with pipeline(cfg, pool) as (fetcher, writer):
        plan = ScanPlan(start_id=1, stop_id=300, continuous=False)
        scanner = UzumScanner(cfg.section(UzumConfig), ScanDeps(pool, fetcher, writer), plan=plan)
        task = asyncio.create_task(scanner.run())
        await until(lambda: scanner is not None and scanner.gate.waiting == 4)
        held = len(seen)
        assert held < 300 and scanner.stats.snapshot()["state"] == "paused"
        scanner.unpause()
        await task
    # the pause neither skipped nor repeated an id: each was asked and finished exactly once
    # (an answer the fetcher retries, such as an empty body, is asked again within that id)
    assert set(seen) == {f"/api/v2/product/{i}" for i in range(1, 301)}
    assert scanner.stats.done == 300


# -- local times ----------------------------------------------------------------------------------


async def _with_late_dead_letter(client: TestClient) -> None:
    await client.app[POOL].execute(
        "INSERT INTO dead_letters (scope, entity_id, kind, reason, first_failed_at, "
        "last_failed_at) VALUES ('uzex.tz.items', 9, 'x', 'late', $1, $1) "
        "ON CONFLICT DO NOTHING",
        LATE_UTC,
    )


async def test_pages_show_tashkent_time_named_and_the_api_keeps_the_offset(
    make_client: ClientFactory,
) -> None:
    client, _ = await make_client()
    await _with_late_dead_letter(client)
    html = await _get(client, "/status/dead-letters?scope=uzex.tz.items")
    assert "times in Asia/Tashkent (UTC+05:00)" in html.split("</header>", 1)[0]
    cell = '<time datetime="2026-03-02T03:30:00+05:00" title="2026-03-01 22:30 UTC">'
    assert cell + "2026-03-02 03:30</time>" in html
    api = json.loads(await _get(client, "/api/v1/dead-letters?scope=uzex.tz.items"))
    assert api["items"][0]["last_failed_at"] == "2026-03-01T22:30:00+00:00"
    text = await _get(client, "/status/dead-letters.csv?scope=uzex.tz.items")
    assert "2026-03-01T22:30:00+00:00" in text


async def test_the_zone_is_configurable(make_client: ClientFactory) -> None:
    client, _ = await make_client(cfg=base_config(web={"timezone": "UTC"}))
    await _with_late_dead_letter(client)
    html = await _get(client, "/status/dead-letters?scope=uzex.tz.items")
    assert "times in UTC<" in html and ">2026-03-01 22:30</time>" in html


def test_a_bad_zone_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "marketplaced.toml"
    path.write_text('[web]\ntimezone = "Asia/Samarkand-ish"\n')
    with pytest.raises(ConfigError, match=r"'web.timezone' = 'Asia/Samarkand-ish' is not a known"):
        platforms.load_config({}, path)


def test_chart_time_axis_is_labelled_in_the_zone() -> None:
    start = LATE_UTC.timestamp()
    points = [(start, 1.0), (start + 3600, 2.0)]
    tashkent = line_chart(
        [Series("x", points)],
        title="t",
        tz=ZoneInfo("Asia/Tashkent"),
        start=start,
        end=start + 3600,
    )
    utc = line_chart([Series("x", points)], title="t", tz=UTC, start=start, end=start + 3600)
    assert ">03:30<" in tashkent and ">03:30<" not in utc and ">22:30<" in utc


async def test_a_csv_larger_than_one_fetch_is_complete(make_client: ClientFactory) -> None:
    client, _ = await make_client()
    pool = client.app[POOL]
    n = listing.CSV_PREFETCH * 2 + 17  # three fetches of the export cursor, the last partial
    await pool.execute(
        "INSERT INTO dead_letters (scope, entity_id, kind, reason) "
        "SELECT 'uzum.bulk', i, 'x', 'r' FROM generate_series(1, $1) AS i",
        n,
    )
    try:
        text = await _get(client, f"/status/dead-letters.csv?scope=uzum.bulk&limit={n + 10}")
    finally:
        await pool.execute("DELETE FROM dead_letters WHERE scope = 'uzum.bulk'")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert sorted(int(r["ID"]) for r in rows) == list(range(1, n + 1))
