"""Tests of the Uzum product, shop and root-category parser against the recorded fixtures.

The fixtures are real 2025 responses; the 2022 shape and every broken form are derived from
them here, so the parser is always tested against the real field layout.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from marketplaced.errors import ParseError
from marketplaced.platforms.uzum.fields import DESCRIPTION_MAX, TITLE_MAX
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import CategoryRecord, Missing, ProductSnapshot
from tests.helpers import recorded

SMALL, BIG = 1772350, 2114919


def _text(pid: int) -> str:
    return recorded.uzum_text(pid)


def _load(pid: int) -> Any:
    """A fresh copy, decoded the way the fetcher decodes it, free to mutate."""
    return json.loads(_text(pid), strict=False)


def _parse(pid: int, data: object = None) -> ProductSnapshot:
    result = parse_product(200, _load(pid) if data is None else data, pid)
    assert isinstance(result, ProductSnapshot)
    return result


def _data(envelope: Any) -> Any:
    return envelope["payload"]["data"]


def _strings_in(value: object) -> list[str]:
    """Every string a record holds, nested tuples and dataclasses included."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings_in(getattr(value, f.name))]
    if isinstance(value, tuple):
        return [s for item in value for s in _strings_in(item)]
    return []


def _assert_storable(snapshot: ProductSnapshot) -> None:
    for text in _strings_in(snapshot):
        assert "\x00" not in text
        text.encode("utf-8")  # raises on lone surrogates, which PostgreSQL cannot take


# --- the two recorded products -----------------------------------------------------------------


def test_small_product_fields() -> None:
    product = _parse(SMALL).product
    assert product.id == SMALL
    assert product.title.startswith('Televizor uchun 32" dan 55" gacha kronshteynlar')
    assert product.title_uz == product.title
    assert product.title_ru == (
        'Кронштейны для телевизора от 32" до 55", кронштейн для телевизора и монитора'
    )
    assert product.rating == 4.4
    assert (product.orders_amount, product.r_orders_amount, product.reviews_amount) == (32, 30, 7)
    assert product.total_available == 27
    assert product.category_id == 11587
    assert product.seller_id == 74885
    assert (product.is_eco, product.adult, product.is_perishable) == (False, False, False)
    assert product.photo_keys[0] == "d19qla27s4fup34akmng"
    assert len(product.photo_keys) == 7
    assert product.description is not None
    assert product.description.startswith("<p>32 dyuymdan")
    assert (product.attributes, product.tags, product.badges) == ((), (), ())
    assert product.characteristics_json == "[]"
    assert product.warranty is None


def test_small_product_category_chain_runs_top_down() -> None:
    assert _parse(SMALL).categories == (
        CategoryRecord(10020, "Elektronika", None, 24428),
        CategoryRecord(10129, "Televizorlar va videotexnikalar", 10020, 293),
        CategoryRecord(11384, "Televizor uchun stend va kronshteynlar", 10129, 49),
        CategoryRecord(11587, "Televizor uchun kronshteynlar", 11384, 82),
    )


def test_small_product_seller() -> None:
    seller = _parse(SMALL).seller
    assert seller is not None
    assert (seller.id, seller.title, seller.link, seller.description) == (
        74885,
        "Aeris.uz",
        "aeris",
        "22",
    )
    # 1749798226267 ms after the epoch
    assert seller.registration_date == datetime(2025, 6, 13, 7, 3, 46, 267000, tzinfo=UTC)
    assert (seller.rating, seller.reviews, seller.orders) == (4.8, 36, 133)
    assert seller.official is False
    assert seller.account_id == 12853488


def test_small_product_sku() -> None:
    (sku,) = _parse(SMALL).skus
    assert (sku.id, sku.product_id) == (6120890, SMALL)
    assert (sku.purchase_price, sku.full_price) == (440000, 440000)
    assert type(sku.purchase_price) is int
    assert sku.available_amount == 27
    assert sku.barcode == 1000061208901
    assert (sku.stock_type, sku.delivery_days) == ("FBO", 1)
    assert sku.characteristics == ""
    assert sku.discount_badge is None


def test_big_product_skus() -> None:
    snapshot = _parse(BIG)
    skus = {sku.id: sku for sku in snapshot.skus}
    assert len(snapshot.skus) == len(skus) == 102
    assert snapshot.product.total_available == 974 == sum(s.available_amount for s in skus.values())
    assert skus[7574456].characteristics == "Rang: Koʻk, Iphone modeli: 15 pro"
    assert skus[7574456].purchase_price == 79990
    assert skus[7574456].full_price == 200000
    assert {s.purchase_price for s in skus.values()} == {39990, 79990}
    assert {s.stock_type for s in skus.values()} == {"FBO", "FBS"}
    assert all(s.characteristics.startswith("Rang: ") for s in skus.values())


def test_big_product_record() -> None:
    snapshot = _parse(BIG)
    product = snapshot.product
    assert product.title_ru is not None
    assert product.title_ru.startswith("Чехлы в стиле iPhone 17")
    assert (product.orders_amount, product.rating, product.warranty) == (717, 4.6, "12")
    assert [c.id for c in snapshot.categories] == [10020, 10044, 10398, 11937]
    assert snapshot.seller is not None
    assert snapshot.seller.link == "premiumwatchs"
    characteristics = json.loads(product.characteristics_json)
    assert [c["title"] for c in characteristics] == ["Rang", "Iphone modeli"]
    assert characteristics[0]["values"][4] == {"title": "Koʻk", "value": "#0549be"}
    assert "Koʻk" in product.characteristics_json  # ensure_ascii=False: readable in the database


# --- the 2022–2023 shape -----------------------------------------------------------------------


def _old_shape(pid: int) -> dict[str, Any]:
    """The 2022 layout: error/promotion envelope, float prices, none of the later fields."""
    data = _data(_load(pid))
    for key in ("localizableTitle", "rOrdersAmount", "isPerishable", "badges", "warranty", "tags"):
        del data[key]
    del data["seller"]["sellerAccountId"]
    for sku in data["skuList"]:
        sku["fullPrice"] = float(sku["fullPrice"])
        sku["purchasePrice"] = float(sku["purchasePrice"])
        sku["stock"] = None
    return {"payload": {"data": data, "promotion": None}, "error": None}


def test_old_shape_small() -> None:
    snapshot = _parse(SMALL, _old_shape(SMALL))
    product, (sku,) = snapshot.product, snapshot.skus
    assert product.title_uz == product.title
    assert product.title_ru is None
    assert (product.r_orders_amount, product.is_perishable) == (None, False)
    assert (product.badges, product.tags, product.warranty) == ((), (), None)
    assert snapshot.seller is not None
    assert snapshot.seller.account_id is None
    assert sku.purchase_price == 440000
    assert type(sku.purchase_price) is int
    assert (sku.stock_type, sku.delivery_days) == (None, None)


def test_old_shape_rounds_half_up_and_falls_back_to_full_price() -> None:
    envelope = _old_shape(BIG)
    skus = _data(envelope)["skuList"]
    skus[0]["purchasePrice"] = 79990.5  # half up, not half to even (round() would give 79990)
    skus[1]["purchasePrice"] = 79989.49
    del skus[2]["purchasePrice"]
    skus[3]["purchasePrice"] = "39990.5"
    del _data(envelope)["totalAvailableAmount"]
    parsed = _parse(BIG, envelope)
    prices = [sku.purchase_price for sku in parsed.skus[:4]]
    assert prices == [79991, 79989, 200000, 39991]
    assert parsed.product.total_available == 974  # summed from the SKUs when absent


# --- "no product here" -------------------------------------------------------------------------


def _without_title(envelope: Any) -> Any:
    del _data(envelope)["title"]
    return envelope


def _titled(title: str) -> Callable[[Any], Any]:
    def mutate(envelope: Any) -> Any:
        _data(envelope)["title"] = title
        return envelope

    return mutate


@pytest.mark.parametrize(
    ("status", "body", "form"),
    [
        (404, lambda e: e, "http_404"),
        (404, lambda e: None, "http_404"),
        (200, lambda e: None, "empty_body"),
        (200, lambda e: {"payload": None, "timestamp": "2025-12-05T05:45:20"}, "payload_null"),
        (200, lambda e: {"payload": None, "error": "product not found"}, "payload_null"),
        (200, lambda e: {"payload": {"data": None, "seo": None}}, "data_null"),
        (200, _without_title, "no_title"),
        (200, _titled(""), "no_title"),
        (200, _titled(" \x00 "), "no_title"),
        (200, lambda e: {"errors": [{"message": "Product not found"}]}, "errors_key"),
        (200, lambda e: {"errors": [{"message": "x"}], "payload": None}, "errors_key"),
    ],
)
def test_missing_forms(status: int, body: Callable[[Any], Any], form: str) -> None:
    assert parse_product(status, body(_load(SMALL)), SMALL) == Missing(SMALL, form)


def test_empty_errors_key_is_not_missing() -> None:
    envelope = _load(SMALL)
    envelope["errors"] = []
    assert isinstance(parse_product(200, envelope, SMALL), ProductSnapshot)


# --- malformed payloads ------------------------------------------------------------------------


def _set(path: str, value: object) -> Callable[[Any], Any]:
    """Mutator setting a dotted path ("skuList.3.purchasePrice") under payload.data."""

    def mutate(envelope: Any) -> Any:
        *parents, last = path.split(".")
        node = _data(envelope)
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value
        return envelope

    return mutate


_DELETE = object()

MALFORMED: list[tuple[int, Callable[[Any], Any], str]] = [
    (SMALL, lambda e: [e], "(body): expected dict, got list"),
    (SMALL, lambda e: {"payload": [e["payload"]]}, "payload: expected dict, got list"),
    (SMALL, lambda e: {"timestamp": "x"}, "payload: missing"),
    (SMALL, lambda e: {"payload": {"seo": {}}}, "payload.data: missing"),
    (SMALL, lambda e: {"payload": {"data": "x"}}, "payload.data: expected dict, got str"),
    (SMALL, _set("id", "1772350"), "payload.data.id: expected int, got str"),
    (SMALL, _set("id", True), "payload.data.id: expected int, got bool"),
    (SMALL, _set("id", 5), "payload.data.id: expected 1772350 (the requested id), got 5"),
    (SMALL, _set("title", 12), "payload.data.title: expected str, got int"),
    (SMALL, _set("skuList", "6120890"), "payload.data.skuList: expected list, got str"),
    (SMALL, _set("skuList", _DELETE), "payload.data.skuList: expected list, got null"),
    (BIG, _set("skuList.3.purchasePrice", "abc"), "payload.data.skuList[3].purchasePrice: 'abc'"),
    (SMALL, _set("skuList.0.purchasePrice", math.nan), "payload.data.skuList[0].purchasePrice"),
    (SMALL, _set("skuList.0.purchasePrice", 1e30), "payload.data.skuList[0].purchasePrice"),
    (SMALL, _set("skuList.0.purchasePrice", "-5"), "payload.data.skuList[0].purchasePrice"),
    (
        SMALL,
        _set("skuList.0.purchasePrice", [1]),
        "payload.data.skuList[0].purchasePrice: expected number, got list",
    ),
    (SMALL, _set("skuList.0", 6120890), "payload.data.skuList[0]: expected dict, got int"),
    (SMALL, _set("skuList.0.id", 6120890.0), "payload.data.skuList[0].id: expected int"),
    (SMALL, _set("skuList.0.availableAmount", True), "payload.data.skuList[0].availableAmount"),
    (SMALL, _set("skuList.0.availableAmount", 2.5), "payload.data.skuList[0].availableAmount"),
    (SMALL, _set("skuList.0.barcode", "12ab"), "payload.data.skuList[0].barcode"),
    (SMALL, _set("skuList.0.barcode", "12²"), "payload.data.skuList[0].barcode: expected int"),
    (SMALL, _set("skuList.0.purchasePrice", "٤٤"), "payload.data.skuList[0].purchasePrice: '٤٤'"),
    (SMALL, _set("skuList.0.stock", "FBO"), "payload.data.skuList[0].stock: expected dict"),
    (
        SMALL,
        _set("skuList.0.stock.deliveryDays", "1"),
        "payload.data.skuList[0].stock.deliveryDays",
    ),
    (SMALL, _set("skuList.0.stock.type", 1), "payload.data.skuList[0].stock.type"),
    (
        BIG,
        _set("skuList.0.characteristics.0.charIndex", 9),
        "payload.data.skuList[0].characteristics[0]: sku 7574456: charIndex 9 out of range",
    ),
    (
        BIG,
        _set("skuList.5.characteristics.1.valueIndex", -1),
        "payload.data.skuList[5].characteristics[1]: sku",
    ),
    (
        BIG,
        _set("skuList.0.characteristics.1.valueIndex", True),
        "payload.data.skuList[0].characteristics[1]: sku 7574456: charIndex/valueIndex must be int",
    ),
    (BIG, _set("skuList.0.characteristics.0", 4), "payload.data.skuList[0].characteristics[0]"),
    (SMALL, _set("category.parent.id", "11384"), "payload.data.category.parent.id: expected int"),
    (SMALL, _set("category.id", 2**40), "payload.data.category.id: 1099511627776 is not a valid"),
    (SMALL, _set("category.parent.parent", []), "payload.data.category.parent.parent: expected"),
    (SMALL, _set("seller", "Aeris.uz"), "payload.data.seller: expected dict, got str"),
    (SMALL, _set("seller.registrationDate", "x"), "payload.data.seller.registrationDate: expected"),
    (SMALL, _set("seller.registrationDate", 10**17), "payload.data.seller.registrationDate: 1"),
    (SMALL, _set("seller.title", None), "payload.data.seller.title: expected str, got null"),
    (SMALL, _set("rating", "4.4"), "payload.data.rating: expected finite number, got str"),
    (SMALL, _set("rating", math.inf), "payload.data.rating: expected finite number, got float"),
    (SMALL, _set("rating", 1e300), "payload.data.rating: expected finite number, got float"),
    (SMALL, _set("seller.rating", math.nan), "payload.data.seller.rating: expected finite number"),
    (SMALL, _set("ordersAmount", _DELETE), "payload.data.ordersAmount: missing"),
    (SMALL, _set("ordersAmount", True), "payload.data.ordersAmount: expected int, got bool"),
    (SMALL, _set("reviewsAmount", 2**70), "payload.data.reviewsAmount: "),
    (SMALL, _set("photos", {}), "payload.data.photos: expected list, got dict"),
    (SMALL, _set("photos.2.photoKey", 7), "payload.data.photos[2].photoKey: expected str"),
    (SMALL, _set("tags", [1]), "payload.data.tags[0]: expected str, got int"),
    (SMALL, _set("badges", [5]), "payload.data.badges[0]: expected dict, got int"),
    (SMALL, _set("warranty", {"amount": [12]}), "payload.data.warranty.amount: expected"),
    (SMALL, _set("localizableTitle", "x"), "payload.data.localizableTitle: expected dict"),
    (SMALL, _set("localizableTitle.ru", 5), "payload.data.localizableTitle.ru: expected str"),
    (BIG, _set("characteristics.0.values.1.title", None), "payload.data.characteristics[0]"),
    (BIG, _set("characteristics", {}), "payload.data.characteristics: expected list, got dict"),
]


@pytest.mark.parametrize(
    ("pid", "mutate", "reason"),
    MALFORMED,
    ids=[f"{pid}:{reason.split(':')[0]}" for pid, _, reason in MALFORMED],
)
def test_malformed_payload_names_the_field(
    pid: int, mutate: Callable[[Any], Any], reason: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse_product(200, mutate(_load(pid)), pid)
    assert caught.value.reason.startswith(reason), caught.value.reason
    assert caught.value.entity_id == pid


def _chain(depth: int) -> dict[str, Any] | None:
    node: dict[str, Any] | None = None
    for level in range(depth):
        node = {"id": 1000 + level, "title": f"c{level}", "productAmount": 1, "parent": node}
    return node


def test_category_chain_depth_limit() -> None:
    envelope = _load(SMALL)
    _data(envelope)["category"] = _chain(10)
    assert len(_parse(SMALL, envelope).categories) == 10
    _data(envelope)["category"] = _chain(11)
    with pytest.raises(ParseError, match="deeper than 10 levels"):
        parse_product(200, envelope, SMALL)


def test_category_chain_cycle() -> None:
    envelope = _load(SMALL)
    _data(envelope)["category"]["parent"]["parent"]["id"] = 11587
    with pytest.raises(ParseError, match=r"category\.parent\.parent\.id: category 11587 repeats"):
        parse_product(200, envelope, SMALL)


def test_missing_category_and_seller_are_none() -> None:
    envelope = _load(SMALL)
    _data(envelope)["category"] = None
    del _data(envelope)["seller"]
    snapshot = _parse(SMALL, envelope)
    assert (snapshot.categories, snapshot.seller) == ((), None)
    assert (snapshot.product.category_id, snapshot.product.seller_id) == (None, None)


def test_empty_sku_list_is_a_product() -> None:
    envelope = _load(SMALL)
    _data(envelope)["skuList"] = []
    del _data(envelope)["totalAvailableAmount"]
    snapshot = _parse(SMALL, envelope)
    assert (snapshot.skus, snapshot.product.total_available) == ((), 0)


# --- strings and lenient fields ----------------------------------------------------------------


def test_nul_stripped_other_control_characters_kept() -> None:
    envelope = _load(BIG)
    data = _data(envelope)
    data["title"] = "Chehol\x00 iPhone"
    data["description"] = "<p>a\x00b\x01c\x1fd\te</p>"
    data["characteristics"][0]["values"][4]["title"] = "Ko\x00ʻk"
    data["seller"]["title"] = "\x00premium"
    snapshot = _parse(BIG, envelope)
    assert snapshot.product.title == "Chehol iPhone"
    assert snapshot.product.description == "<p>ab\x01c\x1fd\te</p>"
    assert snapshot.seller is not None
    assert snapshot.seller.title == "premium"
    sku = next(s for s in snapshot.skus if s.id == 7574456)
    assert sku.characteristics == "Rang: Koʻk, Iphone modeli: 15 pro"
    _assert_storable(snapshot)


def test_lone_surrogate_replaced() -> None:
    # json.loads turns the escape "\ud800" into a lone surrogate, which UTF-8 cannot encode
    envelope = json.loads(_text(SMALL).replace('"Aeris.uz"', '"Aeris\\ud800.uz"', 1))
    snapshot = _parse(SMALL, envelope)
    assert snapshot.seller is not None
    assert snapshot.seller.title == "Aeris?.uz"
    _assert_storable(snapshot)


def test_huge_strings_truncated() -> None:
    envelope = _load(SMALL)
    _data(envelope)["title"] = "T" * 5_000
    _data(envelope)["localizableTitle"]["ru"] = "Т" * 5_000
    _data(envelope)["description"] = "d" * 300_000
    product = _parse(SMALL, envelope).product
    assert product.title == "T" * TITLE_MAX
    assert product.title_ru == "Т" * TITLE_MAX
    assert product.description == "d" * DESCRIPTION_MAX


def test_flags_accept_only_json_true() -> None:
    envelope = _load(SMALL)
    _data(envelope)["isEco"] = "true"
    _data(envelope)["adultCategory"] = 1
    _data(envelope)["isPerishable"] = True
    _data(envelope)["seller"]["official"] = "yes"
    snapshot = _parse(SMALL, envelope)
    assert (snapshot.product.is_eco, snapshot.product.adult) == (False, False)
    assert snapshot.product.is_perishable is True
    assert snapshot.seller is not None
    assert snapshot.seller.official is False


@pytest.mark.parametrize(
    ("badge", "stored"),
    [
        (None, None),
        ("-60%", "-60%"),
        ({"text": "-60%", "color": "#f00"}, "-60%"),
        ({"percent": 60}, '{"percent":60}'),
        ({"title": "Chegirma"}, '{"title":"Chegirma"}'),
    ],
)
def test_discount_badge_forms(badge: object, stored: str | None) -> None:
    envelope = _load(SMALL)
    _data(envelope)["skuList"][0]["discountBadge"] = badge
    assert _parse(SMALL, envelope).skus[0].discount_badge == stored


def test_badges_warranty_and_string_lists() -> None:
    envelope = _load(SMALL)
    data = _data(envelope)
    data["badges"] = [{"id": 1, "text": "Original"}, {"id": 2, "text": None}, "Hit"]
    data["warranty"] = {"amount": 6}
    data["attributes"] = ["Brend: Aeris"]
    data["tags"] = ["kronshteyn", "tv"]
    product = _parse(SMALL, envelope).product
    assert product.badges == ("Original", "Hit")
    assert product.warranty == "6"
    assert (product.attributes, product.tags) == (("Brend: Aeris",), ("kronshteyn", "tv"))


# --- fuzz --------------------------------------------------------------------------------------

#: parts of the payload the parser never reads; mutating them proves nothing
_UNREAD = {"seo", "photo", "topFeedback", "productOptionDtos", "vat", "fastDeliveryInfo"}
_JUNK: list[object] = [
    None, True, False, 0, -1, 2**70, 1.5, math.nan, math.inf, "", "x", "12", "\x00", "\ud800",
    [], [1, "a"], {}, {"a": 1},
]  # fmt: skip


def _locations(node: object, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    if isinstance(node, dict):
        for key, child in node.items():
            if key not in _UNREAD:
                found.append((node, key))
                _locations(child, found)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append((node, index))
            _locations(child, found)
    return found


def _mutate(envelope: Any, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 3)):
        container, key = rng.choice(_locations(envelope, []))
        if rng.random() < 0.3:
            del container[key]
        else:
            container[key] = rng.choice(_JUNK)


def _attempt(envelope: Any, pid: int) -> ProductSnapshot | Missing | ParseError:
    try:
        return parse_product(200, envelope, pid)
    except ParseError as error:
        return error


def test_fuzz_only_parse_error_or_result() -> None:
    rng = random.Random(20251205)
    outcomes = {ProductSnapshot: 0, Missing: 0, ParseError: 0}
    for round_ in range(500):
        pid = BIG if round_ % 5 == 0 else SMALL  # the big one is ten times slower to walk
        envelope = _load(pid)
        _mutate(envelope, rng)
        result = _attempt(envelope, pid)  # any other exception fails the test right here
        outcomes[type(result)] += 1
        if isinstance(result, ParseError):
            assert result.entity_id == pid
            # the catch-all for surprises must not be what handles ordinary junk
            assert not result.reason.startswith("unexpected"), result.reason
        elif isinstance(result, ProductSnapshot):
            _assert_storable(result)
        else:
            assert result.product_id == pid
    assert min(outcomes.values()) > 0, outcomes
