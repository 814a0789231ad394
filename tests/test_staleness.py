"""One definition of a stalled scanner: `ScannerStats.stale_s` (seconds without progress while it
should be working) judged against its platform's `max_stale_s` — by /healthz, by the health check
(from the daemon's figures and from Redis) and by the supervisor alike."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from marketplaced.config import DatabaseConfig
from marketplaced.jobs import health
from marketplaced.live_state import LiveState
from marketplaced.platforms.base import ScanDeps, ScannerStats
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.scanner import UzumScanner
from marketplaced.simulator.uzum import UzumCatalogue, UzumSimulator, build_uzum_app
from marketplaced.web.app import WebDeps, create_app
from marketplaced.web.daemon_interface import ScannerStatus, StaticStatus
from tests.helpers.uzum import pipeline, scan_config

from .conftest import base_config


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_stale_counts_only_while_the_scanner_should_be_working() -> None:
    clock = FakeClock()
    st = ScannerStats(clock=clock)
    st.state = "scanning"
    st.tick()
    clock.now += 50
    assert st.stale_s() == 50  # working, no progress for 50 s
    st.state = "idle"  # the cycle ended: the intended pause between cycles
    clock.now += 5000
    assert st.stale_s() == 0 and st.snapshot()["stale_s"] == 0
    st.state = "scanning"  # the next cycle starts; its first id takes a while
    clock.now += 10
    assert st.stale_s() == 10  # counted from the resume, not from the last id of the cycle
    st.set_paused(True)  # the operator's pause, however long, is no stall either
    clock.now += 7200
    assert st.stale_s() == 0
    st.set_paused(False)
    clock.now += 3
    assert st.stale_s() == 3
    st.state = "blocked"  # backing off from an upstream block
    clock.now += 3600
    assert st.stale_s() == 0
    st.state = "scanning"
    st.state = "scanning"  # staying at work does not restart the count
    clock.now += 20
    assert st.stale_s() == 20
    st.tick()
    assert st.stale_s() == 0


def _stats(*, working_for: float, idle_before: float = 0.0) -> ScannerStats:
    """A scanner that made progress, optionally idled `idle_before` s, then worked
    `working_for` s without progress (its own clock left at "now")."""
    clock = FakeClock()
    st = ScannerStats(clock=clock)
    st.state = "scanning"
    st.tick()
    if idle_before:
        st.state = "idle"
        clock.now += idle_before
        st.state = "scanning"
    clock.now += working_for
    return st


async def test_healthz_and_health_check_judge_every_scanner_alike(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    pool: asyncpg.Pool,
    fresh_db: DatabaseConfig,
    redis_client: aioredis.Redis,
) -> None:
    # the defaults: uzum.max_stale_s 300, uzex.max_stale_s 900
    cfg = base_config(database=dataclasses.asdict(fresh_db), health={"min_products_per_hour": 0})
    status = StaticStatus()
    client = await aiohttp_client(create_app(WebDeps(pool, cfg, status, status, None)))
    live = LiveState.of(redis_client, cfg)
    cases: list[tuple[str, ScannerStats, bool]] = [
        ("uzum.products", _stats(working_for=400), True),
        ("uzum.products", _stats(working_for=200), False),
        ("uzum.products", _stats(working_for=0, idle_before=5000), False),
        ("uzum.products", _stats(working_for=100, idle_before=5000), False),
        ("uzum.products", _stats(working_for=310, idle_before=5000), True),
        ("uzex.auction", _stats(working_for=800), False),
        ("uzex.auction", _stats(working_for=1000), True),
    ]
    for name, stats, stalled in cases:
        snapshot = stats.snapshot()
        status.scanner_list = [ScannerStatus(name, snapshot)]
        data = await (await client.get("/healthz")).json()
        by_healthz = any(r.startswith(f"{name}: no progress") for r in data["reasons"])
        # the daemon's own figures, as it hands them to the scheduled check
        in_daemon = await health.run(
            pool, cfg, None, lambda s=stats, n=name: {"scanners": {n: s.stale_s()}}, _now()
        )
        # a CLI run: what the daemon published to Redis a moment ago
        await redis_client.flushdb()
        await live.publish("scanner", name, snapshot)
        from_redis = await health.run(pool, cfg, live, None, _now())
        verdicts = {
            "/healthz": by_healthz,
            "health check": not in_daemon["checks"]["scanners"]["ok"],
            "health check from Redis": not from_redis["checks"]["scanners"]["ok"],
        }
        expected = dict.fromkeys(verdicts, stalled)
        assert verdicts == expected, (name, snapshot["stale_s"])


def _now() -> datetime:
    return datetime.now(UTC)


async def test_a_real_scanner_idle_between_cycles_is_not_stale(
    aiohttp_server: Callable[..., Awaitable[TestServer]], pool: asyncpg.Pool
) -> None:
    sim = UzumSimulator(UzumCatalogue(seed=3, n_ids=300))
    server = await aiohttp_server(build_uzum_app(sim))
    url = str(server.make_url("")).rstrip("/")
    # the pause between cycles is an hour; the scanner's clock is moved past it below
    cfg = scan_config(url, frontier_misses=50, max_id=100_000, cycle_pause_s=3600.0)
    shift = [0.0]
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(cfg.section(UzumConfig), ScanDeps(pool, fetcher, writer))
        stats: Any = scanner.stats
        stats.clock = lambda: time.monotonic() + shift[0]
        task = asyncio.create_task(scanner.run())
        try:
            for _ in range(400):
                if scanner.stats.state == "idle":
                    break
                await asyncio.sleep(0.05)
            assert scanner.stats.state == "idle"
            shift[0] = 3000.0  # fifty minutes into the intended pause
            assert scanner.stats.stale_s() == 0
            assert scanner.stats.snapshot()["stale_s"] == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
