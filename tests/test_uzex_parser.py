"""The UZEX parser against the recorded payloads and against hostile variants of them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from marketplaced.errors import ParseError
from marketplaced.platforms.uzex import parser, values
from marketplaced.platforms.uzex.parser import (
    parse_active_lots,
    parse_categories,
    parse_completed_deals,
    parse_deal_products,
    parse_etender_deals,
    parse_etender_trade,
    parse_regions,
)
from tests.helpers import recorded

TASHKENT = ZoneInfo("Asia/Tashkent")


def load(name: str) -> Any:
    return recorded.uzex_json(name)


@pytest.fixture
def auction_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = load("auction_GetCompletedDeals.capture.json")
    return rows


def by_id(result: parser.PageResult) -> dict[int, Any]:
    return {lot.lot_id: lot for lot in result.lots}


# --- recorded payloads --------------------------------------------------------------------


def test_auction_page_parses_every_row(auction_rows: list[dict[str, Any]]) -> None:
    result = parse_completed_deals("auction", auction_rows)

    assert result.failures == []
    assert result.total_count == 199733
    assert len(result.lots) == len(auction_rows) == 11
    lot = by_id(result)[379514]
    assert lot.deal_cost == Decimal("9167427.5")
    assert lot.start_cost == Decimal("13096325")
    assert lot.participants == 15  # pcp_count arrives as 15.0
    assert lot.deal_id == 311421
    assert lot.display_no == "25111007379514"
    assert lot.status == "completed"
    assert lot.is_budget is True
    assert lot.kazna_payment_status == "Оплачен"
    assert json.loads(lot.extra_json)["kazna_status_id"] == 2


def test_dates_are_tashkent_local_time(auction_rows: list[dict[str, Any]]) -> None:
    lot = by_id(parse_completed_deals("auction", auction_rows))[379514]

    assert lot.deal_date == datetime(2025, 12, 4, 11, 29, 9, tzinfo=TASHKENT)
    assert lot.deal_date is not None and lot.deal_date.utcoffset() == timedelta(hours=5)
    assert lot.deal_date.astimezone(UTC) == datetime(2025, 12, 4, 6, 29, 9, tzinfo=UTC)
    assert lot.start_date == datetime(2025, 11, 27, 15, 3, 34, tzinfo=TASHKENT)


def test_lot_379556_deal_cost_and_unit_from_items() -> None:
    items = parse_deal_products(
        "auction", 379556, load("auction_GetCompletedDealProducts_379556.json")
    )

    assert len(items) == 1
    (item,) = items
    assert sum(i.cost for i in items if i.cost is not None) == Decimal("3023040")
    assert item.unit == "компл."  # from js_properties "Единица измерения"
    assert item.quantity == Decimal(96)
    assert item.unit_price == Decimal(31490)
    assert item.line_no == 1
    assert item.name is not None and item.name.startswith("Cho'tka-supurgi")  # product_name null
    assert item.country == "O'zbekiston"


def test_items_of_379514_add_up_to_its_deal_cost(auction_rows: list[dict[str, Any]]) -> None:
    items = parse_deal_products(
        "auction", 379514, load("auction_GetCompletedDealProducts_379514.json")
    )
    lot = by_id(parse_completed_deals("auction", auction_rows))[379514]

    assert sum(i.cost for i in items if i.cost is not None) == lot.deal_cost
    units = {i.line_no: i.unit for i in items}
    assert units == {1: "компл.", 2: "шт", 3: "шт", 4: "л", 5: "м", 6: "шт", 7: "шт", 8: "шт"}
    pipe = next(i for i in items if i.line_no == 5)
    assert pipe.unit_price == Decimal("9971.5")
    assert pipe.description == "Труба пластмассовая ХВС диаметр 25 мм."  # leading newline gone
    names = [p["property_name"] for p in json.loads(pipe.properties_json)]
    assert names == ["Единица измерения", "Вид"]


def test_null_provider_inn_keeps_the_lot(auction_rows: list[dict[str, Any]]) -> None:
    result = parse_completed_deals("auction", auction_rows)
    lot = by_id(result)[379525]

    assert lot.provider_inn is None
    assert lot.provider_name == "YTT MAQSUDOVA MUSLIMAXON ALISHER QIZI"
    kinds = {(p.inn, p.kind) for p in result.parties}
    assert ("200006516", "customer") in kinds
    assert all(p.inn for p in result.parties)


def test_etender_deal_provider_inn() -> None:
    result = parse_etender_deals(load("etender_DealsList.json"))

    assert result.failures == []
    assert result.total_count == 7
    lot = by_id(result)[453146]  # keyed by trade_id
    assert lot.lot_type == "etender"
    assert lot.provider_inn == "307688665"
    assert lot.deal_id == 162405
    assert lot.deal_cost == Decimal("6677715633.12")
    assert lot.participants == 9
    assert lot.type_name == "Korporativ buyurtmachi"
    assert result.items == []  # DealsList rows carry no budget_products
    older = by_id(result)[412677]
    assert json.loads(older.extra_json)["deal_contract_date"] == "11.04.2025"


def test_shop_row_is_its_own_item_with_derived_unit_price() -> None:
    rows = load("shop_GetCompletedDeals.json")
    result = parse_completed_deals("shop", rows)

    assert result.failures == []
    assert result.total_count == 3540
    assert [i.lot_id for i in result.items] == [5189811, 5183640]
    item = result.items[0]
    assert item.line_no == 1
    assert item.name == "Принтер"
    assert item.unit_price == Decimal("1818000.00")  # deal_cost / amount
    assert item.cost == Decimal(1818000)
    lot = by_id(result)[5189811]
    assert lot.customer_region == "Ферганская область"
    assert lot.provider_name == "YTT Karimov Salohiddin"  # trailing space stripped
    assert lot.deal_status_name == "Оплачена"

    rows[0]["amount"] = 3.0
    rows[1]["amount"] = 0.0
    items = parse_completed_deals("national", rows).items
    assert items[0].unit_price == Decimal("606000.00")
    assert items[0].lot_type == "national"
    assert items[1].unit_price is None  # no unit price from a zero quantity


def test_active_shop_lots() -> None:
    result = parse_active_lots("shop", load("shop_GetNotCompletedDeals.capture.json"))

    assert result.failures == []
    assert result.total_count == 14244
    lot = by_id(result)[4550655]
    assert lot.status == "active"
    assert lot.start_cost == Decimal(1404000)
    assert lot.end_date == datetime(2025, 12, 2, 10, 42, 35, tzinfo=TASHKENT)
    item = next(i for i in result.items if i.lot_id == 4550655)
    assert (item.quantity, item.unit_price) == (Decimal(4), Decimal(351000))


def test_reference_lists() -> None:
    categories = parse_categories(load("trade_GetCategories.json"))
    regions = parse_regions(load("trade_GetRegions.capture.json"))

    assert categories.failures == [] and len(categories.records) == 88
    assert categories.records[0].id == 106825
    assert regions.failures == [] and len(regions.records) == 14
    assert {r.id: r.name for r in regions.records}[2105] == "город Ташкент"


# --- hostile and odd input ----------------------------------------------------------------


def test_malformed_row_is_a_failure_and_the_rest_is_kept(
    auction_rows: list[dict[str, Any]],
) -> None:
    rows: list[Any] = copy.deepcopy(auction_rows)
    rows[3]["deal_cost"] = "abc"  # lot 379351
    rows[4]["deal_cost"] = " 976800.5 "  # numeric strings are fine
    rows[5]["pcp_count"] = "13"
    rows.append("not an object")

    result = parse_completed_deals("auction", rows)

    assert len(result.lots) == 10
    assert result.failures[0][0] == "379351"
    assert "deal_cost" in result.failures[0][1]
    assert result.failures[1] == ("#12", "row is not an object")
    assert by_id(result)[379396].deal_cost == Decimal("976800.5")
    assert by_id(result)[379480].participants == 13
    assert 379351 not in by_id(result)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pcp_count", 16.5),
        ("deal_id", "12x"),
        ("deal_date", "yesterday"),
        ("is_budget", 7),
        ("start_cost", float("nan")),
        ("start_cost", 1e300),
        ("customer_name", {"ru": "ООО"}),
        ("lot_id", None),
    ],
)
def test_garbage_in_a_typed_field_fails_the_row(
    auction_rows: list[dict[str, Any]], field: str, value: object
) -> None:
    row = copy.deepcopy(auction_rows[0])
    row[field] = value

    result = parse_completed_deals("auction", [row, auction_rows[1]])

    assert [lot.lot_id for lot in result.lots] == [379514]
    assert len(result.failures) == 1
    assert field in result.failures[0][1]


def test_pinfl_is_accepted_and_a_bad_inn_becomes_none(auction_rows: list[dict[str, Any]]) -> None:
    rows = copy.deepcopy(auction_rows[:3])
    rows[0]["provider_inn"] = "30101901234567"  # 14-digit PINFL of an individual
    rows[1]["provider_inn"] = "12-345"
    rows[2]["customer_inn"] = 202080378  # an integer INN is still an INN

    result = parse_completed_deals("auction", rows)

    assert result.failures == []
    lots = by_id(result)
    assert lots[379251].provider_inn == "30101901234567"
    assert lots[379514].provider_inn is None
    assert lots[379514].provider_name == "TEXNO SERVIS CAP MCHJ"
    assert json.loads(lots[379514].extra_json)["provider_inn_invalid"] == "12-345"
    assert lots[379463].customer_inn == "202080378"
    assert ("30101901234567", "provider") in {(p.inn, p.kind) for p in result.parties}


def test_hostile_strings_are_cleaned(auction_rows: list[dict[str, Any]]) -> None:
    row = copy.deepcopy(auction_rows[0])
    row["customer_name"] = "DAVLAT\x00 BELGISI"
    row["provider_name"] = "Ж" * 1_000_000
    row["category_name"] = "bad \ud800 surrogate"
    row["beneficiary"] = {"note": "x\x00y", "n": float("inf")}

    (lot,) = parse_completed_deals("auction", [row]).lots

    assert lot.customer_name == "DAVLAT BELGISI"
    assert lot.provider_name is not None and len(lot.provider_name) == values.MAX_NAME_CHARS
    assert lot.category_name is not None
    lot.category_name.encode("utf-8")  # would raise on a lone surrogate
    assert json.loads(lot.extra_json)["beneficiary"] == {"note": "xy", "n": None}


def test_dates_in_other_forms() -> None:
    assert values.to_datetime("0001-01-01T00:00:00") is None  # .NET DateTime.MinValue
    assert values.to_datetime("2025-12-04T06:29:09Z") == datetime(
        2025, 12, 4, 11, 29, 9, tzinfo=TASHKENT
    )
    assert values.to_datetime("11.04.2025") == datetime(2025, 4, 11, tzinfo=TASHKENT)
    assert values.to_datetime("2025-12-04T11:29:14.537") == datetime(
        2025, 12, 4, 11, 29, 14, 537000, tzinfo=TASHKENT
    )


def test_page_that_is_not_a_list_raises() -> None:
    with pytest.raises(ParseError, match="JSON array"):
        parse_completed_deals("auction", {"status": 500, "message": "Not Valid"})


def test_empty_page_has_no_total_count() -> None:
    result = parse_completed_deals("auction", [])

    assert result.total_count is None
    assert result.lots == []
    assert result.failures == []


def test_a_bad_item_fails_the_whole_lot() -> None:
    items = load("auction_GetCompletedDealProducts_379514.json")
    items[2]["quantity"] = "lots"

    with pytest.raises(ParseError) as caught:
        parse_deal_products("auction", 379514, items)

    assert caught.value.entity_id == 379514
    assert "quantity" in caught.value.reason


def test_budget_products_json_inside_a_string() -> None:
    products = [
        {"Product_Name": "Сервер", "Quantity": 2.0, "Price": 150.5, "Cost": 301.0, "Product_Id": 7},
        {"Product_Name": "Коммутатор", "Quantity": 1.0, "Cost": 99.0, "Measure_Name": "шт"},
    ]
    trade = {"id": 453146, "budget_products": json.dumps(products, ensure_ascii=False)}

    items = parse_etender_trade(453146, trade)

    assert [i.line_no for i in items] == [1, 2]
    assert items[0].unit_price == Decimal("150.5")
    assert json.loads(items[0].properties_json) == {"product_id": 7}
    assert items[1].unit == "шт"
    assert items[1].unit_price == Decimal("99.00")  # derived: no Price given
    assert parse_etender_trade(453146, {"id": 453146}) == []  # field absent
    assert parse_etender_trade(453146, {"budget_products": products})[0].name == "Сервер"


def test_budget_products_in_a_deals_list_row() -> None:
    rows = load("etender_DealsList.json")
    rows[0]["budget_products"] = json.dumps([{"Product_Name": "ZIP", "Quantity": 3.0}])
    rows[1]["budget_products"] = "[{broken"

    result = parse_etender_deals(rows)

    assert [(i.lot_id, i.name) for i in result.items] == [(453146, "ZIP")]
    assert result.failures == [("412677", "budget_products: not valid JSON")]
