"""Alerts follow the commit order: a writer batch whose commit is held up by a lock on `skus`
(stamped before later batches that commit first) still alerts once it commits."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import asyncpg

from marketplaced.jobs import alerts
from marketplaced.jobs.rules import parse_rules
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import ProductSnapshot
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.writer import Writer
from tests.conftest import base_config
from tests.helpers.jobs import SimDriver

_WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'"""


async def _until_waiting(pool: asyncpg.Pool) -> None:
    """Until some session of this database waits for a lock (the writer's batch)."""
    # PostgreSQL has no event for "a session started waiting": poll its activity view
    while not await pool.fetchval(_WAITING):  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def test_a_batch_committed_late_still_alerts(pool: asyncpg.Pool) -> None:
    start = datetime.now(UTC)
    drv = SimDriver(pool, seed=5, n_ids=20, day0=start.date())
    p, q = drv.ids[:2]
    await alerts.sync_config_rules(pool, parse_rules(f"price_drop product:{p} pct=10"))
    cfg = dataclasses.replace(base_config().alerts, settle_s=60.0)
    s = alerts.AlertSettings.from_config(cfg, UTC)
    await drv.scan(0, at=start - timedelta(minutes=10))  # first sightings
    assert await alerts.evaluate(pool, s, start - timedelta(minutes=5)) == []

    payload = json.loads(json.dumps(drv.cat.product_payload(p, 0)))
    sku = payload["payload"]["data"]["skuList"][0]
    sku["purchasePrice"] = sku["purchasePrice"] // 2
    snap = parse_product(200, payload, p)
    assert isinstance(snap, ProductSnapshot)

    writer = Writer(pool, base_config().writer, [UzumSink()])
    async with pool.acquire() as holder:
        # another session keeps p's SKU rows locked: the writer's batch (stamped now) waits
        tr = holder.transaction()
        await tr.start()
        await holder.execute("SELECT 1 FROM skus WHERE product_id = $1 FOR UPDATE", p)
        async with asyncio.TaskGroup() as tg:
            runner = tg.create_task(writer.run())
            await writer.put(snap)
            flushed = tg.create_task(writer.flush())
            await _until_waiting(pool)
            # meanwhile a later batch commits, and alerts run long after settle_s
            await drv.scan(0, [q], at=datetime.now(UTC) + timedelta(minutes=1))
            later = datetime.now(UTC) + timedelta(minutes=10)
            assert await alerts.evaluate(pool, s, later) == []
            assert not flushed.done()
            await tr.rollback()  # the lock goes: the held batch commits
            await flushed
            runner.cancel()
    fired = await alerts.evaluate(pool, s, later + timedelta(minutes=15))
    rows = await pool.fetch("SELECT kind, item FROM alert_events WHERE id = ANY($1)", fired)
    assert [(r["kind"], r["item"]) for r in rows] == [("price_drop", f"product:{p}")]
    # and only once
    assert await alerts.evaluate(pool, s, later + timedelta(minutes=30)) == []
