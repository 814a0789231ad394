"""The UZEX sink against real PostgreSQL, fed by the recorded fixtures and variants of them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from marketplaced.checkpoint import CursorMark, DeadLetter, load_cursor
from marketplaced.config import WriterConfig
from marketplaced.platforms.uzex import parser
from marketplaced.platforms.uzex.records import LotItemRecord, LotRecord
from marketplaced.platforms.uzex.storage import UzexPage, UzexSink
from marketplaced.writer import Writer
from tests.helpers import recorded
from tests.helpers import uzex as bench

TASHKENT = ZoneInfo("Asia/Tashkent")


pool = bench.pool  # one module database, emptied per test


def load(name: str) -> Any:
    return recorded.uzex_json(name)


def auction_page() -> parser.PageResult:
    return parser.parse_completed_deals("auction", load("auction_GetCompletedDeals.capture.json"))


def auction_lot(lot_id: int = 379514) -> LotRecord:
    return next(lot for lot in auction_page().lots if lot.lot_id == lot_id)


def items_379514() -> list[LotItemRecord]:
    data = load("auction_GetCompletedDealProducts_379514.json")
    return parser.parse_deal_products("auction", 379514, data)


def as_active(lot: LotRecord) -> LotRecord:
    """The same lot as an active list showed it before the deal."""
    return dataclasses.replace(
        lot,
        status="active",
        deal_id=None,
        deal_date=None,
        deal_cost=None,
        provider_inn=None,
        provider_name=None,
        kazna_status=None,
        kazna_payment_status=None,
        deal_status_name=None,
    )


async def write(pool: asyncpg.Pool, *batches: list[object]) -> None:
    """Each list is put and flushed on its own, so each becomes its own transaction."""
    writer = Writer(pool, WriterConfig(flush_interval_s=0.01), [UzexSink()])
    task = asyncio.create_task(writer.run())
    try:
        for batch in batches:
            for item in batch:
                await writer.put(item)
            await writer.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def page(*lots: LotRecord, items: tuple[LotItemRecord, ...] = (), source: str = "") -> UzexPage:
    status = source or (lots[0].status if lots else "completed")
    complete = tuple({i.lot_id for i in items})
    return UzexPage("auction", status, lots, items, complete)  # type: ignore[arg-type]


async def history(pool: asyncpg.Pool, lot_id: int) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT status, deal_cost, kazna_payment_status FROM uzex_lot_status_history "
        "WHERE lot_type = 'auction' AND lot_id = $1 ORDER BY observed_at",
        lot_id,
    )
    return [tuple(r) for r in rows]


async def test_recorded_page_and_items_are_stored_exactly(pool: asyncpg.Pool) -> None:
    result = auction_page()
    await write(pool, [page(*result.lots, items=tuple(items_379514()))])

    assert await pool.fetchval("SELECT count(*) FROM uzex_lots") == 11
    lot = await pool.fetchrow("SELECT * FROM uzex_lots WHERE lot_id = 379514")
    assert lot["deal_cost"] == Decimal("9167427.50")
    assert lot["deal_date"] == datetime(2025, 12, 4, 11, 29, 9, tzinfo=TASHKENT)
    assert (lot["customer_inn"], lot["provider_inn"], lot["status"]) == (
        "207273609",
        "312427727",
        "completed",
    )
    assert json.loads(lot["extra"])["kazna_status_id"] == 2
    assert lot["completed_seen"] is not None
    items = await pool.fetch("SELECT * FROM uzex_lot_items WHERE lot_id = 379514 ORDER BY line_no")
    assert len(items) == 8
    assert sum(i["cost"] for i in items) == lot["deal_cost"]
    pipe = items[4]
    assert (pipe["unit"], pipe["unit_price"], pipe["priced_as"]) == (
        "м",
        Decimal("9971.50"),
        "completed",
    )
    # a null provider INN (379525) stores the lot but no party
    assert await pool.fetchval("SELECT provider_inn FROM uzex_lots WHERE lot_id = 379525") is None
    parties = {
        (r["inn"], r["kind"]) for r in await pool.fetch("SELECT inn, kind FROM uzex_parties")
    }
    assert ("207273609", "customer") in parties and ("312427727", "provider") in parties
    assert all(inn for inn, _ in parties)
    # first observation: one history row per lot
    assert await pool.fetchval("SELECT count(*) FROM uzex_lot_status_history") == 11
    # the product catalogue holds each distinct item name once
    names = await pool.fetchval("SELECT count(DISTINCT lower(name)) FROM uzex_lot_items")
    assert await pool.fetchval("SELECT count(*) FROM uzex_products") == names


async def test_shop_row_is_lot_and_item(pool: asyncpg.Pool) -> None:
    result = parser.parse_completed_deals("shop", load("shop_GetCompletedDeals.json"))
    complete = tuple(lot.lot_id for lot in result.lots)
    await write(
        pool, [UzexPage("shop", "completed", tuple(result.lots), tuple(result.items), complete)]
    )

    item = await pool.fetchrow("SELECT * FROM uzex_lot_items WHERE lot_id = 5189811")
    assert (item["lot_type"], item["line_no"], item["name"]) == ("shop", 1, "Принтер")
    assert item["unit_price"] == item["cost"] == Decimal("1818000.00")  # quantity 1


async def test_completed_lot_is_never_taken_back_to_active(pool: asyncpg.Pool) -> None:
    done = auction_lot()
    active = as_active(done)
    start_items = tuple(
        dataclasses.replace(i, unit_price=Decimal(1), cost=Decimal(1)) for i in items_379514()
    )
    unpaid = dataclasses.replace(done, kazna_payment_status="Не оплачен")

    await write(
        pool,
        [page(active, items=start_items)],
        [page(unpaid, items=tuple(items_379514()))],
        [page(done)],  # paid now
        [page(active, items=start_items)],  # an active list read late
        [page(done)],  # nothing changed
        [page(done), page(active, items=start_items)],  # both in one batch, active last
    )

    assert await history(pool, 379514) == [
        ("active", None, None),
        ("completed", Decimal("9167427.50"), "Не оплачен"),
        ("completed", Decimal("9167427.50"), "Оплачен"),
    ]
    lot = await pool.fetchrow("SELECT status, deal_cost FROM uzex_lots WHERE lot_id = 379514")
    assert tuple(lot) == ("completed", Decimal("9167427.50"))
    rows = await pool.fetch("SELECT priced_as, cost FROM uzex_lot_items WHERE lot_id = 379514")
    assert {r["priced_as"] for r in rows} == {"completed"}
    assert sum(r["cost"] for r in rows) == Decimal("9167427.50")


async def test_a_poorer_shape_does_not_erase_what_a_richer_one_said(pool: asyncpg.Pool) -> None:
    rich = as_active(auction_lot())
    poor = dataclasses.replace(
        rich, customer_inn=None, customer_name=None, category_name=None, extra_json='{"x":1}'
    )
    await write(pool, [page(rich)], [page(poor)])

    lot = await pool.fetchrow("SELECT * FROM uzex_lots WHERE lot_id = 379514")
    assert (lot["customer_inn"], lot["category_name"]) == ("207273609", rich.category_name)
    extra = json.loads(lot["extra"])
    assert extra["x"] == 1 and extra["kazna_status_id"] == 2  # merged, not replaced


async def test_last_observation_wins_within_a_batch(pool: asyncpg.Pool) -> None:
    lot = auction_lot()
    versions = [dataclasses.replace(lot, deal_cost=Decimal(cost)) for cost in (1, 2, 3)]
    await write(pool, [page(v) for v in versions])

    assert await pool.fetchval("SELECT deal_cost FROM uzex_lots WHERE lot_id = 379514") == 3
    assert len(await history(pool, 379514)) == 1


async def test_complete_item_list_removes_stale_lines(pool: asyncpg.Pool) -> None:
    lot = auction_lot()
    items = tuple(sorted(items_379514(), key=lambda i: i.line_no))
    await write(pool, [page(lot, items=items)])
    partial = UzexPage("auction", "completed", (), items[:2], ())  # no claim: nothing removed
    await write(pool, [partial])
    assert await pool.fetchval("SELECT count(*) FROM uzex_lot_items") == 8
    await write(pool, [page(lot, items=items[:3])])
    lines = await pool.fetch("SELECT line_no FROM uzex_lot_items ORDER BY line_no")
    assert [r["line_no"] for r in lines] == [1, 2, 3]


async def test_party_name_and_product_price_follow_the_newest_deal(pool: asyncpg.Pool) -> None:
    base, item = auction_lot(), items_379514()[0]
    assert base.deal_date is not None

    def deal(lot_id: int, days: int, name: str, price: int) -> UzexPage:
        lot = dataclasses.replace(
            base, lot_id=lot_id, deal_date=base.deal_date + timedelta(days=days), customer_name=name
        )
        line = dataclasses.replace(item, lot_id=lot_id, unit_price=Decimal(price))
        return page(lot, items=(line,))

    # the backfill reads newest first: the older deal arrives last and must not win
    await write(pool, [deal(1, 0, "NEW NAME", 200)], [deal(2, -30, "OLD NAME", 100)])
    party = await pool.fetchrow("SELECT * FROM uzex_parties WHERE inn = '207273609'")
    assert party["name"] == "NEW NAME"
    assert party["first_deal"] == base.deal_date - timedelta(days=30)
    assert party["last_deal"] == base.deal_date
    key = item.name.lower() if item.name else ""
    product = await pool.fetchrow("SELECT * FROM uzex_products WHERE name_key = $1", key)
    assert (product["unit_price"], product["lot_id"]) == (Decimal(200), 1)

    await write(pool, [deal(3, 10, "NEWER NAME", 300)])
    assert (
        await pool.fetchval("SELECT name FROM uzex_parties WHERE inn = '207273609'") == "NEWER NAME"
    )
    assert (
        await pool.fetchval("SELECT unit_price FROM uzex_products WHERE name_key = $1", key) == 300
    )
    # price of item Z across lots: every lot's line, through the lower(name) index
    prices = await pool.fetch(
        "SELECT lot_id, unit_price FROM uzex_lot_items WHERE lower(name) = $1 ORDER BY lot_id", key
    )
    assert [(r["lot_id"], r["unit_price"]) for r in prices] == [(1, 200), (2, 100), (3, 300)]


async def test_reference_lists_and_resolved_dead_letters(pool: asyncpg.Pool) -> None:
    categories = parser.parse_categories(load("trade_GetCategories.json")).records
    regions = parser.parse_regions(load("trade_GetRegions.capture.json")).records
    await write(
        pool,
        [*categories, *regions, DeadLetter("uzex.auction.items", 379514, "transport", "timeout")],
    )
    assert await pool.fetchval("SELECT count(*) FROM uzex_categories") == len(
        {c.id for c in categories}
    )
    assert await pool.fetchval("SELECT count(*) FROM uzex_regions") == len({r.id for r in regions})
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 1

    await write(pool, [page(auction_lot(), items=tuple(items_379514()))])
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0


async def test_indexes_serve_the_questions_users_ask(pool: asyncpg.Pool) -> None:
    await write(pool, [page(*auction_page().lots, items=tuple(items_379514()))])
    questions = {
        "uzex_lots_customer": "SELECT * FROM uzex_lots WHERE customer_inn = '207273609' "
        "ORDER BY deal_date",
        "uzex_lots_provider": "SELECT * FROM uzex_lots WHERE provider_inn = '312427727' "
        "ORDER BY deal_date",
        "uzex_lots_deal_date": "SELECT count(*) FROM uzex_lots "
        "WHERE deal_date >= '2025-12-01' AND deal_date < '2026-01-01'",
        "uzex_lot_items_name": "SELECT * FROM uzex_lot_items WHERE lower(name) = 'труба'",
    }
    async with pool.acquire() as conn:
        # tiny tables: forbid sequential scans so the planner shows which index serves each
        await conn.execute("ANALYZE; SET enable_seqscan = off")
        for index, query in questions.items():
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {query}"))
            assert index in plan, (index, plan)


async def test_a_refused_lot_is_dead_lettered_alone_and_its_page_lands(pool: asyncpg.Pool) -> None:
    base = auction_lot()
    lots = [dataclasses.replace(base, lot_id=1000 + n, display_no=str(n)) for n in range(100)]
    # a NUL byte: PostgreSQL refuses it in text, so the whole page's transaction fails
    lots[42] = dataclasses.replace(lots[42], customer_name="bad\x00name")
    lines = tuple(dataclasses.replace(i, lot_id=1007) for i in items_379514())
    writer = Writer(pool, WriterConfig(flush_interval_s=0.01), [UzexSink()])
    task = asyncio.create_task(writer.run())
    try:
        await writer.put(UzexPage("auction", "completed", tuple(lots), lines, (1007,)))
        await writer.put(CursorMark("uzex.auction", 100, 1, 100, 1099))
        # lines of two lots fetched on their own, one line refused
        poisoned = dataclasses.replace(lines[0], lot_id=1011, name="x\x00")
        fine = dataclasses.replace(lines[0], lot_id=1012)
        await writer.put(UzexPage("auction", "completed", (), (poisoned, fine), (1011, 1012)))
        await writer.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    stored = {r[0] for r in await pool.fetch("SELECT lot_id FROM uzex_lots")}
    assert stored == {lot.lot_id for lot in lots} - {1042}
    dead = await pool.fetch("SELECT scope, entity_id, kind FROM dead_letters ORDER BY entity_id")
    assert [tuple(r) for r in dead] == [
        ("uzex.auction.items", 1011, "write_failed"),
        ("uzex.auction", 1042, "write_failed"),
    ]
    assert writer.stats.poison == 2
    counts = await pool.fetch(
        "SELECT lot_id, count(*) FROM uzex_lot_items GROUP BY lot_id ORDER BY lot_id"
    )
    assert [tuple(r) for r in counts] == [(1007, len(lines)), (1012, 1)]
    cursor = await load_cursor(pool, "uzex.auction")
    assert cursor is not None and cursor.position == 100
