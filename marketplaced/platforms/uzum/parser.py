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

import math
from typing import Any

from marketplaced.platforms.uzum.fields import (
    DESCRIPTION_MAX,
    INT32,
    SHORT_MAX,
    TITLE_MAX,
    Bad,
    count_or_zero,
    expected,
    flag,
    ms_to_utc,
    need_dict,
    need_id,
    need_list,
    need_str,
    opt_float,
    opt_int,
    opt_list,
    opt_str,
    strings,
    unexpected,
)
from marketplaced.platforms.uzum.records import (
    CategoryRecord,
    Missing,
    ProductRecord,
    ProductSnapshot,
    SellerRecord,
    SkuRecord,
)
from marketplaced.platforms.uzum.skus import parse_characteristics, parse_skus
from marketplaced.text import clean_text

__all__ = ["parse_product"]

#: real chains have four levels; a longer one is a broken payload, not a deeper catalogue
CATEGORY_DEPTH_MAX = 10


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
    except Bad as bad:
        raise bad.to_error(requested_id) from None
    except Exception as exc:
        raise unexpected(exc, requested_id) from exc


def _locate(status: int, data: object, pid: int) -> dict[str, Any] | Missing:
    """Walk the envelope to `payload.data`, or say which "no product" form this is. The real
    not-found answer is unverified (docs/upstreams.md), so every plausible form is named. A null
    is a Missing form; an absent key is an unknown envelope and so a ParseError."""
    if status == 404:
        return Missing(pid, "http_404")
    if data is None:
        return Missing(pid, "empty_body")
    envelope = need_dict(data, "(body)")
    if envelope.get("errors"):
        return Missing(pid, "errors_key")
    if "payload" not in envelope:
        raise Bad("payload", "missing")
    if envelope["payload"] is None:
        return Missing(pid, "payload_null")
    payload = need_dict(envelope["payload"], "payload")
    if "data" not in payload:
        raise Bad("payload.data", "missing")
    if payload["data"] is None:
        return Missing(pid, "data_null")
    return need_dict(payload["data"], "payload.data")


def _snapshot(data: dict[str, Any], pid: int) -> ProductSnapshot | Missing:
    try:
        title = opt_str(data, "title", TITLE_MAX)
        if title is None or not title.strip():
            return Missing(pid, "no_title")
        if need_id(data, "id") != pid:
            raise Bad("id", f"expected {pid} (the requested id), got {data['id']}")
        categories = _category_chain(data.get("category"))
        seller = _opt_seller(data.get("seller"))
        characteristics_json, labels = parse_characteristics(opt_list(data, "characteristics"))
        coerced: list[str] = []
        skus = parse_skus(need_list(data, "skuList"), labels, pid, coerced)
        links = (categories[-1].id if categories else None, seller.id if seller else None)
        product = _product(data, pid, title, links, characteristics_json, skus)
    except Bad as bad:
        raise bad.under("payload.data") from None
    return ProductSnapshot(
        product=product,
        categories=categories,
        seller=seller,
        skus=skus,
        coerced=tuple(f"payload.data.{path}" for path in coerced),
    )


def _product(
    data: dict[str, Any],
    pid: int,
    title: str,
    links: tuple[int | None, int | None],
    characteristics_json: str,
    skus: tuple[SkuRecord, ...],
) -> ProductRecord:
    title_uz, title_ru = _titles(data.get("localizableTitle"), title)
    total = opt_int(data, "totalAvailableAmount")
    return ProductRecord(
        id=pid,
        title=title,
        title_uz=title_uz,
        title_ru=title_ru,
        category_id=links[0],
        seller_id=links[1],
        rating=opt_float(data, "rating"),
        reviews_amount=count_or_zero(data, "reviewsAmount"),
        orders_amount=_orders(data),
        r_orders_amount=opt_int(data, "rOrdersAmount"),
        # the 2022 shape may lack the total; it equals the SKU sum in every sample seen
        total_available=sum(s.available_amount for s in skus) if total is None else total,
        is_eco=flag(data, "isEco"),
        adult=flag(data, "adultCategory"),
        is_perishable=flag(data, "isPerishable"),
        description=opt_str(data, "description", DESCRIPTION_MAX),
        photo_keys=_photo_keys(opt_list(data, "photos")),
        attributes=strings(data, "attributes"),
        tags=strings(data, "tags"),
        characteristics_json=characteristics_json,
        badges=_badges(opt_list(data, "badges")),
        warranty=_warranty(data.get("warranty")),
    )


def _orders(data: dict[str, Any]) -> int:
    # Required although the schema has a default: sales are estimated from the growth of this
    # counter, so a 0 standing in for "absent" would read as a collapse and then a surge.
    orders = opt_int(data, "ordersAmount")
    if orders is None:
        raise Bad("ordersAmount", "missing")
    return orders


def _titles(raw: object, title: str) -> tuple[str, str | None]:
    """(uz, ru). Payloads before `localizableTitle` existed carry the Uzbek title only."""
    if raw is None:
        return title, None
    localized = need_dict(raw, "localizableTitle")
    try:
        uz = opt_str(localized, "uz", TITLE_MAX)
        ru = opt_str(localized, "ru", TITLE_MAX)
    except Bad as bad:
        raise bad.under("localizableTitle") from None
    return uz or title, ru or None


def _photo_keys(photos: list[Any]) -> tuple[str, ...]:
    keys = []
    for i, photo in enumerate(photos):
        try:
            key = opt_str(need_dict(photo, ""), "photoKey", SHORT_MAX)
        except Bad as bad:
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
            text = opt_str(need_dict(badge, ""), "text", SHORT_MAX)
        except Bad as bad:
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
    raise Bad(path, expected("number or str", amount))


# --- category chain ----------------------------------------------------------------------------


def _category_chain(leaf: object) -> tuple[CategoryRecord, ...]:
    """The leaf links upward through `parent`; the records go top-level first, down to it."""
    levels: list[tuple[int, str, int | None]] = []
    seen: set[int] = set()
    node = leaf
    while node is not None:
        where = "category" + ".parent" * len(levels)
        if len(levels) == CATEGORY_DEPTH_MAX:
            raise Bad(where, f"chain deeper than {CATEGORY_DEPTH_MAX} levels")
        try:
            obj = need_dict(node, "")
            cid, title, amount = _category_fields(obj)
        except Bad as bad:
            raise bad.under(where) from None
        if cid in seen:
            raise Bad(f"{where}.id", f"category {cid} repeats: the chain is a cycle")
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
        need_id(obj, "id", INT32),
        need_str(obj, "title", TITLE_MAX),
        opt_int(obj, "productAmount", INT32),
    )


# --- seller -----------------------------------------------------------------------------------


def _seller(obj: dict[str, Any]) -> SellerRecord:
    return SellerRecord(
        id=need_id(obj, "id"),
        title=need_str(obj, "title", TITLE_MAX),
        link=opt_str(obj, "link", SHORT_MAX),
        description=opt_str(obj, "description", DESCRIPTION_MAX),
        registration_date=ms_to_utc(obj, "registrationDate"),
        rating=opt_float(obj, "rating"),
        reviews=opt_int(obj, "reviews"),
        orders=opt_int(obj, "orders"),
        official=flag(obj, "official"),
        account_id=opt_int(obj, "sellerAccountId"),
    )


def _opt_seller(raw: object) -> SellerRecord | None:
    if raw is None:
        return None
    try:
        return _seller(need_dict(raw, ""))
    except Bad as bad:
        raise bad.under("seller") from None
