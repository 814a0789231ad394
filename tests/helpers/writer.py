"""Recorded Uzum products as snapshots, and the real writer with the Uzum sink run over a list of
records until everything is committed."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg

from marketplaced.config import WriterConfig
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import ProductSnapshot
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.writer import Writer
from tests.helpers import recorded


def snapshot(pid: int) -> ProductSnapshot:
    data = recorded.uzum_json(pid)
    snap = parse_product(200, data, pid)
    assert isinstance(snap, ProductSnapshot)
    return snap


def renumbered(snap: ProductSnapshot, pid: int) -> ProductSnapshot:
    """The same product under another id (and SKU ids), as the benchmarks' templates."""
    skus = tuple(
        dataclasses.replace(k, id=pid * 1000 + i, product_id=pid) for i, k in enumerate(snap.skus)
    )
    return dataclasses.replace(snap, product=dataclasses.replace(snap.product, id=pid), skus=skus)


def with_price(snap: ProductSnapshot, sku_index: int, price: int) -> ProductSnapshot:
    skus = list(snap.skus)
    skus[sku_index] = dataclasses.replace(skus[sku_index], purchase_price=price)
    return dataclasses.replace(snap, skus=tuple(skus))


async def run_writer(pool: asyncpg.Pool, items: list[object], **cfg: object) -> Writer:
    writer = Writer(pool, WriterConfig(**{"flush_interval_s": 0.05, **cfg}), [UzumSink()])  # type: ignore[arg-type]
    task = asyncio.create_task(writer.run())
    try:
        for item in items:
            await writer.put(item)
        await writer.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return writer
