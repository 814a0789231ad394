"""Turn UZEX JSON payloads into records, one function per endpoint.

The scanner fetches a page (a bare JSON array whose rows each carry `total_count` and an
unsorted `rn`) and hands the decoded body here; what comes back is a `PageResult` with lots,
items, parties and the rows that could not be parsed. A malformed row becomes a failure with its
reason and the rest of the page is still parsed; only a page that is not an array at all raises
`ParseError`. Item lists of one lot (`GetCompletedDealProducts`, `GetLot`, `GetTrade`) are parsed
all-or-nothing: storing half of a lot's items would make the lot look complete when it is not.

Upstream quirks are handled by the values (`values`: numbers as floats or numeric strings, dates
without zone, malformed INNs, NUL characters and absurdly long strings) and the items (`items`:
e-tender `budget_products` that is JSON inside a string) this module builds lots from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from marketplaced.errors import ParseError
from marketplaced.platforms.uzex.items import budget_products, product_items, row_item
from marketplaced.platforms.uzex.records import (
    LotItemRecord,
    LotRecord,
    LotStatus,
    LotType,
    PartyRecord,
    RegionRecord,
    UzexCategoryRecord,
)
from marketplaced.platforms.uzex.values import Row, row_key, to_int

_R = TypeVar("_R")


@dataclass(slots=True)
class PageResult:
    """What one list page (or one lot detail) yielded."""

    lots: list[LotRecord] = field(default_factory=list)
    items: list[LotItemRecord] = field(default_factory=list)
    parties: list[PartyRecord] = field(default_factory=list)
    #: (row key, reason) for every row that could not be parsed
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: the upstream's `total_count`; None for an empty page (the signal to stop paging)
    total_count: int | None = None


@dataclass(slots=True)
class ReferenceResult(Generic[_R]):
    """What a reference list (categories, regions) yielded."""

    records: list[_R] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


# --- lots and parties ---------------------------------------------------------------------


def _lot(
    row: Row,
    lot_type: LotType,
    status: LotStatus,
    id_key: str,
    start_cost_keys: tuple[str, ...] = ("start_cost",),
) -> LotRecord:
    """Read a lot from any list or detail shape; the key aliases cover every known variant."""
    return LotRecord(
        lot_type=lot_type,
        lot_id=row.required_int(id_key),
        display_no=row.text("lot_display_no", "display_no"),
        deal_id=row.integer("deal_id"),
        status=status,
        start_date=row.date("lot_start_date", "start_date"),
        end_date=row.date("lot_end_date", "end_date"),
        deal_date=row.date("deal_date"),
        start_cost=row.money(*start_cost_keys),
        deal_cost=row.money("deal_cost"),
        currency=row.text("currency_name"),
        participants=row.integer("pcp_count", "participants_count"),
        category_name=row.text("category_name"),
        customer_inn=row.inn("customer_inn"),
        customer_name=row.text("customer_name"),
        customer_region=row.text("customer_region", "customer_region_name", "region_name"),
        provider_inn=row.inn("provider_inn"),
        provider_name=row.text("provider_name"),
        provider_region=row.text("provider_region", "provider_region_name"),
        is_budget=row.flag("is_budget"),
        type_name=row.text("type_name", "customer_type_name", "customer_type"),
        kazna_status=row.text("kazna_status", "deal_contract_kazna_status_name"),
        kazna_payment_status=row.text("kazna_payment_status"),
        deal_status_name=row.text("deal_status_name"),
        extra_json=row.extra_json(),  # last: everything read above is excluded from it
    )


def _parties(lot: LotRecord) -> Iterable[PartyRecord]:
    if lot.customer_inn is not None:
        yield PartyRecord(inn=lot.customer_inn, name=lot.customer_name, kind="customer")
    if lot.provider_inn is not None:
        yield PartyRecord(inn=lot.provider_inn, name=lot.provider_name, kind="provider")


# --- pages ---------------------------------------------------------------------------------

_RowParser = Callable[[Row, LotType], tuple[LotRecord, list[LotItemRecord]]]


def _parse_page(rows: object, lot_type: LotType, id_key: str, parse_row: _RowParser) -> PageResult:
    if not isinstance(rows, list):
        raise ParseError(f"expected a JSON array of rows, got {type(rows).__name__}")
    result = PageResult()
    parties: dict[tuple[str, str], PartyRecord] = {}
    for index, raw in enumerate(rows):
        key = row_key(raw, id_key, index)
        if not isinstance(raw, Mapping):
            result.failures.append((key, "row is not an object"))
            continue
        if result.total_count is None:
            result.total_count = _total_count(raw)
        try:
            lot, items = parse_row(Row(raw), lot_type)
        except ParseError as exc:
            result.failures.append((key, exc.reason))
            continue
        result.lots.append(lot)
        result.items.extend(items)
        parties.update(((p.inn, p.kind), p) for p in _parties(lot))  # last name seen wins
    result.parties = list(parties.values())
    return result


def _total_count(raw: Mapping[str, object]) -> int | None:
    """Page bookkeeping: a garbled total_count must not cost the row its data."""
    try:
        return to_int(raw.get("total_count"))
    except ParseError:
        return None


def _completed_auction_row(row: Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    return _lot(row, lot_type, "completed", "lot_id"), []


def _completed_shop_row(row: Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    lot_id = row.required_int("lot_id")
    item = row_item(row, lot_type, lot_id, cost_key="deal_cost")  # before the lot: see extra
    return _lot(row, lot_type, "completed", "lot_id"), [item]


def _active_auction_row(row: Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    return _lot(row, lot_type, "active", "id"), []


def _active_shop_row(row: Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    lot_id = row.required_int("id")
    item = row_item(row, lot_type, lot_id, cost_key="cost")
    # an open shop offer has no deal yet: its `cost` is what the customer starts from
    return _lot(row, lot_type, "active", "id", start_cost_keys=("start_cost", "cost")), [item]


def _etender_row(row: Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    lot_id = row.required_int("trade_id")
    # DealsList rows seen so far have no budget_products; GetTrade has it. Accept both.
    items = budget_products(row.raw("budget_products"), lot_id)
    return _lot(row, lot_type, "completed", "trade_id"), items


def parse_completed_deals(lot_type: LotType, rows: object) -> PageResult:
    """A `GetCompletedDeals` page (auction, shop or national) or, for "etender", `DealsList`."""
    if lot_type == "etender":
        return parse_etender_deals(rows)
    parse_row = _completed_auction_row if lot_type == "auction" else _completed_shop_row
    return _parse_page(rows, lot_type, "lot_id", parse_row)


def parse_active_lots(lot_type: LotType, rows: object) -> PageResult:
    """A `GetMinimizedLotsList` page (auction) or `GetNotCompletedDeals` page (shop, national)."""
    if lot_type == "etender":
        raise ValueError("e-tender has no active-lot list here (TradeList is not scanned)")
    parse_row = _active_auction_row if lot_type == "auction" else _active_shop_row
    return _parse_page(rows, lot_type, "id", parse_row)


def parse_etender_deals(rows: object) -> PageResult:
    """A `DealsList` page of completed e-tender deals, keyed by `trade_id`."""
    return _parse_page(rows, "etender", "trade_id", _etender_row)


def parse_deal_products(lot_type: LotType, lot_id: int, data: object) -> list[LotItemRecord]:
    """`GetCompletedDealProducts/{lot_id}`: every item of one lot, or ParseError for the lot."""
    if not isinstance(data, list):
        raise ParseError(
            f"expected a JSON array of items, got {type(data).__name__}", entity_id=lot_id
        )
    return product_items(data, lot_type, lot_id)


def parse_lot_detail(lot_type: LotType, data: object) -> PageResult:
    """`GetLot/{id}` of an active lot: the lot and its `js_details` items.

    Not recorded in fixtures; the shape follows public scrapers (an object, sometimes wrapped
    in a one-element array, items under `js_details`). An unusable lot raises ParseError.
    """
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, Mapping):
        raise ParseError(f"expected a lot object, got {type(data).__name__}")
    row = Row(data)
    lot_id = row.required_int("id")
    details = row.raw("js_details")
    if details is not None and not isinstance(details, list):
        raise ParseError("js_details: expected a list", entity_id=lot_id)
    items = product_items(details or [], lot_type, lot_id)
    try:
        lot = _lot(row, lot_type, "active", "id")
    except ParseError as exc:
        raise ParseError(exc.reason, entity_id=lot_id) from None
    return PageResult(lots=[lot], items=items, parties=list(_parties(lot)))


def parse_etender_trade(trade_id: int, data: object) -> list[LotItemRecord]:
    """`GetTrade/{trade_id}/0`: the items in its `budget_products` (JSON inside a string)."""
    if not isinstance(data, Mapping):
        raise ParseError(f"expected a trade object, got {type(data).__name__}", entity_id=trade_id)
    return budget_products(data.get("budget_products"), trade_id)


# --- reference lists -----------------------------------------------------------------------


def _reference(rows: object, make: Callable[[int, str], _R]) -> ReferenceResult[_R]:
    if not isinstance(rows, list):
        raise ParseError(f"expected a JSON array, got {type(rows).__name__}")
    result: ReferenceResult[_R] = ReferenceResult()
    for index, raw in enumerate(rows):
        key = row_key(raw, "id", index)
        try:
            if not isinstance(raw, Mapping):
                raise ParseError("row is not an object")
            row = Row(raw)
            name = row.text("name")
            if name is None:
                raise ParseError("name: missing")
            result.records.append(make(row.required_int("id"), name))
        except ParseError as exc:
            result.failures.append((key, exc.reason))
    return result


def parse_categories(rows: object) -> ReferenceResult[UzexCategoryRecord]:
    """`/Lib/GetCategories`: a bare array of `{id, name}`."""
    return _reference(rows, UzexCategoryRecord)


def parse_regions(rows: object) -> ReferenceResult[RegionRecord]:
    """`/Lib/GetRegions`: a bare array of `{id, name}`."""
    return _reference(rows, RegionRecord)
