"""The characteristics of an Uzum product and its SKUs, whose labels point into them.

A SKU names its variant by indexes into the product's characteristics (`charIndex`,
`valueIndex`); the label table is built once per product so a 100-SKU product stays cheap, and a
reference out of range fails the product with a reason naming the SKU.
"""

from __future__ import annotations

import json
from typing import Any

from marketplaced.platforms.uzum.fields import (
    COMPACT,
    INT32,
    SHORT_MAX,
    Bad,
    barcode,
    count_or_zero,
    expected,
    kind_of,
    need_dict,
    need_id,
    need_str,
    opt_int,
    opt_list,
    opt_price,
    opt_str,
)
from marketplaced.platforms.uzum.records import SkuRecord
from marketplaced.text import clean_text

#: SKU fields holding so'm; a decimal string in one is accepted but counted as coerced
_PRICE_KEYS = ("fullPrice", "purchasePrice")


def parse_characteristics(raw: list[Any]) -> tuple[str, list[list[str]]]:
    """The product's characteristics as compact JSON, and the SKU label table: labels[c][v] is
    "Rang: Koʻk". Building labels once per product keeps a 100-SKU product cheap."""
    doc: list[dict[str, object]] = []
    labels: list[list[str]] = []
    for i, item in enumerate(raw):
        try:
            title, values = _characteristic(need_dict(item, ""))
        except Bad as bad:
            raise bad.under(f"characteristics[{i}]") from None
        doc.append({"title": title, "values": [{"title": t, "value": v} for t, v in values]})
        labels.append([f"{title}: {t}" for t, _ in values])
    return json.dumps(doc, ensure_ascii=False, separators=COMPACT), labels


def _characteristic(obj: dict[str, Any]) -> tuple[str, list[tuple[str, str | None]]]:
    title = need_str(obj, "title", SHORT_MAX)
    values = []
    for j, raw in enumerate(opt_list(obj, "values")):
        try:
            value = need_dict(raw, "")
            values.append((need_str(value, "title", SHORT_MAX), opt_str(value, "value", SHORT_MAX)))
        except Bad as bad:
            raise bad.under(f"values[{j}]") from None
    return title, values


def parse_skus(
    raw: list[Any], labels: list[list[str]], pid: int, coerced: list[str]
) -> tuple[SkuRecord, ...]:
    skus = []
    for i, item in enumerate(raw):
        try:
            skus.append(_sku(need_dict(item, ""), labels, pid))
        except Bad as bad:
            raise bad.under(f"skuList[{i}]") from None
        for key in _PRICE_KEYS:
            if type(item.get(key)) is str:
                coerced.append(f"skuList[{i}].{key}")
    return tuple(skus)


def _sku(raw: dict[str, Any], labels: list[list[str]], pid: int) -> SkuRecord:
    sku_id = need_id(raw, "id")
    full_price = opt_price(raw, "fullPrice")
    price = opt_price(raw, "purchasePrice")
    if price is None:
        # Old payloads may lack purchasePrice; the list price is then the price paid.
        if full_price is None:
            raise Bad("purchasePrice", "missing, and no fullPrice to fall back on")
        price = full_price
    stock_type, delivery_days = _stock(raw.get("stock"))
    return SkuRecord(
        id=sku_id,
        product_id=pid,
        full_price=full_price,
        purchase_price=price,
        available_amount=count_or_zero(raw, "availableAmount"),
        barcode=barcode(raw),
        stock_type=stock_type,
        delivery_days=delivery_days,
        characteristics=_sku_label(opt_list(raw, "characteristics"), labels, sku_id),
        discount_badge=_discount_badge(raw.get("discountBadge")),
    )


def _sku_label(refs: list[Any], labels: list[list[str]], sku_id: int) -> str:
    """Decode [{charIndex, valueIndex}] into "Rang: Koʻk, Iphone modeli: 15 pro"."""
    parts = []
    for j, ref in enumerate(refs):
        if type(ref) is dict:
            char_index = ref.get("charIndex")
            value_index = ref.get("valueIndex")
            # type() excludes bools; the bounds exclude negatives, which Python would accept
            if (
                type(char_index) is int
                and type(value_index) is int
                and 0 <= char_index < len(labels)
                and 0 <= value_index < len(labels[char_index])
            ):
                parts.append(labels[char_index][value_index])
                continue
        raise Bad(f"characteristics[{j}]", _bad_ref(ref, labels, sku_id))
    return ", ".join(parts)


def _bad_ref(ref: object, labels: list[list[str]], sku_id: int) -> str:
    if type(ref) is not dict:
        return f"sku {sku_id}: {expected('dict', ref)}"
    char_index, value_index = ref.get("charIndex"), ref.get("valueIndex")
    if type(char_index) is not int or type(value_index) is not int:
        got = f"{kind_of(char_index)}/{kind_of(value_index)}"
        return f"sku {sku_id}: charIndex/valueIndex must be int, got {got}"
    if not 0 <= char_index < len(labels):
        return f"sku {sku_id}: charIndex {char_index} out of range ({len(labels)} characteristics)"
    count = len(labels[char_index])
    return f"sku {sku_id}: valueIndex {value_index} out of range ({count} values at {char_index})"


def _stock(raw: object) -> tuple[str | None, int | None]:
    if raw is None:
        return None, None
    try:
        stock = need_dict(raw, "")
        return opt_str(stock, "type", SHORT_MAX), opt_int(stock, "deliveryDays", INT32)
    except Bad as bad:
        raise bad.under("stock") from None


def _discount_badge(raw: object) -> str | None:
    """Seen as null, a string or an object; stored as text (an object's `text`, else its JSON)."""
    if raw is None:
        return None
    if type(raw) is str:
        return clean_text(raw, SHORT_MAX)
    if type(raw) is dict and type(raw.get("text")) is str:
        return clean_text(raw["text"], SHORT_MAX)
    return clean_text(json.dumps(raw, ensure_ascii=False, separators=COMPACT), SHORT_MAX)
