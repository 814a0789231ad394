"""Turn UZEX JSON payloads into records, one function per endpoint.

The scanner fetches a page (a bare JSON array whose rows each carry `total_count` and an
unsorted `rn`) and hands the decoded body here; what comes back is a `PageResult` with lots,
items, parties and the rows that could not be parsed. A malformed row becomes a failure with its
reason and the rest of the page is still parsed; only a page that is not an array at all raises
`ParseError`. Item lists of one lot (`GetCompletedDealProducts`, `GetLot`, `GetTrade`) are parsed
all-or-nothing: storing half of a lot's items would make the lot look complete when it is not.

Upstream quirks handled here: numbers as floats or numeric strings, dates without zone (Asia/
Tashkent local time), null or malformed INNs (9-digit INN or 14-digit PINFL), NUL characters and
absurdly long strings, e-tender `budget_products` that is JSON inside a string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from marketplaced.errors import ParseError
from marketplaced.platforms.uzex.records import (
    LotItemRecord,
    LotRecord,
    LotStatus,
    LotType,
    PartyRecord,
    RegionRecord,
    UzexCategoryRecord,
)
from marketplaced.text import clean_text

TASHKENT = ZoneInfo("Asia/Tashkent")

#: the js_properties entry that holds an item's unit of measure
UNIT_PROPERTY = "Единица измерения"

# Names and titles end up in btree indexes, whose entries PostgreSQL caps at ~2700 bytes;
# 1000 characters of Cyrillic (2 bytes each in UTF-8) stays well inside that.
MAX_NAME_CHARS = 1000
# The longest real descriptions (technical specifications) are a few KB; anything far above is
# garbage or hostile and would bloat every batch, archive-free copy and dashboard page.
MAX_TEXT_CHARS = 20_000
# Ten quadrillion so'm is several times the whole state budget: larger values are corruption.
# The cap also keeps every amount inside a NUMERIC(20, 2) column.
MAX_AMOUNT = Decimal(10) ** 16
# A numeric string longer than this is not a number anyone meant (and Decimal would parse it).
_MAX_NUMBER_CHARS = 64
# Nesting deeper than this inside a payload is not data; it is cut off before it reaches JSON
# columns (and before recursion could hit Python's limit).
_MAX_JSON_DEPTH = 16
# .NET serialises DateTime.MinValue (0001-01-01) as "no date"; no lot predates the exchange.
_MIN_YEAR = 1990
_CENT = Decimal("0.01")
_INTEGER_TEXT = re.compile(r"[+-]?\d+(?:\.0*)?")
_INN_LENGTHS = (9, 14)  # INN of a legal entity, PINFL of an individual

_R = TypeVar("_R")
_T = TypeVar("_T")


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


# --- value converters: None for null/empty, ParseError for garbage -------------------------


def to_text(value: object, cap: int = MAX_NAME_CHARS) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParseError(f"expected text, got {type(value).__name__}")
    return clean_text(str(value), cap).strip() or None


def to_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError("expected a number, got a boolean")
    number: Decimal | None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # repr is the shortest exact text: 13430000.0, 9971.5
    elif isinstance(value, str):
        number = _decimal_from_text(value)
    else:
        raise ParseError(f"expected a number, got {type(value).__name__}")
    if number is None:
        return None
    if not number.is_finite() or abs(number) >= MAX_AMOUNT:
        raise ParseError(f"number out of range: {_preview(value)}")
    return number


def to_money(value: object) -> Decimal | None:
    number = to_decimal(value)
    if number is not None and number < 0:
        raise ParseError(f"negative amount: {_preview(value)}")
    return number


def _decimal_from_text(value: str) -> Decimal | None:
    text = value.strip()
    if not text:
        return None
    if len(text) > _MAX_NUMBER_CHARS:
        raise ParseError("numeric text too long")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ParseError(f"not a number: {_preview(value)}") from None


def to_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)  # pcp_count arrives as 16.0
        raise ParseError(f"not an integer: {_preview(value)}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) <= _MAX_NUMBER_CHARS and _INTEGER_TEXT.fullmatch(text):
            return int(text.split(".")[0])
        raise ParseError(f"not an integer: {_preview(value)}")
    raise ParseError(f"expected an integer, got {type(value).__name__}")


def to_datetime(value: object) -> datetime | None:
    """ISO local time without zone (the upstream's form) → aware Asia/Tashkent datetime."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"expected a date, got {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    parsed = _parse_date_text(text)
    if parsed.year < _MIN_YEAR:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=TASHKENT)
    return parsed.astimezone(TASHKENT)


def _parse_date_text(text: str) -> datetime:
    if len(text) <= _MAX_NUMBER_CHARS:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        # e-tender contract dates come as "11.04.2025"
        for layout in ("%d.%m.%Y", "%d.%m.%Y %H:%M:%S"):
            try:
                return datetime.strptime(text, layout)
            except ValueError:
                continue
    raise ParseError(f"not a date: {_preview(text)}")


def to_flag(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise ParseError(f"not a 0/1 flag: {_preview(value)}")


def to_inn(value: object) -> str | None:
    """A 9-digit INN or 14-digit PINFL as text; None when absent or not of that form."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isascii() and text.isdigit() and len(text) in _INN_LENGTHS:
        return text
    return None


def to_json_value(value: object, depth: int = 0) -> object:
    """Make a decoded payload fragment safe for a JSON column: clean strings, no NaN."""
    if isinstance(value, str):
        return clean_text(value, MAX_TEXT_CHARS)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # PostgreSQL jsonb rejects NaN and Infinity
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= _MAX_JSON_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {
            clean_text(str(k), MAX_NAME_CHARS): to_json_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [to_json_value(v, depth + 1) for v in value]
    return clean_text(str(value), MAX_NAME_CHARS)


def compact_json(value: object) -> str:
    return json.dumps(to_json_value(value), ensure_ascii=False, separators=(",", ":"))


def _preview(value: object) -> str:
    """A short, clean rendering of a bad value for a failure reason."""
    return clean_text(repr(value), 60)


# --- one upstream row ----------------------------------------------------------------------


class _Row:
    """Typed, named access to one upstream object.

    Every key read is remembered so the keys nobody read end up in `extra_json`; a conversion
    error is re-raised with the key's name so failure reasons say which field was wrong.
    """

    __slots__ = ("_data", "_invalid", "_used")

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data
        self._used: set[str] = {"rn", "total_count"}  # page bookkeeping, not lot data
        self._invalid: dict[str, object] = {}

    def raw(self, key: str) -> object:
        self._used.add(key)
        return self._data.get(key)

    def _first(self, keys: Iterable[str], convert: Callable[[object], _T | None]) -> _T | None:
        found: _T | None = None
        for key in keys:
            try:
                value = convert(self.raw(key))
            except ParseError as exc:
                raise ParseError(f"{key}: {exc.reason}") from None
            if found is None:
                found = value
        return found

    def text(self, *keys: str, cap: int = MAX_NAME_CHARS) -> str | None:
        return self._first(keys, lambda value: to_text(value, cap))

    def integer(self, *keys: str) -> int | None:
        return self._first(keys, to_int)

    def decimal(self, *keys: str) -> Decimal | None:
        return self._first(keys, to_decimal)

    def money(self, *keys: str) -> Decimal | None:
        """A sum in so'm: like `decimal`, but a negative sum is an error (the lot fails to
        parse): no cost, price or deal value is below zero, and one stored would turn into
        false totals in the monthly rollups."""
        return self._first(keys, to_money)

    def date(self, *keys: str) -> datetime | None:
        return self._first(keys, to_datetime)

    def flag(self, *keys: str) -> bool | None:
        return self._first(keys, to_flag)

    def required_int(self, key: str) -> int:
        value = self.integer(key)
        if value is None:
            raise ParseError(f"{key}: missing")
        return value

    def inn(self, key: str) -> str | None:
        """An invalid INN becomes None; its raw value is kept in extra_json, the row lives on."""
        value = self.raw(key)
        inn = to_inn(value)
        if inn is None and value not in (None, ""):
            self._invalid[f"{key}_invalid"] = value
        return inn

    def extra_json(self) -> str:
        extra = {k: v for k, v in self._data.items() if k not in self._used}
        extra.update(self._invalid)
        return compact_json(extra)


def _row_key(raw: object, id_key: str, index: int) -> str:
    """How a failed row is named: its id when it has one, else its position in the page."""
    if isinstance(raw, Mapping):
        value = raw.get(id_key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return clean_text(str(value), 64)
    return f"#{index + 1}"


# --- lots, items and parties ---------------------------------------------------------------


def _lot(
    row: _Row,
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


def _properties(value: object) -> tuple[str | None, str]:
    """js_properties → (unit of measure, compact JSON of the whole list)."""
    if value is None:
        return None, "[]"
    if not isinstance(value, list):
        raise ParseError("js_properties: expected a list")
    unit = None
    for entry in value:
        if not isinstance(entry, Mapping):
            raise ParseError("js_properties: entry is not an object")
        if unit is None and to_text(entry.get("property_name")) == UNIT_PROPERTY:
            unit = to_text(entry.get("user_value"))
    return unit, compact_json(value)


def _price(price: Decimal | None, cost: Decimal | None, quantity: Decimal | None) -> Decimal | None:
    """The upstream's unit price, else cost / quantity (shop rows carry only the line total)."""
    return price if price is not None else _unit_price(cost, quantity)


def _unit_price(cost: Decimal | None, quantity: Decimal | None) -> Decimal | None:
    """cost / quantity to the tiyin (1/100 so'm); None when there is no positive quantity."""
    if cost is None or quantity is None or quantity <= 0:
        return None
    try:
        return (cost / quantity).quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # a quotient beyond Decimal's precision: no sensible price
        return None


def _product_item(row: _Row, lot_type: LotType, lot_id: int, position: int) -> LotItemRecord:
    """An auction item (GetCompletedDealProducts) or a GetLot `js_details` entry."""
    description = row.text("description", cap=MAX_TEXT_CHARS)
    name = row.text("product_name") or (description[:MAX_NAME_CHARS] if description else None)
    quantity = row.decimal("quantity", "amount")
    cost = row.money("cost")
    unit, properties = _properties(row.raw("js_properties"))
    return LotItemRecord(
        lot_type=lot_type,
        lot_id=lot_id,
        line_no=_line_no(row.integer("order_num", "rn"), position),
        name=name,
        description=description,
        quantity=quantity,
        unit=unit or row.text("measure_name", "unit_name"),
        unit_price=_price(row.money("price"), cost, quantity),
        cost=cost,
        country=row.text("country_name"),
        currency=row.text("currency_name"),
        properties_json=properties,
    )


def _line_no(value: int | None, position: int) -> int:
    return position if value is None else value


def _row_item(row: _Row, lot_type: LotType, lot_id: int, cost_key: str) -> LotItemRecord:
    """Shop rows (completed or active) are their own single item."""
    description = row.text("condition", cap=MAX_TEXT_CHARS)
    quantity = row.decimal("amount")
    cost = row.money(cost_key)
    unit, properties = _properties(row.raw("js_properties"))
    return LotItemRecord(
        lot_type=lot_type,
        lot_id=lot_id,
        line_no=1,
        name=row.text("product_name") or (description[:MAX_NAME_CHARS] if description else None),
        description=description,
        quantity=quantity,
        unit=unit,
        unit_price=_price(row.money("price"), cost, quantity),
        cost=cost,
        country=row.text("country_name"),
        currency=row.text("currency_name"),
        properties_json=properties,
    )


def _budget_products(value: object, lot_id: int) -> list[LotItemRecord]:
    """e-tender `budget_products`: a JSON array serialised into a string (or, defensively, not)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise ParseError("budget_products: not valid JSON", entity_id=lot_id) from None
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise ParseError("budget_products: expected a list", entity_id=lot_id)
    return [_budget_item(entry, lot_id, position) for position, entry in enumerate(value, 1)]


def _budget_item(entry: object, lot_id: int, position: int) -> LotItemRecord:
    if not isinstance(entry, Mapping):
        raise ParseError(f"budget product {position}: not an object", entity_id=lot_id)
    # keys are capitalised upstream (Product_Name); fold case so either spelling works
    row = _Row({str(k).lower(): v for k, v in entry.items()})
    try:
        quantity = row.decimal("quantity", "amount")
        cost = row.money("cost")
        return LotItemRecord(
            lot_type="etender",
            lot_id=lot_id,
            line_no=position,
            name=row.text("product_name", "name"),
            description=row.text("description", cap=MAX_TEXT_CHARS),
            quantity=quantity,
            unit=row.text("measure_name", "unit_name", "unit"),
            unit_price=_price(row.money("price"), cost, quantity),
            cost=cost,
            country=row.text("country_name"),
            currency=row.text("currency_name"),
            properties_json=row.extra_json(),  # Product_Id, Product_Code, Category_Id, …
        )
    except ParseError as exc:
        raise ParseError(f"budget product {position}: {exc.reason}", entity_id=lot_id) from None


def _parties(lot: LotRecord) -> Iterable[PartyRecord]:
    if lot.customer_inn is not None:
        yield PartyRecord(inn=lot.customer_inn, name=lot.customer_name, kind="customer")
    if lot.provider_inn is not None:
        yield PartyRecord(inn=lot.provider_inn, name=lot.provider_name, kind="provider")


# --- pages ---------------------------------------------------------------------------------

_RowParser = Callable[[_Row, LotType], tuple[LotRecord, list[LotItemRecord]]]


def _parse_page(rows: object, lot_type: LotType, id_key: str, parse_row: _RowParser) -> PageResult:
    if not isinstance(rows, list):
        raise ParseError(f"expected a JSON array of rows, got {type(rows).__name__}")
    result = PageResult()
    parties: dict[tuple[str, str], PartyRecord] = {}
    for index, raw in enumerate(rows):
        key = _row_key(raw, id_key, index)
        if not isinstance(raw, Mapping):
            result.failures.append((key, "row is not an object"))
            continue
        if result.total_count is None:
            result.total_count = _total_count(raw)
        try:
            lot, items = parse_row(_Row(raw), lot_type)
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


def _completed_auction_row(row: _Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    return _lot(row, lot_type, "completed", "lot_id"), []


def _completed_shop_row(row: _Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    lot_id = row.required_int("lot_id")
    item = _row_item(row, lot_type, lot_id, cost_key="deal_cost")  # before the lot: see extra
    return _lot(row, lot_type, "completed", "lot_id"), [item]


def _active_auction_row(row: _Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    return _lot(row, lot_type, "active", "id"), []


def _active_shop_row(row: _Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    lot_id = row.required_int("id")
    item = _row_item(row, lot_type, lot_id, cost_key="cost")
    # an open shop offer has no deal yet: its `cost` is what the customer starts from
    return _lot(row, lot_type, "active", "id", start_cost_keys=("start_cost", "cost")), [item]


def _etender_row(row: _Row, lot_type: LotType) -> tuple[LotRecord, list[LotItemRecord]]:
    lot_id = row.required_int("trade_id")
    # DealsList rows seen so far have no budget_products; GetTrade has it. Accept both.
    items = _budget_products(row.raw("budget_products"), lot_id)
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
    return _product_items(data, lot_type, lot_id)


def _product_items(entries: list[object], lot_type: LotType, lot_id: int) -> list[LotItemRecord]:
    items = []
    for position, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping):
            raise ParseError(f"item {position}: not an object", entity_id=lot_id)
        try:
            items.append(_product_item(_Row(entry), lot_type, lot_id, position))
        except ParseError as exc:
            raise ParseError(f"item {position}: {exc.reason}", entity_id=lot_id) from None
    return items


def parse_lot_detail(lot_type: LotType, data: object) -> PageResult:
    """`GetLot/{id}` of an active lot: the lot and its `js_details` items.

    Not recorded in fixtures; the shape follows public scrapers (an object, sometimes wrapped
    in a one-element array, items under `js_details`). An unusable lot raises ParseError.
    """
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, Mapping):
        raise ParseError(f"expected a lot object, got {type(data).__name__}")
    row = _Row(data)
    lot_id = row.required_int("id")
    details = row.raw("js_details")
    if details is not None and not isinstance(details, list):
        raise ParseError("js_details: expected a list", entity_id=lot_id)
    items = _product_items(details or [], lot_type, lot_id)
    try:
        lot = _lot(row, lot_type, "active", "id")
    except ParseError as exc:
        raise ParseError(exc.reason, entity_id=lot_id) from None
    return PageResult(lots=[lot], items=items, parties=list(_parties(lot)))


def parse_etender_trade(trade_id: int, data: object) -> list[LotItemRecord]:
    """`GetTrade/{trade_id}/0`: the items in its `budget_products` (JSON inside a string)."""
    if not isinstance(data, Mapping):
        raise ParseError(f"expected a trade object, got {type(data).__name__}", entity_id=trade_id)
    return _budget_products(data.get("budget_products"), trade_id)


# --- reference lists -----------------------------------------------------------------------


def _reference(rows: object, make: Callable[[int, str], _R]) -> ReferenceResult[_R]:
    if not isinstance(rows, list):
        raise ParseError(f"expected a JSON array, got {type(rows).__name__}")
    result: ReferenceResult[_R] = ReferenceResult()
    for index, raw in enumerate(rows):
        key = _row_key(raw, "id", index)
        try:
            if not isinstance(raw, Mapping):
                raise ParseError("row is not an object")
            row = _Row(raw)
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
