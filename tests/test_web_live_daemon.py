"""`LiveDaemon`: the daemon-side StatusSource/Controls over real writer, supervisor and pool."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from marketplaced.checkpoint import CheckpointSink, DeadLetter, due_dead_letters
from marketplaced.config import WriterConfig
from marketplaced.simulator.uzex import UzexCatalogue, UzexFaults, UzexSimulator, add_uzex_routes
from marketplaced.supervisor import ServiceState, Supervisor
from marketplaced.web.app import WebDeps, create_app
from marketplaced.web.daemon_interface import ControlError
from marketplaced.web.live_daemon import LiveDaemon
from marketplaced.writer import Writer
from tests.conftest import base_config
from tests.helpers.status import Idle, View
from tests.helpers.uzex import runtime, uzex_config


async def test_status_and_controls_over_live_objects(pool: asyncpg.Pool) -> None:
    supervisor = Supervisor(10, 60)
    supervisor.services["writer"] = ServiceState("writer", restarts=2, running=True)
    writer = Writer(pool, WriterConfig(), [])
    scanner = Idle("uzum.products")
    scanner.stats.found = 7
    view = View(pool, writer, supervisor, scanners={"uzum.products": scanner, "dl": Idle("dl")})
    status = LiveDaemon(view)
    [first, second] = status.scanners()
    assert first.name == "uzum.products" and first.snapshot["found"] == 7
    assert second.blocked_reason is None  # plain stats carry no block
    w = status.writer()
    assert w is not None and w.capacity == WriterConfig().queue_max
    assert w.latency_buckets[-1] == (float("inf"), 0)
    assert [s.restarts for s in status.services()] == [2]
    assert status.hosts() == {} and status.jobs() == [] and status.redis_down_since() is None
    scanner.stats.state, scanner.stats.rate = "scanning", 12.5
    await status.pause_scanner("uzum.products")
    assert scanner.gate.paused
    shown = status.scanners()[0]
    assert (shown.state, shown.snapshot["rate"]) == ("paused", 0.0)
    await status.resume_scanner("uzum.products")
    assert not scanner.gate.paused and status.scanners()[0].state == "scanning"
    with pytest.raises(ControlError, match="no scanner named"):
        await status.pause_scanner("nope")
    with pytest.raises(ControlError, match="scheduler is not running"):
        await status.run_job("analytics")


async def test_retry_makes_dead_letters_due_now(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO dead_letters (scope, entity_id, kind, reason) VALUES "
        "('uzum.product', 1, 'x', 'r'), ('uzum.product', 2, 'x', 'r'), ('uzex.lot', 3, 'x', 'r')"
    )
    failed_at = await pool.fetchval("SELECT max(last_failed_at) FROM dead_letters")
    status = LiveDaemon(View(pool, None, Supervisor(10, 60)))
    assert await status.retry_dead_letters("uzum.product", [2]) == 1
    assert await status.retry_dead_letters("uzum.product", None) == 2
    # due at the next pass although they failed just now; the failure times stay true
    assert sorted(await due_dead_letters(pool, "uzum.product", 3600.0, 10)) == [1, 2]
    assert await due_dead_letters(pool, "uzex.lot", 3600.0, 10) == []
    rows = await pool.fetch(
        "SELECT entity_id, last_failed_at, retry_requested_at FROM dead_letters ORDER BY 1"
    )
    assert all(r["last_failed_at"] == failed_at for r in rows)
    assert [r["retry_requested_at"] is not None for r in rows] == [True, True, False]
    # failing again answers the request: the id waits its interval like any other
    async with pool.acquire() as conn:
        again = {DeadLetter: [DeadLetter("uzum.product", 1, "x", "again")]}
        await CheckpointSink().write(conn, again, datetime.now(UTC))
    assert await due_dead_letters(pool, "uzum.product", 3600.0, 10) == [2]


async def test_a_real_uzex_block_reaches_the_status_page_and_healthz(
    pool: asyncpg.Pool, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    """The auction host answers "Not Valid": the scanner's stats say so, and the dashboard
    built over the live scanner (as in production) shows "blocked by upstream: <reason>"."""
    sim = UzexSimulator(UzexCatalogue(seed=3, n_auction=5, n_shop=3, n_national=1, n_etender=1))
    sim.faults = UzexFaults(auction_not_valid=True)
    upstream = web.Application()
    add_uzex_routes(upstream, sim)
    server = await aiohttp_server(upstream)
    uzex_cfg = uzex_config(str(server.make_url("")).rstrip("/"))
    async with runtime(pool, uzex_cfg) as rt:
        scanner = rt.completed("auction")
        await scanner.run()  # one-shot: stops at the block
    assert scanner.stats.state == "blocked"
    view = View(pool, None, Supervisor(10, 60), scanners={scanner.name: scanner})
    status = LiveDaemon(view)
    [shown] = status.scanners()
    assert shown.blocked_reason == "blocked_by_upstream"
    cfg = base_config().with_section(uzex_cfg)
    client = await aiohttp_client(create_app(WebDeps(pool, cfg, status, status, None)))
    resp = await client.get("/status")
    html = await resp.text()
    assert resp.status == 200, html[:500]
    row = html.split('id="scanners"', 1)[1].split("</table>", 1)[0]
    assert "blocked by upstream: blocked_by_upstream" in row
    health = await (await client.get("/healthz")).json()
    assert f"{scanner.name}: blocked by upstream (blocked_by_upstream)" in health["warnings"]
