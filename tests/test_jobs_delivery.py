"""Delivery channel by channel through Apprise `json://` to a real loopback HTTP receiver: a
hanging channel costs only itself (own time limit, circuit), and a run cancelled mid-delivery
re-sends nothing a channel already got."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from marketplaced.jobs import alerts, delivery
from marketplaced.jobs.notify import AppriseNotifier
from tests.conftest import base_config

pytestmark = pytest.mark.timeout(60)

ServerFactory = Callable[..., Awaitable[TestServer]]


class Receiver:
    """A loopback webhook. `calls[name]` counts requests as they arrive; `got[name]` keeps the
    bodies answered 200. A path in `hang` never answers (503 once the test ends); a path in
    `hold` waits for `release` and then answers 200."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.got: dict[str, list[dict[str, Any]]] = {}
        self.hang: set[str] = set()
        self.hold: set[str] = set()
        self.release = asyncio.Event()
        self.closing = asyncio.Event()
        self.changed = asyncio.Condition()

    async def until(self, check: Callable[[], bool]) -> None:
        async with self.changed:
            await self.changed.wait_for(check)

    async def _tell(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.calls[name] = self.calls.get(name, 0) + 1
        await self._tell()
        body = await request.json()
        if name in self.hang:
            await self.closing.wait()
            return web.Response(status=503)
        if name in self.hold:
            await self.release.wait()
        self.got.setdefault(name, []).append(body)
        await self._tell()
        return web.json_response({"ok": True})

    def titles(self, name: str) -> list[str]:
        return [b["title"] for b in self.got.get(name, [])]


@pytest.fixture
async def receiver(aiohttp_server: ServerFactory) -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{name}", rec.handle)
    server = await aiohttp_server(app)
    yield rec, f"json://127.0.0.1:{server.port}"
    rec.closing.set()
    rec.release.set()


async def add_events(pool: asyncpg.Pool, n: int, status: str = "pending") -> list[int]:
    ids = []
    for i in range(n):
        ids.append(
            await pool.fetchval(
                "INSERT INTO alert_events (kind, item, observed_at, title, message, status)"
                " VALUES ('price_drop', $1, now(), $2, $3, $4) RETURNING id",
                f"product:{i}",
                f"Price drop: item {i}",
                f"item {i}\n100 so'm → 80 so'm",
                status,
            )
        )
    return ids


def settings() -> alerts.AlertSettings:
    return alerts.AlertSettings.from_config(dataclasses.replace(base_config().alerts), UTC)


async def statuses(pool: asyncpg.Pool) -> list[str]:
    return [r["status"] for r in await pool.fetch("SELECT status FROM alert_events ORDER BY id")]


async def test_a_hanging_channel_does_not_starve_the_healthy_one(
    pool: asyncpg.Pool, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    rec.hang = {"hang"}
    await add_events(pool, 4)
    n = AppriseNotifier(
        [f"{url}/good", f"{url}/hang"],
        attempts=1,
        backoff_s=0.01,
        timeout_s=3,
        circuit_failures=2,
        circuit_cooldown_s=600,
    )
    s, now = settings(), datetime.now(UTC)
    run = asyncio.create_task(delivery.deliver(pool, n, s, now))
    # before the hanging channel has even given up on its first message, the good one has all
    await rec.until(lambda: len(rec.got.get("good", [])) == 4 or rec.calls.get("hang", 0) >= 2)
    assert (len(rec.got["good"]), rec.calls["hang"]) == (4, 1)
    assert await run == 0  # none has reached every channel
    # two failures in a row open the circuit: the last two events were not even tried
    assert rec.calls["hang"] == 2
    assert await statuses(pool) == ["failed"] * 4
    failed = await pool.fetch("SELECT error FROM alert_deliveries WHERE status = 'failed'")
    assert len(failed) == 2 and all("no answer within 3 s" in r["error"] for r in failed)

    # the next run, within the cool-down: the hanging channel is skipped, good gets no repeats
    assert await delivery.deliver(pool, n, s, now + timedelta(minutes=1)) == 0
    assert (len(rec.got["good"]), rec.calls["hang"]) == (4, 2)

    # after the cool-down the channel is probed again; it is back, and gets what it missed
    rec.hang = set()
    assert await delivery.deliver(pool, n, s, now + timedelta(minutes=11)) == 4
    assert len(rec.got["hang"]) == 4 and len(rec.got["good"]) == 4
    assert await statuses(pool) == ["sent"] * 4


async def test_a_run_cancelled_mid_delivery_resends_nothing(
    pool: asyncpg.Pool, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    rec.hold = {"slow"}
    await add_events(pool, 3)
    n = AppriseNotifier([f"{url}/good", f"{url}/slow"], attempts=1, backoff_s=0.01, timeout_s=20)
    s, now = settings(), datetime.now(UTC)
    run = asyncio.create_task(delivery.deliver(pool, n, s, now))
    await rec.until(lambda: bool(rec.got.get("good")) and rec.calls.get("slow", 0) >= 1)
    run.cancel()  # the job's budget ran out, or the daemon stops
    with contextlib.suppress(asyncio.CancelledError):
        await run
    rec.release.set()  # the message in flight to the slow channel arrives after all
    rec.hold = set()
    await delivery.deliver(pool, n, s, now + timedelta(minutes=15))
    expected = [f"Price drop: item {i}" for i in range(3)]
    assert sorted(rec.titles("good")) == expected
    assert sorted(rec.titles("slow")) == expected
    assert await statuses(pool) == ["sent"] * 3
    # every arrival is on record, once per event and channel
    sent = await pool.fetch(
        "SELECT channel, unnest(event_ids) AS id FROM alert_deliveries WHERE status = 'sent'"
    )
    assert len(sent) == 6 and len({(r["channel"], r["id"]) for r in sent}) == 6
