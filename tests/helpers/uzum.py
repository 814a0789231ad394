"""Helpers: scan the Uzum simulator in-process and compare the result with its catalogue."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from marketplaced.config import Config, WriterConfig
from marketplaced.http import Fetcher, HostStats
from marketplaced.platforms import uzum
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.platforms.uzum.storage import MISSING_CHUNK, UzumSink
from marketplaced.simulator.uzum import UzumCatalogue
from marketplaced.writer import Writer
from tests.helpers.settings import base_config


def scan_config(base_url: str, **uzum: object) -> Config:
    cfg = base_config(
        uzum={
            "base_url": base_url,
            "rps": 0.0,
            "concurrency": 16,
            "max_retries": 3,
            "timeout_s": 5.0,
            "checkpoint_every": 50,
            "cycle_pause_s": 0.0,
            **uzum,
        },
        writer={"flush_interval_s": 0.05, "batch_max": 500},
    )
    return cfg


@asynccontextmanager
async def pipeline(cfg: Config, pool: asyncpg.Pool) -> AsyncIterator[tuple[Fetcher, Writer]]:
    writer = Writer(pool, cfg.writer, [UzumSink()])
    task = asyncio.create_task(writer.run())
    try:
        # Uzum's policy and headers for every host: the scans here talk to Uzum only
        async with Fetcher(uzum.policy(cfg), headers=uzum.headers(cfg)) as fetcher:
            yield fetcher, writer
        await writer.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def scan_range_with_stats(
    cfg: Config, pool: asyncpg.Pool, start: int, stop: int
) -> tuple[UzumScanner, HostStats]:
    """One-shot scan of [start, stop]; the scanner and the upstream host's fetch figures."""
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(
            cfg.section(UzumConfig),
            ScanDeps(pool, fetcher, writer),
            plan=ScanPlan(start_id=start, stop_id=stop, continuous=False),
        )
        await scanner.run()
        host = next(iter(fetcher.stats().values()))
    return scanner, host


async def scan_range(cfg: Config, pool: asyncpg.Pool, start: int, stop: int) -> UzumScanner:
    return (await scan_range_with_stats(cfg, pool, start, stop))[0]


async def stored_state(pool: asyncpg.Pool, ids: range) -> dict[int, tuple[object, ...]]:
    """id → comparable tuple of what the database holds for that product."""
    lo, hi = ids.start, ids.stop - 1
    products = {
        r["id"]: r
        for r in await pool.fetch(
            "SELECT id, title, title_uz, title_ru, category_id, seller_id, orders_amount, "
            "reviews_amount, "
            "total_available FROM products WHERE id BETWEEN $1 AND $2",
            lo,
            hi,
        )
    }
    skus: dict[int, list[tuple[object, ...]]] = {}
    for r in await pool.fetch(
        "SELECT product_id, id, purchase_price, full_price, available_amount, characteristics "
        "FROM skus WHERE product_id BETWEEN $1 AND $2 ORDER BY id",
        lo,
        hi,
    ):
        skus.setdefault(r["product_id"], []).append(tuple(r.values())[1:])
    return {
        pid: (
            p["title"],
            p["title_uz"],
            p["title_ru"],
            p["category_id"],
            p["seller_id"],
            p["orders_amount"],
            p["reviews_amount"],
            p["total_available"],
            tuple(skus.get(pid, ())),
        )
        for pid, p in products.items()
    }


def expected_state(cat: UzumCatalogue, ids: range, tick: int) -> dict[int, tuple[object, ...]]:
    out = {}
    for pid in ids:
        e = cat.expected(pid, tick)
        if e is None:
            continue
        skus = tuple(
            sorted(
                (s.id, s.purchase_price, s.full_price, s.available_amount, s.characteristics)
                for s in e.skus
            )
        )
        out[pid] = (
            e.title,
            e.title_uz,
            e.title_ru,
            e.category_id,
            e.seller_id,
            e.orders,
            e.reviews,
            e.total_available,
            skus,
        )
    return out


async def missing_ids(pool: asyncpg.Pool, ids: range) -> set[int]:
    rows = await pool.fetch("SELECT chunk, bits::text AS bits FROM uzum_missing")
    out = set()
    for r in rows:
        base = r["chunk"] * MISSING_CHUNK
        bits = r["bits"]
        for i, ch in enumerate(bits):
            if ch == "1" and base + i in ids:
                out.add(base + i)
    return out


def replace_uzum(cfg: Config, **kw: object) -> Config:
    return cfg.with_section(dataclasses.replace(cfg.section(UzumConfig), **kw))  # type: ignore[arg-type]


__all__ = ["UzumConfig", "WriterConfig"]
