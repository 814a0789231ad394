"""UZEX storage: the writer's sink for lot pages and reference lists.

A scanner puts one `UzexPage` per list page (its lots, and the items it fetched for them), so a
lot and its items always commit together. Per batch the sink de-duplicates by key (last wins,
except that an "active" observation never replaces a "completed" one: an active list read a
moment before the lot closed must not undo its deal), COPYs lots and items into temp tables,
appends status history only where status, deal cost or treasury/deal status changed, then
upserts lots → items → the product-name catalogue → parties. A lot seen in a poorer shape (an
active list row) keeps what a richer one (GetLot, an earlier row) told us: missing values do not
erase stored ones. Parties are derived from the lots, so their names can follow deal dates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from marketplaced.platforms.uzex.records import (
    LotItemRecord,
    LotRecord,
    LotStatus,
    LotType,
    RegionRecord,
    UzexCategoryRecord,
)
from marketplaced.writer import copy_rows


def scope(lot_type: LotType, what: str = "") -> str:
    """Dead-letter / parse-failure scope: `uzex.auction`, `uzex.auction.items` …"""
    return f"uzex.{lot_type}" + (f".{what}" if what else "")


@dataclass(frozen=True, slots=True)
class UzexPage:
    """One queue item: what one list page (or one detail fetch) yielded.

    `source` says which prices the items carry: "active" (start prices of an open lot) or
    "completed" (the deal's). `item_lots` names the lots whose COMPLETE item list is in `items`;
    their stored lines missing from it are deleted (a lot whose items were not fetched, e.g.
    after a 404, is not listed and keeps what it had).
    """

    lot_type: LotType
    source: LotStatus
    lots: tuple[LotRecord, ...] = ()
    items: tuple[LotItemRecord, ...] = ()
    item_lots: tuple[int, ...] = ()
    #: resolved by the writer once the page is committed
    ack: asyncio.Future[None] | None = field(default=None, compare=False)


_LOT_COLS = (
    "lot_type",
    "lot_id",
    "display_no",
    "deal_id",
    "status",
    "start_date",
    "end_date",
    "deal_date",
    "start_cost",
    "deal_cost",
    "currency",
    "participants",
    "category_name",
    "customer_inn",
    "customer_name",
    "customer_region",
    "provider_inn",
    "provider_name",
    "provider_region",
    "is_budget",
    "type_name",
    "kazna_status",
    "kazna_payment_status",
    "deal_status_name",
    "extra",
)
_ITEM_COLS = (
    "lot_type",
    "lot_id",
    "line_no",
    "name",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "cost",
    "country",
    "currency",
    "properties",
    "priced_as",
)
_PARTY_COLS = ("inn", "kind", "name", "name_at", "first_deal", "last_deal")
#: values that only ever fill in: a shape that lacks them must not erase them
_KEPT = tuple(c for c in _LOT_COLS if c not in ("lot_type", "lot_id", "status", "extra"))
#: what a status-history row records
_TRACKED = ("deal_cost", "kazna_status", "kazna_payment_status", "deal_status_name")

_TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS tmp_uzex_lots (LIKE uzex_lots INCLUDING DEFAULTS)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_uzex_items (LIKE uzex_lot_items INCLUDING DEFAULTS)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_uzex_parties (LIKE uzex_parties INCLUDING DEFAULTS)
    ON COMMIT DELETE ROWS;
"""

# A lot already stored as completed is never taken back to active (nor are its deal-priced
# items replaced by start prices): drop such observations before anything compares or writes.
_DROP_DOWNGRADES = """
DELETE FROM tmp_uzex_lots t USING uzex_lots l
WHERE t.status = 'active' AND l.status = 'completed'
  AND l.lot_type = t.lot_type AND l.lot_id = t.lot_id;
DELETE FROM tmp_uzex_items t USING uzex_lots l
WHERE t.priced_as = 'active' AND l.status = 'completed'
  AND l.lot_type = t.lot_type AND l.lot_id = t.lot_id;
"""


def _merged(col: str) -> str:
    return f"COALESCE(t.{col}, l.{col})"


# Computed BEFORE the upsert overwrites the values it compares with; new lots get a row too.
_STATUS_HISTORY = f"""
INSERT INTO uzex_lot_status_history
    (lot_type, lot_id, observed_at, status, {", ".join(_TRACKED)})
SELECT t.lot_type, t.lot_id, $1, t.status, {", ".join(_merged(c) for c in _TRACKED)}
FROM tmp_uzex_lots t LEFT JOIN uzex_lots l ON l.lot_type = t.lot_type AND l.lot_id = t.lot_id
WHERE l.lot_id IS NULL
   OR (t.status, {", ".join(_merged(c) for c in _TRACKED)})
      IS DISTINCT FROM (l.status, {", ".join(f"l.{c}" for c in _TRACKED)})
ON CONFLICT DO NOTHING"""  # noqa: S608 - identifiers are constants

_UPSERT_LOTS = f"""
INSERT INTO uzex_lots AS l ({", ".join(_LOT_COLS)}, first_seen, last_seen, completed_seen)
SELECT {", ".join(_LOT_COLS)}, $1, $1, CASE WHEN status = 'completed' THEN $1::timestamptz END
FROM tmp_uzex_lots
ON CONFLICT (lot_type, lot_id) DO UPDATE SET
    status = EXCLUDED.status,
    {", ".join(f"{c} = COALESCE(EXCLUDED.{c}, l.{c})" for c in _KEPT)},
    extra = l.extra || EXCLUDED.extra,
    last_seen = EXCLUDED.last_seen,
    completed_seen = COALESCE(l.completed_seen, EXCLUDED.completed_seen)"""  # noqa: S608

# Lines of a lot whose complete item list arrived but that are not in it any more. A list of
# start-priced lines never prunes a lot that is stored as completed.
_DELETE_STALE_ITEMS = """
DELETE FROM uzex_lot_items i
USING unnest($1::text[], $2::bigint[], $3::text[]) AS s(lot_type, lot_id, source)
WHERE i.lot_type = s.lot_type AND i.lot_id = s.lot_id
  AND (s.source = 'completed' OR NOT EXISTS (
      SELECT 1 FROM uzex_lots l
      WHERE l.lot_type = s.lot_type AND l.lot_id = s.lot_id AND l.status = 'completed'))
  AND NOT EXISTS (SELECT 1 FROM tmp_uzex_items t WHERE t.lot_type = i.lot_type
                  AND t.lot_id = i.lot_id AND t.line_no = i.line_no)"""

_UPSERT_ITEMS = f"""
INSERT INTO uzex_lot_items ({", ".join(_ITEM_COLS)}, first_seen, last_seen)
SELECT {", ".join(_ITEM_COLS)}, $1, $1 FROM tmp_uzex_items
ON CONFLICT (lot_type, lot_id, line_no) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _ITEM_COLS[3:])},
    last_seen = EXCLUDED.last_seen"""  # noqa: S608


def _take_if(condition: str, cols: tuple[str, ...]) -> str:
    """SET clauses that take the incoming values only when `condition` holds."""
    return ", ".join(f"{c} = CASE WHEN {condition} THEN EXCLUDED.{c} ELSE p.{c} END" for c in cols)


# One row per lower-cased name: the batch's newest (by the lot's date) against the stored one.
_PRODUCT_SETS = _take_if(
    "(p.price_at IS NULL OR EXCLUDED.price_at >= p.price_at)",
    ("name", "unit", "unit_price", "price_at", "lot_type", "lot_id"),
)
_UPSERT_PRODUCTS = f"""
INSERT INTO uzex_products AS p
    (name_key, name, unit, unit_price, price_at, lot_type, lot_id, first_seen, last_seen)
SELECT DISTINCT ON (lower(t.name))
       lower(t.name), t.name, t.unit, t.unit_price, COALESCE(l.deal_date, l.start_date),
       t.lot_type, t.lot_id, $1, $1
FROM tmp_uzex_items t
LEFT JOIN uzex_lots l ON l.lot_type = t.lot_type AND l.lot_id = t.lot_id
WHERE t.name IS NOT NULL
ORDER BY lower(t.name), COALESCE(l.deal_date, l.start_date) DESC NULLS LAST, t.lot_id DESC
ON CONFLICT (name_key) DO UPDATE SET
    {_PRODUCT_SETS},
    last_seen = EXCLUDED.last_seen"""  # noqa: S608 - identifiers are constants

# The name follows the most recent deal that named the party; the deal range only widens.
_PARTY_SETS = _take_if(
    "EXCLUDED.name IS NOT NULL AND (p.name IS NULL OR p.name_at IS NULL"
    " OR EXCLUDED.name_at >= p.name_at)",
    ("name", "name_at"),
)
_UPSERT_PARTIES = f"""
INSERT INTO uzex_parties AS p
    (inn, kind, name, name_at, first_deal, last_deal, first_seen, last_seen)
SELECT inn, kind, name, name_at, first_deal, last_deal, $1, $1 FROM tmp_uzex_parties
ON CONFLICT (inn, kind) DO UPDATE SET
    {_PARTY_SETS},
    first_deal = LEAST(p.first_deal, EXCLUDED.first_deal),
    last_deal = GREATEST(p.last_deal, EXCLUDED.last_deal),
    last_seen = EXCLUDED.last_seen"""  # noqa: S608 - identifiers are constants


def _upsert_reference(table: str) -> str:
    return (
        f"INSERT INTO {table} (id, name, first_seen, last_seen) "  # noqa: S608 - constant
        "SELECT id, name, $3, $3 FROM unnest($1::bigint[], $2::text[]) AS r(id, name) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, last_seen = EXCLUDED.last_seen"
    )


_UPSERT_CATEGORIES = _upsert_reference("uzex_categories")
_UPSERT_REGIONS = _upsert_reference("uzex_regions")

# Lots whose items were fetched resolve the dead letter left by an earlier failed fetch.
_RESOLVE_DEAD = """
DELETE FROM dead_letters d USING unnest($1::text[], $2::bigint[]) AS s(scope, entity_id)
WHERE d.scope = s.scope AND d.entity_id = s.entity_id"""

# a lot (or its items) stored now heals the parse failure recorded for it earlier, in the same
# transaction: parse_failures only ever lists what is still failing
_RESOLVE_PARSE_FAILURES = """
DELETE FROM parse_failures p USING unnest($1::text[], $2::bigint[]) AS s(scope, entity_id)
WHERE p.scope = s.scope AND p.entity_id = s.entity_id::text"""


class UzexSink:
    """Writer sink for `UzexPage`, `UzexCategoryRecord` and `RegionRecord`."""

    types: tuple[type, ...] = (UzexPage, UzexCategoryRecord, RegionRecord)

    async def write(
        self, conn: asyncpg.Connection, groups: Mapping[type, list[Any]], now: datetime
    ) -> int:
        rows = await self._write_pages(conn, groups.get(UzexPage, []), now)
        for record_type, query in (
            (UzexCategoryRecord, _UPSERT_CATEGORIES),
            (RegionRecord, _UPSERT_REGIONS),
        ):
            records = {r.id: r for r in groups.get(record_type, ())}  # last wins
            if records:
                names = [r.name for r in records.values()]
                await conn.execute(query, list(records), names, now)
                rows += len(records)
        return rows

    def identify(self, item: Any) -> tuple[str, int]:
        if not isinstance(item, UzexPage):
            return "uzex.reference", int(item.id)
        if item.lots:
            return scope(item.lot_type), item.lots[0].lot_id
        # items without their lot came from a detail fetch: the items pass asks again for
        # lots dead-lettered under `<scope>.items`
        first = item.item_lots[0] if item.item_lots else item.items[0].lot_id if item.items else 0
        return scope(item.lot_type, "items"), first

    def split(self, item: Any) -> list[Any]:
        """A page as one page per lot (the lot, its items, its complete-list claim), so a lot
        PostgreSQL refuses is dead-lettered alone and the rest of its page is stored."""
        if not isinstance(item, UzexPage):
            return [item]
        lot_ids = dict.fromkeys(
            [lot.lot_id for lot in item.lots]
            + [line.lot_id for line in item.items]
            + list(item.item_lots)
        )
        if len(lot_ids) <= 1:
            return [item]
        return [
            UzexPage(
                item.lot_type,
                item.source,
                tuple(lot for lot in item.lots if lot.lot_id == lot_id),
                tuple(line for line in item.items if line.lot_id == lot_id),
                (lot_id,) if lot_id in item.item_lots else (),
            )
            for lot_id in lot_ids
        ]

    async def _write_pages(
        self, conn: asyncpg.Connection, pages: Sequence[UzexPage], now: datetime
    ) -> int:
        if not pages:
            return 0
        lots = _latest_lots(pages)
        items, item_lots = _latest_items(pages, lots)
        parties = _parties(lots.values())
        await conn.execute(_TEMP_TABLES)
        await copy_rows(conn, "tmp_uzex_lots", _LOT_COLS, (_lot_row(lot) for lot in lots.values()))
        await copy_rows(conn, "tmp_uzex_items", _ITEM_COLS, items.values())
        await copy_rows(conn, "tmp_uzex_parties", _PARTY_COLS, parties)
        await conn.execute(_DROP_DOWNGRADES)
        if lots:
            await conn.execute(_STATUS_HISTORY, now)
            await conn.execute(_UPSERT_LOTS, now)
            stored = list(lots.values())
            await conn.execute(
                _RESOLVE_PARSE_FAILURES,
                [scope(lot.lot_type) for lot in stored],
                [lot.lot_id for lot in stored],
            )
        if item_lots:
            types = [t for t, _ in item_lots]
            ids = [i for _, i in item_lots]
            await conn.execute(_DELETE_STALE_ITEMS, types, ids, list(item_lots.values()))
            await conn.execute(_RESOLVE_DEAD, [scope(t, "items") for t in types], ids)
            await conn.execute(_RESOLVE_PARSE_FAILURES, [scope(t, "items") for t in types], ids)
        if items:
            await conn.execute(_UPSERT_ITEMS, now)
            await conn.execute(_UPSERT_PRODUCTS, now)
        if parties:
            await conn.execute(_UPSERT_PARTIES, now)
        return len(lots) + len(items) + len(parties)


def _latest_lots(pages: Sequence[UzexPage]) -> dict[tuple[str, int], LotRecord]:
    """Last observation of each lot wins, except that active never replaces completed."""
    lots: dict[tuple[str, int], LotRecord] = {}
    for page in pages:
        for lot in page.lots:
            key = (lot.lot_type, lot.lot_id)
            held = lots.get(key)
            if held is None or not (held.status == "completed" and lot.status == "active"):
                lots[key] = lot
    return lots


def _latest_items(
    pages: Sequence[UzexPage], lots: Mapping[tuple[str, int], LotRecord]
) -> tuple[dict[tuple[str, int, int], tuple[Any, ...]], dict[tuple[LotType, int], LotStatus]]:
    """Item rows by key (same rule as lots), and the lots whose item list is complete → source.

    Start-priced lines of a lot that completed within this very batch are dropped, and so is
    an active page's "complete list" claim for such a lot.
    """
    items: dict[tuple[str, int, int], tuple[Any, ...]] = {}
    complete: dict[tuple[LotType, int], LotStatus] = {}
    for page in pages:
        for item in page.items:
            if page.source == "active" and _completed(lots, item.lot_type, item.lot_id):
                continue
            key = (item.lot_type, item.lot_id, item.line_no)
            held = items.get(key)
            if held is None or not (held[-1] == "completed" and page.source == "active"):
                items[key] = _item_row(item, page.source)
        for lot_id in page.item_lots:
            key2 = (page.lot_type, lot_id)
            claims = page.source == "completed" or not _completed(lots, page.lot_type, lot_id)
            if claims and complete.get(key2) != "completed":
                complete[key2] = page.source
    return items, complete


def _completed(lots: Mapping[tuple[str, int], LotRecord], lot_type: str, lot_id: int) -> bool:
    lot = lots.get((lot_type, lot_id))
    return lot is not None and lot.status == "completed"


def _parties(lots: Iterable[LotRecord]) -> list[tuple[Any, ...]]:
    """One row per (INN, kind): the name of the most recent lot and the range of lot dates."""
    found: dict[tuple[str, str], list[Any]] = {}
    for lot in lots:
        when = lot.deal_date or lot.start_date
        for inn, name, kind in (
            (lot.customer_inn, lot.customer_name, "customer"),
            (lot.provider_inn, lot.provider_name, "provider"),
        ):
            if inn is None:
                continue
            row = found.get((inn, kind))
            if row is None:
                named_at = when if name is not None else None
                found[(inn, kind)] = [inn, kind, name, named_at, when, when]
                continue
            if name is not None and (row[2] is None or _newer(when, row[3])):
                row[2], row[3] = name, when
            row[4] = _earliest(row[4], when)
            row[5] = _latest(row[5], when)
    return [tuple(row) for row in found.values()]


def _newer(when: datetime | None, than: datetime | None) -> bool:
    return when is not None and (than is None or when >= than)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _lot_row(lot: LotRecord) -> tuple[Any, ...]:
    return (
        lot.lot_type,
        lot.lot_id,
        lot.display_no,
        lot.deal_id,
        lot.status,
        lot.start_date,
        lot.end_date,
        lot.deal_date,
        lot.start_cost,
        lot.deal_cost,
        lot.currency,
        lot.participants,
        lot.category_name,
        lot.customer_inn,
        lot.customer_name,
        lot.customer_region,
        lot.provider_inn,
        lot.provider_name,
        lot.provider_region,
        lot.is_budget,
        lot.type_name,
        lot.kazna_status,
        lot.kazna_payment_status,
        lot.deal_status_name,
        lot.extra_json,
    )


def _item_row(item: LotItemRecord, priced_as: LotStatus) -> tuple[Any, ...]:
    return (
        item.lot_type,
        item.lot_id,
        item.line_no,
        item.name,
        item.description,
        item.quantity,
        item.unit,
        item.unit_price,
        item.cost,
        item.country,
        item.currency,
        item.properties_json,
        priced_as,  # last: _latest_items reads it back as row[-1]
    )
