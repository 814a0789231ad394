"""The items of a UZEX lot: auction items, shop rows that are their own item, e-tender budget
products (JSON inside a string), with unit and unit price worked out the same way for each.

Item lists are parsed all-or-nothing: storing half of a lot's items would make the lot look
complete when it is not, so one bad item is a `ParseError` for the whole lot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from marketplaced.errors import ParseError
from marketplaced.platforms.uzex.records import LotItemRecord, LotType
from marketplaced.platforms.uzex.values import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    Row,
    compact_json,
    to_text,
)

#: the js_properties entry that holds an item's unit of measure
UNIT_PROPERTY = "Единица измерения"

_CENT = Decimal("0.01")


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


def _product_item(row: Row, lot_type: LotType, lot_id: int, position: int) -> LotItemRecord:
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


def row_item(row: Row, lot_type: LotType, lot_id: int, cost_key: str) -> LotItemRecord:
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


def budget_products(value: object, lot_id: int) -> list[LotItemRecord]:
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
    row = Row({str(k).lower(): v for k, v in entry.items()})
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


def product_items(entries: list[object], lot_type: LotType, lot_id: int) -> list[LotItemRecord]:
    items = []
    for position, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping):
            raise ParseError(f"item {position}: not an object", entity_id=lot_id)
        try:
            items.append(_product_item(Row(entry), lot_type, lot_id, position))
        except ParseError as exc:
            raise ParseError(f"item {position}: {exc.reason}", entity_id=lot_id) from None
    return items
