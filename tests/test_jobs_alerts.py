"""Alerts end to end: simulated scans → rules → events → Apprise `json://` → a real HTTP
receiver on loopback, whose received payloads are checked."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from marketplaced.jobs import alerts, delivery
from marketplaced.jobs.notify import AppriseNotifier
from marketplaced.jobs.rules import parse_rules
from tests.conftest import base_config
from tests.helpers.jobs import SimDriver

pytestmark = pytest.mark.timeout(60)

ServerFactory = Callable[..., Awaitable[TestServer]]


class Receiver:
    """A loopback webhook: JSON bodies per path name; `fail[name]` answers 500 that often."""

    def __init__(self) -> None:
        self.got: dict[str, list[dict[str, Any]]] = {}
        self.fail: dict[str, int] = {}

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if self.fail.get(name, 0) != 0:
            self.fail[name] -= 1
            return web.Response(status=500, text="down")
        self.got.setdefault(name, []).append(await request.json())
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver(aiohttp_server: ServerFactory) -> tuple[Receiver, str]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{name}", rec.handle)
    server = await aiohttp_server(app)
    return rec, f"json://127.0.0.1:{server.port}"


def settings(**changes: Any) -> alerts.AlertSettings:
    cfg = dataclasses.replace(base_config().alerts, **changes)
    return alerts.AlertSettings.from_config(cfg, UTC)


def notifier(*urls: str) -> AppriseNotifier:
    # tiny backoff: the retry logic is under test, not the wait
    return AppriseNotifier(list(urls), attempts=2, backoff_s=0.01, timeout_s=5)


def set_price(sku_index: int, price: int, full: int | None = None) -> Callable[..., Any]:
    def edit(_pid: int, payload: dict[str, Any]) -> dict[str, Any]:
        sku = payload["payload"]["data"]["skuList"][sku_index]
        sku["purchasePrice"] = price
        sku["fullPrice"] = max(price, sku["fullPrice"]) if full is None else full
        return payload

    return edit


def only(pids: set[int], edit: Callable[..., Any]) -> Callable[..., Any]:
    return lambda pid, payload: edit(pid, payload) if pid in pids else payload


def in_stock(drv: SimDriver) -> list[int]:
    """Products with stock on every SKU at tick 0 (the simulator also has sold-out ones)."""
    return [i for i in drv.ids if all(k.available_amount for k in drv.expected(i, 0).skus)]


async def rules(pool: asyncpg.Pool, text: str) -> None:
    await alerts.sync_config_rules(pool, parse_rules(text))


async def events(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM alert_events ORDER BY id")


async def scanned_through(pool: asyncpg.Pool) -> None:
    """The Uzum scanner finished its first pass: products seen from now on are new ones."""
    await pool.execute("INSERT INTO scan_cursors (scanner, cycle) VALUES ('uzum.products', 2)")


@pytest.fixture
def base() -> datetime:
    # recent real time: partitions exist and the redelivery window (real created_at) applies
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)


async def test_one_drop_one_notification_rearm_and_no_alert_from_bad_scans(
    pool: asyncpg.Pool, receiver: tuple[Receiver, str], base: datetime
) -> None:
    rec, url = receiver
    drv = SimDriver(pool, seed=5, n_ids=40, day0=base.date())
    p, p2, p3 = in_stock(drv)[:3]
    price = drv.expected(p, 0).skus[0].purchase_price
    cheaper = price * 8 // 10
    await rules(
        pool,
        f"price_drop product:{p} pct=10 rearm_h=6; out_of_stock product:{p2}; "
        f"out_of_stock product:{p3}",
    )
    s, n = settings(), notifier(f"{url}/hook")

    async def scan(at: timedelta, edit: Callable[..., Any] | None = None) -> list[int]:
        await drv.scan(0, at=base + at, edit=edit)  # time stands still: only edits change
        created = await alerts.evaluate(pool, s, base + at + timedelta(minutes=2))
        await delivery.deliver(pool, n, s, base + at + timedelta(minutes=2))
        return created

    assert await scan(timedelta()) == []  # first sightings are not changes
    drop = only({p}, set_price(0, cheaper))
    assert len(await scan(timedelta(hours=1), drop)) == 1
    assert len(rec.got["hook"]) == 1
    body = rec.got["hook"][0]
    title = drv.expected(p, 0).title
    assert body["type"] == "info" and body["title"].startswith("Price drop: ")
    assert title[:40] in body["title"]
    assert f"{price:,}".replace(",", " ") in body["message"]
    assert f"{cheaper:,}".replace(",", " ") in body["message"] and "-20.0 %" in body["message"]
    assert f"https://uzum.uz/product/{p}" in body["message"]
    # the same price seen again and again: no new history row, no new alert
    for hours in (2, 3):
        assert await scan(timedelta(hours=hours), drop) == []

    # a failed request (nothing stored) and a payload the parser rejects: no alert
    def fail_p(pid: int, payload: dict[str, Any]) -> dict[str, Any] | None:
        if pid == p:
            return None
        return payload

    def broken_p(pid: int, payload: dict[str, Any]) -> dict[str, Any]:
        if pid == p:
            payload["payload"]["data"]["skuList"] = "oops"
        return payload

    assert await scan(timedelta(hours=3, minutes=20), fail_p) == []
    assert await scan(timedelta(hours=3, minutes=40), broken_p) == []
    assert await pool.fetchval("SELECT count(*) FROM parse_failures") == 1

    # partial payload for p2 (SKU list and total gone): missing data is not "out of stock";
    # p3 really sold out (every SKU at 0): that one fires
    def partial_and_sold_out(pid: int, payload: dict[str, Any]) -> dict[str, Any]:
        data = payload["payload"]["data"]
        if pid == p2:
            data["skuList"], data["totalAvailableAmount"] = [], 0
        if pid == p3:
            for sku in data["skuList"]:
                sku["availableAmount"] = 0
            data["totalAvailableAmount"] = 0
        return drop(pid, payload)

    fired = await scan(timedelta(hours=4), partial_and_sold_out)
    assert [e["item"] for e in await events(pool) if e["id"] in fired] == [f"product:{p3}"]

    # re-arm: back up, down again within 6 h of the first alert → nothing; after 6 h → again
    assert await scan(timedelta(hours=5)) == []
    assert await scan(timedelta(hours=6), drop) == []
    assert await scan(timedelta(hours=7, minutes=30)) == []
    assert len(await scan(timedelta(hours=8), drop)) == 1
    kinds = [(e["kind"], e["item"], e["status"]) for e in await events(pool)]
    assert kinds == [
        ("price_drop", f"product:{p}", "sent"),
        ("out_of_stock", f"product:{p3}", "sent"),
        ("price_drop", f"product:{p}", "sent"),
    ]
    assert len(rec.got["hook"]) == 3
    deliveries = await pool.fetch("SELECT status, attempts, channel FROM alert_deliveries")
    assert {(d["status"], d["attempts"]) for d in deliveries} == {("sent", 1)}
    assert "127.0.0.1" in deliveries[0]["channel"]


async def test_failed_channel_is_retried_alone_and_recorded(
    pool: asyncpg.Pool, receiver: tuple[Receiver, str], base: datetime
) -> None:
    rec, url = receiver
    drv = SimDriver(pool, seed=5, n_ids=10, day0=base.date())
    p = drv.ids[0]
    await rules(pool, f"price_drop sku:{drv.expected(p, 0).skus[0].id} price=1000000000")
    s = settings()
    n = notifier(f"{url}/good", f"{url}/flaky", f"{url}/down")
    rec.fail = {"flaky": 1, "down": 5}  # flaky: one 500 then fine; down: 500 for a while
    await drv.scan(0, at=base)
    cheaper = drv.expected(p, 0).skus[0].purchase_price - 1000
    await drv.scan(0, at=base + timedelta(hours=1), edit=only({p}, set_price(0, cheaper)))
    now = base + timedelta(hours=1, minutes=2)
    assert len(await alerts.evaluate(pool, s, now)) == 1
    assert await delivery.deliver(pool, n, s, now) == 0  # one channel still failing
    assert (len(rec.got["good"]), len(rec.got["flaky"]), "down" in rec.got) == (1, 1, False)
    rows = await pool.fetch("SELECT channel, status, attempts, error FROM alert_deliveries")
    by_path = {urlsplit(r["channel"]).path.strip("/"): r for r in rows}
    assert (by_path["good"]["status"], by_path["good"]["attempts"]) == ("sent", 1)
    assert (by_path["flaky"]["status"], by_path["flaky"]["attempts"]) == ("sent", 2)
    assert by_path["down"]["status"] == "failed" and by_path["down"]["attempts"] == 2
    assert by_path["down"]["error"]
    assert (await events(pool))[0]["status"] == "failed"
    # the next run retries only the channel that has not got it
    rec.fail["down"] = 0
    assert await delivery.deliver(pool, n, s, now + timedelta(minutes=15)) == 1
    assert (len(rec.got["good"]), len(rec.got["flaky"]), len(rec.got["down"])) == (1, 1, 1)
    assert (await events(pool))[0]["status"] == "sent"


async def test_daily_cap_digest_and_other_rule_kinds(
    pool: asyncpg.Pool, receiver: tuple[Receiver, str], base: datetime
) -> None:
    rec, url = receiver
    drv = SimDriver(pool, seed=5, n_ids=40, day0=base.date())
    a, b, c, late = in_stock(drv)[:4]
    seller = drv.expected(late, 0).seller_id
    await rules(
        pool,
        f"price_drop all pct=10 cap=1; new_product seller:{seller}; back_in_stock product:{c}; "
        f"fake_discount product:{b} pct=15 days=2; new_low product:{a} days=1",
    )
    # the rules predate the scans, and the catalogue has been scanned through once
    await pool.execute("UPDATE alert_rules SET created_at = $1", base - timedelta(days=1))
    await scanned_through(pool)
    s, n = settings(digest=True), notifier(f"{url}/digest")
    first = [i for i in drv.ids if i != late]
    price_a = drv.expected(a, 0).skus[0].purchase_price
    price_b = drv.expected(b, 0).skus[0].purchase_price

    def sold_out(pid: int, payload: dict[str, Any]) -> dict[str, Any]:
        if pid == c:
            for sku in payload["payload"]["data"]["skuList"]:
                sku["availableAmount"] = 0
            payload["payload"]["data"]["totalAvailableAmount"] = 0
        return set_price(0, price_b, full=price_b)(pid, payload) if pid == b else payload

    await drv.scan(0, first, at=base, edit=sold_out)
    # two days later: b's list price is raised by 30 % (price with it), c is back in stock
    raise_b = only({b}, set_price(0, price_b * 13 // 10, full=price_b * 13 // 10))
    await drv.scan(0, first, at=base + timedelta(days=2, hours=1), edit=raise_b)

    # an hour later: b "discounted" back to its old price under the raised list price;
    # a drops 20 % (lowest in a day), and a new product of the watched seller appears
    def discount(pid: int, payload: dict[str, Any]) -> dict[str, Any]:
        if pid == b:
            return set_price(0, price_b, full=price_b * 13 // 10)(pid, payload)
        if pid == a:
            return set_price(0, price_a * 8 // 10)(pid, payload)
        return payload

    await drv.scan(0, [*first, late], at=base + timedelta(days=2, hours=2), edit=discount)
    now = base + timedelta(days=2, hours=3)
    await pool.execute(
        "INSERT INTO job_state (name, value) VALUES ('alerts', $1::jsonb)",
        json.dumps({"until": (base + timedelta(minutes=30)).isoformat()}),
    )
    await alerts.evaluate(pool, s, now)
    got = {(e["kind"], e["item"], e["status"]) for e in await events(pool)}
    drops = [e for e in got if e[0] == "price_drop"]
    # a and b both dropped ≥ 10 %: the cap of 1 a day sends one and stores the other as capped
    assert sorted(e[2] for e in drops) == ["capped", "digest"]
    assert {e for e in got if e[0] != "price_drop"} == {
        ("back_in_stock", f"product:{c}", "digest"),
        ("fake_discount", f"product:{b}", "digest"),
        ("new_low", f"product:{a}", "digest"),
        ("new_product", f"product:{late}", "digest"),
    }
    assert await delivery.deliver(pool, n, s, now) == 0  # digest mode: nothing sent one by one
    assert await delivery.send_digest(pool, n, s, now) == 5
    assert len(rec.got["digest"]) == 1
    digest = rec.got["digest"][0]
    # the capped drop is not dropped silently: it ends in the same message
    assert digest["title"] == "marketplaced: 5 alert(s), 1 over the daily cap"
    assert digest["message"].count("•") == 6 and "Suspicious discount" in digest["message"]
    assert "Over the daily cap:\n• Price drop: " in digest["message"]
    assert await delivery.send_digest(pool, n, s, now) == 0  # already sent
    assert len(rec.got["digest"]) == 1


async def test_first_run_after_install_is_no_flood_and_capped_alerts_end_in_one_message(
    pool: asyncpg.Pool, receiver: tuple[Receiver, str], base: datetime
) -> None:
    rec, url = receiver
    drv = SimDriver(pool, seed=5, n_ids=40, day0=base.date())
    first, appearing = drv.ids[:-5], drv.ids[-5:]
    await rules(pool, "new_product all cap=2")
    # installed at `base`: the rule exists from then on and the scanner starts its first pass
    await pool.execute("UPDATE alert_rules SET created_at = $1", base)
    await pool.execute("INSERT INTO scan_cursors (scanner, cycle) VALUES ('uzum.products', 1)")
    s, n = settings(), notifier(f"{url}/hook")
    await drv.scan(0, first, at=base + timedelta(minutes=10))
    # the products the first pass discovers were there before: not one "new product"
    assert await alerts.evaluate(pool, s, base + timedelta(minutes=15)) == []
    assert await delivery.deliver(pool, n, s, base + timedelta(minutes=15)) == 0
    assert "hook" not in rec.got

    # the pass is complete; then five products appear at once, over the rule's cap of 2
    await pool.execute("UPDATE scan_cursors SET cycle = 2")
    await drv.scan(0, appearing, at=base + timedelta(hours=1))
    now = base + timedelta(hours=1, minutes=5)
    assert len(await alerts.evaluate(pool, s, now)) == 5
    assert sorted(e["status"] for e in await events(pool)) == ["capped"] * 3 + ["pending"] * 2
    assert await delivery.deliver(pool, n, s, now) == 2
    titles = [b["title"] for b in rec.got["hook"]]
    assert [t.startswith("New product: ") for t in titles] == [True, True, False]
    # the three over the cap end in one message that names them
    assert titles[2] == "marketplaced: 3 alert(s) over the daily cap"
    assert rec.got["hook"][2]["message"].count("• New product: ") == 3
    await delivery.deliver(pool, n, s, now + timedelta(minutes=15))
    assert len(rec.got["hook"]) == 3  # told once
