"""A service that keeps crashing shows as a crash loop: in the supervisor's state, on /healthz,
on the status page and in `marketplaced status` — not behind a scanner that says "scanning"."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from marketplaced import supervisor as sup
from marketplaced.cli import cmd_status
from marketplaced.config import DatabaseConfig
from marketplaced.daemon import Daemon
from marketplaced.live_state import LiveState
from marketplaced.supervisor import Supervisor
from marketplaced.web.daemon_interface import service_status
from tests.helpers.web import ClientFactory, static_status

from .conftest import base_config


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sup, "BACKOFF_FIRST_S", 0.01)


def crashing(times: int) -> Callable[[], asyncio.Future[None] | object]:
    """A service that raises `times` times, then runs quietly."""
    calls = 0

    async def run() -> None:
        nonlocal calls
        calls += 1
        if calls <= times:
            raise RecursionError("maximum recursion depth exceeded while decoding")
        await asyncio.Event().wait()

    return run


async def crash_loop_of(s: Supervisor, name: str, times: int) -> asyncio.Task[None]:
    task = asyncio.create_task(s.supervise(name, crashing(times)))  # type: ignore[arg-type]
    for _ in range(500):
        if name in s.services and s.services[name].recent_crashes() >= times:
            return task
        await asyncio.sleep(0.01)
    raise AssertionError(f"{name} did not crash {times} times")


async def test_supervisor_reports_a_crash_loop_until_the_crashes_age_out() -> None:
    s = Supervisor(budget=50, window_s=0.5)
    task = await crash_loop_of(s, "uzum.products", sup.CRASH_LOOP_CRASHES)
    try:
        state = s.services["uzum.products"]
        assert state.crash_loop and state.recent_crashes() == sup.CRASH_LOOP_CRASHES
        assert not s.failed.is_set()
        await asyncio.sleep(0.6)  # running fine for a whole window: no longer a loop
        assert not state.crash_loop and state.running
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_two_crashes_are_no_crash_loop() -> None:
    s = Supervisor(budget=50, window_s=60)
    task = await crash_loop_of(s, "writer", 2)
    try:
        await asyncio.sleep(0.05)
        assert not s.services["writer"].crash_loop
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_crash_loop_fails_healthz_and_shows_on_the_status_page(
    make_client: ClientFactory,
) -> None:
    s = Supervisor(budget=50, window_s=60)
    task = await crash_loop_of(s, "uzum.products", sup.CRASH_LOOP_CRASHES)
    try:
        status = static_status()
        status.service_list = [service_status(st) for st in s.services.values()]
        client, _ = await make_client(status=status)
        resp = await client.get("/healthz")
        data = await resp.json()
        assert resp.status == 503
        loops = [r for r in data["reasons"] if "crash loop" in r]
        assert len(loops) == 1 and loops[0].startswith("uzum.products: crash loop (3 crashes")
        assert "RecursionError" in loops[0]
        html = await (await client.get("/status")).text()
        assert "crash loop (3 crashes)" in html
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_crash_loop_shows_in_marketplaced_status(
    fresh_db: DatabaseConfig,
    redis_client: aioredis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = base_config(database=dataclasses.asdict(fresh_db))
    daemon = Daemon(cfg)
    daemon.live = LiveState.of(redis_client, cfg)
    task = await crash_loop_of(daemon.supervisor, "uzum.products", sup.CRASH_LOOP_CRASHES)
    try:
        await daemon.publish_status()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "uzum.products CRASH LOOP" in daemon._status_line()
    await asyncio.to_thread(cmd_status, cfg, argparse.Namespace(json=False))
    out = capsys.readouterr().out
    assert "CRASH LOOP uzum.products: 3 crashes, restarting; last error: RecursionError" in out
