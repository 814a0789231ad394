"""Maintenance (partitions ahead, retention, archive cap, vacuum) and the health check with its
notifications, against real PostgreSQL and a loopback webhook."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from marketplaced.archive import PRUNE_LOCK, prune_tree
from marketplaced.config import DatabaseConfig
from marketplaced.jobs import maintenance
from marketplaced.jobs.health import HealthInputs
from marketplaced.jobs.service import Jobs
from tests.conftest import base_config

pytestmark = pytest.mark.timeout(30)


def _month(d: date, delta: int) -> date:
    index = d.year * 12 + d.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


async def partitions(pool: asyncpg.Pool, parent: str) -> set[str]:
    rows = await pool.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass",
        parent,
    )
    return {r["relname"] for r in rows}


async def test_retention_drops_old_partitions_prunes_ledgers_and_creates_ahead(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    old = _month(today, -40)
    for parent in ("analytics_product_daily", "price_history"):
        assert await pool.fetchval("SELECT marketplaced_ensure_partition_for($1, $2)", parent, old)
    await pool.execute(
        "INSERT INTO analytics_product_daily (day, product_id, orders, orders_end, units_stock, "
        "restocked, sales, sales_source, revenue, price_basis, stock_end, reviews_delta, "
        "observations, quality) VALUES ($1, 1, 0, 0, 0, 0, 0, 'orders', 0, 'none', 0, 0, 0, 'x')",
        old,
    )
    await pool.execute(
        "INSERT INTO job_runs (job, started_at, outcome) VALUES ('x', now() - interval '200 days',"
        " 'ok'), ('x', now(), 'ok')"
    )
    cfg = base_config(
        retention={"history_months": 24, "analytics_months": 36, "partitions_ahead_months": 4},
        archive={"dir": str(tmp_path / "raw"), "max_mb": 1},
    )
    touched = await maintenance.retention(pool, cfg)
    suffix = f"_y{old.year:04d}m{old.month:02d}"
    assert "analytics_product_daily" + suffix not in await partitions(
        pool, "analytics_product_daily"
    )
    assert "price_history" + suffix not in await partitions(pool, "price_history")
    ahead = _month(today, 4)
    for parent in ("price_history", "analytics_seller_daily"):
        assert f"{parent}_y{ahead.year:04d}m{ahead.month:02d}" in await partitions(pool, parent)
    assert await pool.fetchval("SELECT count(*) FROM job_runs WHERE job = 'x'") == 1
    assert touched >= 4
    assert await maintenance.vacuum(pool) > 10


def test_archive_is_pruned_oldest_first(tmp_path: Path) -> None:
    now = time.time()
    files = []
    for i in range(4):
        path = tmp_path / "uzum" / "product" / f"2026010{i}" / f"000000-00000{i}.jsonl.gz"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x" * 400_000)
        os.utime(path, (now - 1000 + i, now - 1000 + i))
        files.append(path)
    (tmp_path / "keep.txt").write_bytes(b"y" * 2_000_000)  # not an archive file
    assert prune_tree(tmp_path, 1_000_000) == 2
    assert [p.exists() for p in files] == [False, False, True, True]
    assert not files[0].parent.exists()  # emptied day directories go too
    assert (tmp_path / "keep.txt").exists()
    assert prune_tree(tmp_path / "absent", 1) == 0


async def test_retention_leaves_the_archive_to_a_pruner_already_walking_it(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    root = tmp_path / "raw"
    files = []
    for i in range(4):
        path = root / "uzum" / "product" / f"2026010{i}" / f"000000-00000{i}.jsonl.gz"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x" * 400_000)
        files.append(path)
    cfg = base_config(archive={"dir": str(root), "max_mb": 1})
    with (root / PRUNE_LOCK).open("a") as other:  # a writing archive is pruning right now
        fcntl.flock(other, fcntl.LOCK_EX)
        await maintenance.retention(pool, cfg)
        assert all(p.exists() for p in files)  # no second walk over the same files
    await maintenance.retention(pool, cfg)
    assert sum(p.exists() for p in files) == 2


@pytest.fixture
async def webhook(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> tuple[list[Any], str]:
    got: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        got.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/health", handle)
    server = await aiohttp_server(app)
    return got, f"json://127.0.0.1:{server.port}/health"


async def test_health_turning_bad_is_notified_once_and_recovery_too(
    pool: asyncpg.Pool, fresh_db: DatabaseConfig, webhook: tuple[list[Any], str]
) -> None:
    got, url = webhook
    cfg = base_config(
        database=dataclasses.asdict(fresh_db),
        alerts={"notify_urls": url, "attempts": 1},
        uzum={"max_stale_s": 60},
        health={"min_products_per_hour": 1},
    )
    inputs: HealthInputs = {"scanners": {"uzum.products": 600.0}, "writer_depth": 0}
    jobs = Jobs(cfg, pool, None, lambda: inputs)  # not started: runs are direct
    record = await jobs.run("health")
    assert record.outcome == "ok"
    health = jobs.last_health()
    assert not health["ok"]
    # no product updated in the last hour: a scanner that produces nothing is caught
    assert not health["checks"]["products_updated"]["ok"]
    assert not health["checks"]["scanners"]["ok"]
    assert health["checks"]["postgres"]["ok"] and health["checks"]["disk"]["ok"]
    assert len(got) == 1 and got[0]["title"] == ("marketplaced: products_updated, scanners failing")
    assert "no progress: uzum.products for 600 s (limit 60 s)" in got[0]["message"]
    await jobs.run("health")  # still failing the same way: no second message
    assert len(got) == 1
    await pool.execute(
        "INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome) "
        "VALUES (1, now(), now(), 'changed'), (2, now(), now(), 'changed')"
    )
    inputs["scanners"] = {"uzum.products": 0.0}
    await jobs.run("health")
    assert jobs.last_health()["ok"]
    assert [g["title"] for g in got] == [
        "marketplaced: products_updated, scanners failing",
        "marketplaced: healthy again",
    ]
    assert await pool.fetchval("SELECT count(*) FROM health_checks") == 3
    events = await jobs.alert_history()
    assert [e["kind"] for e in events] == ["health", "health"]
    assert {e["status"] for e in events} == {"sent"}
