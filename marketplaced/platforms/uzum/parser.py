"""Turn a decoded Uzum Market product payload into typed records.

The fetcher hands over JSON that is already decoded; this module decides whether it is a
product (`ProductSnapshot`), a "no product at this id" answer (`Missing`, recording the form
the upstream used), or something broken (`ParseError` whose reason names the field path). It
accepts the 2025 shape and the 2022–2023 shape (float prices, no localised titles, fewer
fields), makes every string storable in PostgreSQL, and raises nothing but `ParseError`. It
sits on the hot path (≥ 1,500 products/s), so checks are plain `type()` tests and a field path
is only assembled once something has already gone wrong.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marketplaced.errors import ParseError
from marketplaced.platforms.uzum.records import (
    CategoryRecord,
    Missing,
    ProductRecord,
    ProductSnapshot,
    SellerRecord,
    SkuRecord,
)
from marketplaced.text import clean_text

__all__ = ["parse_product"]

# Length caps. Real titles are under ~400 characters and real descriptions under ~30 kB; a value
# far beyond that is junk or hostile, and storing it whole would bloat COPY batches, rows and the
# dashboard. Truncating keeps the rest of the product instead of losing it to a ParseError.
TITLE_MAX = 2_000
DESCRIPTION_MAX = 100_000
#: every other short string (names, links, keys, tags, badge texts)
SHORT_MAX = TITLE_MAX
#: real chains have four levels; a longer one is a broken payload, not a deeper catalogue
CATEGORY_DEPTH_MAX = 10

# Column ranges (sql/002_uzum.sql): one out-of-range number would fail a whole COPY batch, so it
# is rejected here, for this product only. Category ids, amounts and delivery days are `integer`.
_INT32 = 2**31 - 1
_INT64 = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: ratings go to PostgreSQL `real`; a larger magnitude cannot be encoded as float4
_REAL_MAX = 1e38
#: 9999-12-31T23:59:59.999Z, the last instant a datetime can hold
_EPOCH_MS_MAX = 253_402_300_799_999
#: prices as decimal strings ("440000", "440000.50"); no sign, exponent, "nan" or "inf"
_DECIMAL_RE = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,9})?")
_ONE = Decimal(1)
#: SKU fields holding so'm; a decimal string in one is accepted but counted as coerced
_PRICE_KEYS = ("fullPrice", "purchasePrice")
_COMPACT = (",", ":")


class _Bad(Exception):
    """A field failed its check. It is raised with the path inside the current section only;
    each enclosing section prepends its part, so the happy path never builds a path string."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def under(self, prefix: str) -> _Bad:
        return _Bad(f"{prefix}.{self.path}" if self.path else prefix, self.problem)

    def to_error(self, entity_id: int | str | None) -> ParseError:
        return ParseError(f"{self.path}: {self.problem}", entity_id=entity_id)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _expected(what: str, value: object) -> str:
    return f"expected {what}, got {_kind(value)}"


def _unexpected(exc: Exception, entity_id: int | str | None) -> ParseError:
    # A shape nobody foresaw must cost one product, not the scanner loop.
    return ParseError(f"unexpected {type(exc).__name__}: {exc}", entity_id=entity_id)


# --- scalar checks -----------------------------------------------------------------------------


def _need_str(obj: dict[str, Any], key: str, cap: int) -> str:
    value = obj.get(key)
    if type(value) is str:
        return clean_text(value, cap)
    raise _Bad(key, _expected("str", value))


def _opt_str(obj: dict[str, Any], key: str, cap: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is str:
        return clean_text(value, cap)
    raise _Bad(key, _expected("str", value))


def _need_id(obj: dict[str, Any], key: str, limit: int = _INT64) -> int:
    """Identifiers are strict: a positive JSON integer, never a float, string or bool."""
    value = obj.get(key)
    if type(value) is int and 0 < value <= limit:
        return value
    if type(value) is int:
        raise _Bad(key, f"{value} is not a valid id")
    raise _Bad(key, _expected("int", value))


def _opt_int(obj: dict[str, Any], key: str, limit: int = _INT64) -> int | None:
    """Counts and amounts; an integral float (2022 shape) is accepted, a bool is not."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is int and -limit <= value <= limit:
        return value
    if type(value) is float and value.is_integer() and -limit <= value <= limit:
        return int(value)
    if type(value) in (int, float):
        raise _Bad(key, f"{value!r} is not an integer within range")
    raise _Bad(key, _expected("int", value))


def _count(obj: dict[str, Any], key: str) -> int:
    value = _opt_int(obj, key)
    return 0 if value is None else value


def _opt_float(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) in (int, float) and -_REAL_MAX <= value <= _REAL_MAX:  # False for NaN
        return float(value)
    raise _Bad(key, _expected("finite number", value))


def _flag(obj: dict[str, Any], key: str) -> bool:
    # Lenient on purpose: only JSON true counts as true. A flag of another type carries no
    # trustworthy meaning, and failing the product over a cosmetic flag would lose its prices.
    return obj.get(key) is True


def _opt_price(obj: dict[str, Any], key: str) -> int | None:
    """So'm as int. 2022 payloads carried floats (440000.0) and some scrapers saw decimal
    strings; both are rounded half up (a string is counted as coerced, see `_skus`). NaN,
    infinities, other strings and negative prices are errors: a price below zero means
    nothing, and storing it (or a guess in its place: 0, its absolute value) would turn into
    false price drops and revenue downstream, so the product waits for a sane answer."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) in (int, float) and value < 0:
        raise _Bad(key, f"{value!r} is negative")
    if type(value) is int and value <= _INT64:
        return value
    if type(value) is float and math.isfinite(value) and value < 2.0**62:
        floor = math.floor(value)
        # compare the fraction instead of floor(value + 0.5), which misrounds 0.49999999999999994
        return floor + 1 if value - floor >= 0.5 else floor
    if type(value) is str and _DECIMAL_RE.fullmatch(value):
        return int(Decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP))
    if type(value) in (int, float, str):
        raise _Bad(key, f"{value!r} is not a price")
    raise _Bad(key, _expected("number", value))


def _barcode(obj: dict[str, Any]) -> int | None:
    # EAN codes are digits; a digit string is as good as the number. (isascii: "²".isdigit())
    value = obj.get("barcode")
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return _opt_int(obj, "barcode")


def _ms_to_utc(obj: dict[str, Any], key: str) -> datetime | None:
    millis = _opt_int(obj, key)
    if millis is None:
        return None
    if not 0 <= millis <= _EPOCH_MS_MAX:
        raise _Bad(key, f"{millis} ms is outside the representable dates")
    return _EPOCH + timedelta(milliseconds=millis)


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    """An optional JSON array: absent or null reads as empty."""
    value = obj.get(key)
    if value is None:
        return []
    if type(value) is list:
        return value
    raise _Bad(key, _expected("list", value))


def _dict(value: object, path: str) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise _Bad(path, _expected("dict", value))


def _strings(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    items = _list(obj, key)
    for i, item in enumerate(items):
        if type(item) is not str:
            raise _Bad(f"{key}[{i}]", _expected("str", item))
    return tuple([clean_text(item, SHORT_MAX) for item in items])


# --- product -----------------------------------------------------------------------------------


def parse_product(status: int, data: object, requested_id: int) -> ProductSnapshot | Missing:
    """Parse `GET /api/v2/product/{id}`; `data` is the decoded body (None when it was empty).

    Other HTTP statuses than 404 are the fetcher's business: the body decides here.
    """
    try:
        found = _locate(status, data, requested_id)
        if isinstance(found, Missing):
            return found
        return _snapshot(found, requested_id)
    except _Bad as bad:
        raise bad.to_error(requested_id) from None
    except Exception as exc:
        raise _unexpected(exc, requested_id) from exc


def _locate(status: int, data: object, pid: int) -> dict[str, Any] | Missing:
    """Walk the envelope to `payload.data`, or say which "no product" form this is. The real
    not-found answer is unverified (docs/upstreams.md), so every plausible form is named. A null
    is a Missing form; an absent key is an unknown envelope and so a ParseError."""
    if status == 404:
        return Missing(pid, "http_404")
    if data is None:
        return Missing(pid, "empty_body")
    envelope = _dict(data, "(body)")
    if envelope.get("errors"):
        return Missing(pid, "errors_key")
    if "payload" not in envelope:
        raise _Bad("payload", "missing")
    if envelope["payload"] is None:
        return Missing(pid, "payload_null")
    payload = _dict(envelope["payload"], "payload")
    if "data" not in payload:
        raise _Bad("payload.data", "missing")
    if payload["data"] is None:
        return Missing(pid, "data_null")
    return _dict(payload["data"], "payload.data")


def _snapshot(data: dict[str, Any], pid: int) -> ProductSnapshot | Missing:
    try:
        title = _opt_str(data, "title", TITLE_MAX)
        if title is None or not title.strip():
            return Missing(pid, "no_title")
        if _need_id(data, "id") != pid:
            raise _Bad("id", f"expected {pid} (the requested id), got {data['id']}")
        categories = _category_chain(data.get("category"))
        seller = _opt_seller(data.get("seller"))
        characteristics_json, labels = _characteristics(_list(data, "characteristics"))
        coerced: list[str] = []
        skus = _skus(_list_required(data, "skuList"), labels, pid, coerced)
        links = (categories[-1].id if categories else None, seller.id if seller else None)
        product = _product(data, pid, title, links, characteristics_json, skus)
    except _Bad as bad:
        raise bad.under("payload.data") from None
    return ProductSnapshot(
        product=product,
        categories=categories,
        seller=seller,
        skus=skus,
        coerced=tuple(f"payload.data.{path}" for path in coerced),
    )


def _list_required(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if type(value) is list:
        return value
    raise _Bad(key, _expected("list", value))


def _product(
    data: dict[str, Any],
    pid: int,
    title: str,
    links: tuple[int | None, int | None],
    characteristics_json: str,
    skus: tuple[SkuRecord, ...],
) -> ProductRecord:
    title_uz, title_ru = _titles(data.get("localizableTitle"), title)
    total = _opt_int(data, "totalAvailableAmount")
    return ProductRecord(
        id=pid,
        title=title,
        title_uz=title_uz,
        title_ru=title_ru,
        category_id=links[0],
        seller_id=links[1],
        rating=_opt_float(data, "rating"),
        reviews_amount=_count(data, "reviewsAmount"),
        orders_amount=_orders(data),
        r_orders_amount=_opt_int(data, "rOrdersAmount"),
        # the 2022 shape may lack the total; it equals the SKU sum in every sample seen
        total_available=sum(s.available_amount for s in skus) if total is None else total,
        is_eco=_flag(data, "isEco"),
        adult=_flag(data, "adultCategory"),
        is_perishable=_flag(data, "isPerishable"),
        description=_opt_str(data, "description", DESCRIPTION_MAX),
        photo_keys=_photo_keys(_list(data, "photos")),
        attributes=_strings(data, "attributes"),
        tags=_strings(data, "tags"),
        characteristics_json=characteristics_json,
        badges=_badges(_list(data, "badges")),
        warranty=_warranty(data.get("warranty")),
    )


def _orders(data: dict[str, Any]) -> int:
    # Required although the schema has a default: sales are estimated from the growth of this
    # counter, so a 0 standing in for "absent" would read as a collapse and then a surge.
    orders = _opt_int(data, "ordersAmount")
    if orders is None:
        raise _Bad("ordersAmount", "missing")
    return orders


def _titles(raw: object, title: str) -> tuple[str, str | None]:
    """(uz, ru). Payloads before `localizableTitle` existed carry the Uzbek title only."""
    if raw is None:
        return title, None
    localized = _dict(raw, "localizableTitle")
    try:
        uz = _opt_str(localized, "uz", TITLE_MAX)
        ru = _opt_str(localized, "ru", TITLE_MAX)
    except _Bad as bad:
        raise bad.under("localizableTitle") from None
    return uz or title, ru or None


def _photo_keys(photos: list[Any]) -> tuple[str, ...]:
    keys = []
    for i, photo in enumerate(photos):
        try:
            key = _opt_str(_dict(photo, ""), "photoKey", SHORT_MAX)
        except _Bad as bad:
            raise bad.under(f"photos[{i}]") from None
        if key:  # a photo without a key has no URL; skip it rather than lose the product
            keys.append(key)
    return tuple(keys)


def _badges(badges: list[Any]) -> tuple[str, ...]:
    texts = []
    for i, badge in enumerate(badges):
        if type(badge) is str:
            texts.append(clean_text(badge, SHORT_MAX))
            continue
        try:
            text = _opt_str(_dict(badge, ""), "text", SHORT_MAX)
        except _Bad as bad:
            raise bad.under(f"badges[{i}]") from None
        if text is not None:
            texts.append(text)
    return tuple(texts)


def _warranty(raw: object) -> str | None:
    """`{amount}` in 2025 (months); older or odd payloads may give the amount bare."""
    amount = raw.get("amount") if type(raw) is dict else raw
    if amount is None:
        return None
    if type(amount) is str:
        return clean_text(amount, SHORT_MAX)
    if type(amount) is int or (type(amount) is float and math.isfinite(amount)):
        return str(int(amount)) if amount == int(amount) else str(amount)
    path = "warranty.amount" if type(raw) is dict else "warranty"
    raise _Bad(path, _expected("number or str", amount))


# --- category chain ----------------------------------------------------------------------------


def _category_chain(leaf: object) -> tuple[CategoryRecord, ...]:
    """The leaf links upward through `parent`; the records go top-level first, down to it."""
    levels: list[tuple[int, str, int | None]] = []
    seen: set[int] = set()
    node = leaf
    while node is not None:
        where = "category" + ".parent" * len(levels)
        if len(levels) == CATEGORY_DEPTH_MAX:
            raise _Bad(where, f"chain deeper than {CATEGORY_DEPTH_MAX} levels")
        try:
            obj = _dict(node, "")
            cid, title, amount = _category_fields(obj)
        except _Bad as bad:
            raise bad.under(where) from None
        if cid in seen:
            raise _Bad(f"{where}.id", f"category {cid} repeats: the chain is a cycle")
        seen.add(cid)
        levels.append((cid, title, amount))
        node = obj.get("parent")
    records = []
    parent_id: int | None = None
    for cid, title, amount in reversed(levels):
        records.append(
            CategoryRecord(id=cid, title=title, parent_id=parent_id, product_amount=amount)
        )
        parent_id = cid
    return tuple(records)


def _category_fields(obj: dict[str, Any]) -> tuple[int, str, int | None]:
    return (
        _need_id(obj, "id", _INT32),
        _need_str(obj, "title", TITLE_MAX),
        _opt_int(obj, "productAmount", _INT32),
    )


# --- characteristics and SKUs ------------------------------------------------------------------


def _characteristics(raw: list[Any]) -> tuple[str, list[list[str]]]:
    """The product's characteristics as compact JSON, and the SKU label table: labels[c][v] is
    "Rang: Koʻk". Building labels once per product keeps a 100-SKU product cheap."""
    doc: list[dict[str, object]] = []
    labels: list[list[str]] = []
    for i, item in enumerate(raw):
        try:
            title, values = _characteristic(_dict(item, ""))
        except _Bad as bad:
            raise bad.under(f"characteristics[{i}]") from None
        doc.append({"title": title, "values": [{"title": t, "value": v} for t, v in values]})
        labels.append([f"{title}: {t}" for t, _ in values])
    return json.dumps(doc, ensure_ascii=False, separators=_COMPACT), labels


def _characteristic(obj: dict[str, Any]) -> tuple[str, list[tuple[str, str | None]]]:
    title = _need_str(obj, "title", SHORT_MAX)
    values = []
    for j, raw in enumerate(_list(obj, "values")):
        try:
            value = _dict(raw, "")
            values.append(
                (_need_str(value, "title", SHORT_MAX), _opt_str(value, "value", SHORT_MAX))
            )
        except _Bad as bad:
            raise bad.under(f"values[{j}]") from None
    return title, values


def _skus(
    raw: list[Any], labels: list[list[str]], pid: int, coerced: list[str]
) -> tuple[SkuRecord, ...]:
    skus = []
    for i, item in enumerate(raw):
        try:
            skus.append(_sku(_dict(item, ""), labels, pid))
        except _Bad as bad:
            raise bad.under(f"skuList[{i}]") from None
        for key in _PRICE_KEYS:
            if type(item.get(key)) is str:
                coerced.append(f"skuList[{i}].{key}")
    return tuple(skus)


def _sku(raw: dict[str, Any], labels: list[list[str]], pid: int) -> SkuRecord:
    sku_id = _need_id(raw, "id")
    full_price = _opt_price(raw, "fullPrice")
    price = _opt_price(raw, "purchasePrice")
    if price is None:
        # Old payloads may lack purchasePrice; the list price is then the price paid.
        if full_price is None:
            raise _Bad("purchasePrice", "missing, and no fullPrice to fall back on")
        price = full_price
    stock_type, delivery_days = _stock(raw.get("stock"))
    return SkuRecord(
        id=sku_id,
        product_id=pid,
        full_price=full_price,
        purchase_price=price,
        available_amount=_count(raw, "availableAmount"),
        barcode=_barcode(raw),
        stock_type=stock_type,
        delivery_days=delivery_days,
        characteristics=_sku_label(_list(raw, "characteristics"), labels, sku_id),
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
        raise _Bad(f"characteristics[{j}]", _bad_ref(ref, labels, sku_id))
    return ", ".join(parts)


def _bad_ref(ref: object, labels: list[list[str]], sku_id: int) -> str:
    if type(ref) is not dict:
        return f"sku {sku_id}: {_expected('dict', ref)}"
    char_index, value_index = ref.get("charIndex"), ref.get("valueIndex")
    if type(char_index) is not int or type(value_index) is not int:
        got = f"{_kind(char_index)}/{_kind(value_index)}"
        return f"sku {sku_id}: charIndex/valueIndex must be int, got {got}"
    if not 0 <= char_index < len(labels):
        return f"sku {sku_id}: charIndex {char_index} out of range ({len(labels)} characteristics)"
    count = len(labels[char_index])
    return f"sku {sku_id}: valueIndex {value_index} out of range ({count} values at {char_index})"


def _stock(raw: object) -> tuple[str | None, int | None]:
    if raw is None:
        return None, None
    try:
        stock = _dict(raw, "")
        return _opt_str(stock, "type", SHORT_MAX), _opt_int(stock, "deliveryDays", _INT32)
    except _Bad as bad:
        raise bad.under("stock") from None


def _discount_badge(raw: object) -> str | None:
    """Seen as null, a string or an object; stored as text (an object's `text`, else its JSON)."""
    if raw is None:
        return None
    if type(raw) is str:
        return clean_text(raw, SHORT_MAX)
    if type(raw) is dict and type(raw.get("text")) is str:
        return clean_text(raw["text"], SHORT_MAX)
    return clean_text(json.dumps(raw, ensure_ascii=False, separators=_COMPACT), SHORT_MAX)


# --- seller -----------------------------------------------------------------------------------


def _seller(obj: dict[str, Any]) -> SellerRecord:
    return SellerRecord(
        id=_need_id(obj, "id"),
        title=_need_str(obj, "title", TITLE_MAX),
        link=_opt_str(obj, "link", SHORT_MAX),
        description=_opt_str(obj, "description", DESCRIPTION_MAX),
        registration_date=_ms_to_utc(obj, "registrationDate"),
        rating=_opt_float(obj, "rating"),
        reviews=_opt_int(obj, "reviews"),
        orders=_opt_int(obj, "orders"),
        official=_flag(obj, "official"),
        account_id=_opt_int(obj, "sellerAccountId"),
    )


def _opt_seller(raw: object) -> SellerRecord | None:
    if raw is None:
        return None
    try:
        return _seller(_dict(raw, ""))
    except _Bad as bad:
        raise bad.under("seller") from None
