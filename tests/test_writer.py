"""The bulk writer and the Uzum sink against real PostgreSQL, fed by the real fixtures."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg
import pytest

from marketplaced import db
from marketplaced.checkpoint import CursorMark, DeadLetter, ParseFailure, load_cursor
from marketplaced.config import DatabaseConfig, WriterConfig
from marketplaced.platforms.uzum.records import Missing
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.writer import Writer
from tests.helpers.uzum import missing_ids
from tests.helpers.writer import run_writer, snapshot, with_price


async def test_fixture_products_are_stored_exactly(pool: asyncpg.Pool) -> None:
    await run_writer(pool, [snapshot(1772350), snapshot(2114919)])
    p = await pool.fetchrow("SELECT * FROM products WHERE id = 1772350")
    assert p["title_ru"].startswith("Кронштейны для телевизора")
    assert (p["seller_id"], p["category_id"], p["orders_amount"], p["total_available"]) == (
        74885,
        11587,
        32,
        27,
    )
    chain = await pool.fetch(
        "SELECT id, parent_id FROM categories WHERE id IN (10020, 10129, 11384, 11587) ORDER BY id"
    )
    assert [(r["id"], r["parent_id"]) for r in chain] == [
        (10020, None),
        (10129, 10020),
        (11384, 10129),
        (11587, 11384),
    ]
    assert await pool.fetchval("SELECT count(*) FROM skus WHERE product_id = 2114919") == 102
    sku = await pool.fetchrow("SELECT * FROM skus WHERE id = 7574456")
    assert sku["purchase_price"] == 79990 and sku["full_price"] == 200000
    assert sku["characteristics"].startswith("Rang: ")
    assert (
        await pool.fetchval("SELECT sum(available_amount) FROM skus WHERE product_id = 2114919")
        == 974
    )
    seller = await pool.fetchrow("SELECT * FROM sellers WHERE id = 74885")
    assert (seller["title"], seller["link"]) == ("Aeris.uz", "aeris")
    # first observation: one history row per SKU and per product
    assert await pool.fetchval("SELECT count(*) FROM price_history") == 103
    assert await pool.fetchval("SELECT count(*) FROM product_stats_history") == 2


async def test_history_only_when_values_change(pool: asyncpg.Pool) -> None:
    base = snapshot(2114919)
    await run_writer(pool, [base])
    await run_writer(pool, [base])  # unchanged: no new history
    assert await pool.fetchval("SELECT count(*) FROM price_history") == 102
    changed = with_price(base, 5, base.skus[5].purchase_price + 1000)
    changed = dataclasses.replace(
        changed, product=dataclasses.replace(changed.product, orders_amount=999)
    )
    await run_writer(pool, [changed])
    assert await pool.fetchval("SELECT count(*) FROM price_history") == 103
    rows = await pool.fetch(
        "SELECT purchase_price FROM price_history WHERE sku_id = $1 ORDER BY observed_at",
        base.skus[5].id,
    )
    assert [r["purchase_price"] for r in rows] == [
        base.skus[5].purchase_price,
        base.skus[5].purchase_price + 1000,
    ]
    assert (
        await pool.fetchval("SELECT count(*) FROM product_stats_history WHERE product_id = 2114919")
        == 2
    )
    seen = await pool.fetchrow(
        "SELECT p.first_seen < v.last_seen AS moved FROM products p "
        "JOIN uzum_visits v ON v.product_id = p.id WHERE p.id = 2114919"
    )
    assert seen["moved"]


async def test_dedup_last_wins_within_batch(pool: asyncpg.Pool) -> None:
    base = snapshot(1772350)
    await run_writer(pool, [with_price(base, 0, 1), with_price(base, 0, 2), with_price(base, 0, 3)])
    assert await pool.fetchval("SELECT purchase_price FROM skus WHERE id = 6120890") == 3
    assert await pool.fetchval("SELECT count(*) FROM price_history WHERE sku_id = 6120890") == 1


async def test_misses_are_bits_and_flip_back(pool: asyncpg.Pool) -> None:
    await run_writer(
        pool,
        [
            Missing(5, "http_404"),
            Missing(8191, "empty_body"),
            Missing(8192, "http_404"),
            Missing(1772350, "payload_null"),
        ],
    )
    assert await pool.fetchval("SELECT count(*) FROM uzum_missing") == 3
    bit = "SELECT get_bit(bits, $2) FROM uzum_missing WHERE chunk = $1"
    assert await pool.fetchval(bit, 0, 5) == 1
    assert await pool.fetchval(bit, 0, 8191) == 1
    assert await pool.fetchval(bit, 1, 0) == 1
    assert await pool.fetchval(bit, 0, 6) == 0
    forms = dict(await pool.fetch("SELECT form, seen FROM uzum_miss_forms"))
    assert forms == {"http_404": 2, "empty_body": 1, "payload_null": 1}
    await run_writer(pool, [snapshot(1772350)])  # the product appeared: its bit clears
    assert await pool.fetchval(bit, 1772350 // 8192, 1772350 % 8192) == 0


async def test_cursor_and_dead_letters_commit_with_data(pool: asyncpg.Pool) -> None:
    await run_writer(
        pool,
        [
            DeadLetter("uzum.product", 77, "http_status", "HTTP 503 after 5 attempts"),
            ParseFailure("uzum.product", "78", "payload.data.skuList: expected list", "uzum/x#1"),
            snapshot(1772350),
            CursorMark("uzum.products", 1772350, 1, 1800000, 1772350),
        ],
    )
    cur = await load_cursor(pool, "uzum.products")
    assert cur is not None and (cur.position, cur.cycle, cur.highest_seen) == (1772350, 1, 1772350)
    assert (
        await pool.fetchval("SELECT reason FROM dead_letters WHERE entity_id = 77")
        == "HTTP 503 after 5 attempts"
    )
    assert (
        await pool.fetchval("SELECT archive_ref FROM parse_failures WHERE entity_id = '78'")
        == "uzum/x#1"
    )
    # a later success for a dead-lettered id resolves it
    await run_writer(pool, [Missing(77, "http_404")])
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0


async def test_poison_record_is_isolated_and_the_rest_lands(pool: asyncpg.Pool) -> None:
    good = snapshot(1772350)
    other = snapshot(2114919)
    # a value PostgreSQL cannot store (bigint overflow) in one record of the batch
    bad = dataclasses.replace(
        other, product=dataclasses.replace(other.product, orders_amount=2**70)
    )
    writer = await run_writer(
        pool, [good, bad, CursorMark("uzum.products", 3_000_000, 1, 3_000_000, 0)]
    )
    assert writer.stats.poison == 1
    assert await pool.fetchval("SELECT count(*) FROM products") == 1
    row = await pool.fetchrow("SELECT kind, reason FROM dead_letters WHERE entity_id = 2114919")
    assert row["kind"] == "write_failed"
    cur = await load_cursor(pool, "uzum.products")
    assert cur is not None and cur.position == 3_000_000


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that a test can cut and restore, like an outage."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.conns: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.conns:
            w.transport.abort()
        self.conns.clear()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.conns += [writer, up_w]

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.transport.abort()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


async def test_database_outage_is_retried_without_loss(fresh_db: DatabaseConfig) -> None:
    proxy = TcpProxy(fresh_db.host, fresh_db.port)
    await proxy.start()
    via_proxy = dataclasses.replace(
        fresh_db, host="127.0.0.1", port=proxy.port, pool_min=1, pool_max=2
    )
    pool = await db.create_pool(via_proxy)
    writer = Writer(pool, WriterConfig(flush_interval_s=0.05, retry_max_s=0.3), [UzumSink()])
    task = asyncio.create_task(writer.run())
    try:
        await writer.put(snapshot(1772350))
        await writer.flush()
        await proxy.cut()  # PostgreSQL "goes away"
        await writer.put(snapshot(2114919))
        await writer.put(CursorMark("uzum.products", 2114919, 1, 2200000, 2114919))
        flushed = asyncio.ensure_future(writer.flush())
        await asyncio.sleep(1.0)
        assert not flushed.done()  # held, not dropped
        assert writer.stats.retries >= 1
        assert writer.stats.db_down_since is not None
        await proxy.start()  # back on the same port
        await asyncio.wait_for(flushed, 30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pool.close()
        await proxy.cut()
    check = await db.connect(fresh_db)
    try:
        assert await check.fetchval("SELECT count(*) FROM products") == 2
        assert await check.fetchval("SELECT position FROM scan_cursors") == 2114919
    finally:
        await check.close()
    assert writer.stats.db_down_since is None


async def test_backpressure_bounds_the_queue(pool: asyncpg.Pool) -> None:
    writer = Writer(pool, WriterConfig(queue_max=10, flush_interval_s=0.05), [UzumSink()])
    for i in range(10):
        await writer.put(Missing(i + 1, "http_404"))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(writer.put(Missing(99, "http_404")), 0.2)
    assert writer.depth == 10


async def test_batch_being_collected_is_committed_by_drain(pool: asyncpg.Pool) -> None:
    # a long flush interval: run() is still collecting when it is cancelled, as on SIGTERM
    writer = Writer(pool, WriterConfig(flush_interval_s=600, batch_max=1000), [UzumSink()])
    task = asyncio.create_task(writer.run())
    for i in range(1, 51):
        await writer.put(Missing(i, "http_404"))
    await writer.put(CursorMark("uzum.products", 50, 1, 1000, 0))
    for _ in range(10_000):  # until run() took everything off the queue into its batch
        if writer.in_batch == 51:
            break
        await asyncio.sleep(0)
    assert writer.in_batch == 51
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert writer.depth == 51  # still held, not forgotten

    await writer.drain()

    assert writer.depth == 0
    assert await missing_ids(pool, range(1, 1000)) == set(range(1, 51))
    cur = await load_cursor(pool, "uzum.products")
    assert cur is not None and cur.position == 50


async def test_held_bytes_bound_the_queue(pool: asyncpg.Pool) -> None:
    big = snapshot(2114919)  # 102 SKUs: tens of KB per record
    writer = Writer(pool, WriterConfig(queue_max=1000, queue_max_mb=1), [UzumSink()])
    for _ in range(1000):
        try:
            await asyncio.wait_for(writer.put(big), 0.2)
        except TimeoutError:
            break
    # the byte bound stopped intake long before the item bound of 1,000
    assert 10 < writer.depth < 100, writer.depth
    assert writer.held_bytes <= 1024 * 1024
    task = asyncio.create_task(writer.run())
    try:
        await writer.flush()  # committing frees the room: intake goes on
        await asyncio.wait_for(writer.put(big), 5)
        await writer.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert writer.depth == 0 and writer.held_bytes == 0
    assert writer.stats.items > 10
    assert await pool.fetchval("SELECT count(*) FROM skus WHERE product_id = 2114919") == 102


async def test_a_stop_that_lands_as_a_record_arrives_is_not_lost(pool: asyncpg.Pool) -> None:
    """SIGTERM's cancel of run() in the very loop turn in which the record it waits for
    arrives: Python 3.11's wait_for then hands back the record and drops the cancellation, and
    run() went on collecting (during an outage: retrying) for ever, so the daemon never got
    past its shutdown. Every turn of that race is tried; run() must end each time."""
    for turns in range(8):
        writer = Writer(pool, WriterConfig(flush_interval_s=600, batch_max=1000), [UzumSink()])
        task = asyncio.create_task(writer.run())
        await writer.put(Missing(1, "http_404"))
        for _ in range(10_000):  # until run() collected the first record and waits for more
            if writer.in_batch == 1:
                break
            await asyncio.sleep(0)
        assert writer.in_batch == 1
        await writer.put(Missing(2, "http_404"))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)  # a hang detector, not a timing
        assert done == {task} and task.cancelled(), f"run() went on after cancel ({turns})"
        await writer.drain()
        assert writer.depth == 0
