"""UZEX bodies: a lot and its facts rendered in the shapes each host answers with.

Keys come in the order recorded in ``fixtures/uzex/`` (rows of the completed and active lists,
completed-auction items); ``GetMinimizedLotsList``, ``GetLot`` and ``GetTrade`` were never
recorded, so their shapes follow public scrapers and say so. Money is a JSON float and dates are
Tashkent local time without a zone, as upstream sends them. Paging, ordering and shuffling are
the catalogue's business; these functions only turn one lot into one body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from marketplaced.platforms.uzex.records import LotStatus, LotType
from marketplaced.simulator.uzex.lots import Facts, Item, Lot
from marketplaced.simulator.uzex.vocabulary import DEAL_STATUSES

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
#: lot-number module codes as seen in display numbers (25 12 1007 379251)
_MODULE_CODE: Mapping[LotType, str] = {
    "auction": "1007",
    "shop": "1008",
    "national": "1008",
    "etender": "0012",
}


def _date(value: datetime | None) -> str | None:
    return None if value is None else value.strftime(_DATE_FORMAT)


def _money(value: Decimal) -> float:
    """Upstream money is a JSON float; so'm amounts with tiyin round-trip exactly."""
    return float(value)


def _display_no(lot: Lot, facts: Facts) -> str:
    year = (lot.deal_time or lot.start).strftime("%y")
    return f"{year}{11 if facts.is_budget else 12}{_MODULE_CODE[lot.lot_type]}{lot.lot_id}"


def _kazna(lot: Lot, facts: Facts) -> dict[str, object]:
    return {
        "is_budget": int(facts.is_budget),
        "type_name": "Бюджет" if facts.is_budget else "Корпоратив",
        "kazna_status_id": 2 if facts.paid else 0,
        "kazna_status": "Договор Зарегистрирован",
        "kazna_payment_status": "Оплачен" if facts.paid else "Не оплачен",
        "kazna_created_date": _date(lot.deal_time) if facts.paid else None,
    }


def _properties(item: Item) -> list[dict[str, object]]:
    return [
        {"property_name": name, "user_value": value, "user_value_id": value_id, "pnum": pnum}
        for pnum, (name, value, value_id) in enumerate(item.properties)
    ]


def product_row(item: Item, completed: bool) -> dict[str, object]:
    """One GetCompletedDealProducts entry, keys in the recorded order."""
    return {
        "order_num": item.line_no,
        "product_name": item.product_name,
        "quantity": float(item.quantity),
        "price": _money(item.price(completed)),
        "country_name": item.country,
        "description": item.description,
        "cost": _money(item.cost(completed)),
        "currency_name": "Сом",
        "js_properties": _properties(item),
        "rn": item.line_no,
        "amount": float(item.quantity),
    }


def _detail_row(item: Item) -> dict[str, object]:
    """One GetLot `js_details` entry (not recorded; as public scrapers read it)."""
    return {
        "order_num": item.line_no,
        "product_name": item.product_name,
        "description": item.description,
        "amount": float(item.quantity),
        "measure_name": item.unit,
        "price": _money(item.start_price),
        "cost": _money(item.cost(False)),
        "country_name": item.country,
        "js_properties": _properties(item),
    }


def _budget_product(item: Item, facts: Facts) -> dict[str, object]:
    """One e-tender budget product; capitalised keys as public scrapers read them."""
    return {
        "Product_Id": 900_000 + item.line_no,
        "Product_Name": item.product_name or item.description,
        "Product_Code": f"{facts.category[0]}-{item.line_no:03d}",
        "Category_Id": facts.category[0],
        "Quantity": float(item.quantity),
        "Measure_Name": item.unit,
        "Price": _money(item.deal_price),
        "Cost": _money(item.cost(True)),
        "Description": item.description,
        "Delivery_Term": 30,
    }


def _auction_completed(lot: Lot, facts: Facts) -> dict[str, object]:
    """A GetCompletedDeals row of the auction host, keys in the recorded order."""
    return {
        "lot_id": lot.lot_id,
        "lot_start_date": _date(lot.start),
        "lot_end_date": _date(lot.end),
        "pcp_count": float(facts.participants),
        "category_name": facts.category[1],
        "start_cost": _money(facts.start_cost),
        "deal_cost": _money(facts.deal_cost),
        "customer_inn": facts.customer.inn,
        "customer_name": facts.customer.name,
        "customer_region": None,
        "deal_date": _date(lot.deal_time),
        "deal_id": lot.deal_id,
        "lot_display_no": _display_no(lot, facts),
        "provider_name": facts.provider.name,
        "provider_inn": facts.provider.inn,
        "currency_name": None,
        "beneficiary": None,
        "founder": None,
        **_kazna(lot, facts),
        "deal_status_name": None,
    }


def _shop_completed(lot: Lot, facts: Facts) -> dict[str, object]:
    """A GetCompletedDeals row of the shop host: the row is the (single) item."""
    item = facts.items[0]
    national = lot.lot_type == "national"
    return {
        "lot_id": lot.lot_id,
        "lot_display_no": _display_no(lot, facts),
        "category_name": facts.category[1],
        "product_name": item.product_name,
        "pcp_count": facts.participants,
        "js_properties": None,
        "condition": item.description,
        "amount": float(item.quantity),
        "deal_cost": _money(facts.deal_cost),
        "customer_inn": facts.customer.inn,
        "customer_name": facts.customer.name,
        "customer_region_name": facts.customer.region,
        "deal_date": _date(lot.deal_time),
        "deal_id": lot.deal_id,
        "provider_inn": facts.provider.inn,
        "provider_name": facts.provider.name,
        "provider_region_name": facts.provider.region,
        "beneficiary": None,
        "founder": None,
        "display_on_shop": 0 if national else 1,
        "display_on_national": 1 if national else 0,
        **_kazna(lot, facts),
        "deal_status_name": DEAL_STATUSES[lot.lot_id % len(DEAL_STATUSES)],
    }


def _etender_completed(lot: Lot, facts: Facts) -> dict[str, object]:
    """A DealsList row, keys in the recorded order."""
    signed = facts.paid and lot.deal_time is not None
    contract_date = lot.deal_time + timedelta(days=5) if lot.deal_time and signed else None
    return {
        "deal_date": _date(lot.deal_time),
        "deal_id": lot.deal_id,
        "trade_id": lot.lot_id,
        "display_no": _display_no(lot, facts),
        "start_cost": _money(facts.start_cost),
        "deal_cost": _money(facts.deal_cost),
        "currency_name": "Сум",
        "participants_count": facts.participants,
        "customer_name": facts.customer.name,
        "customer_type_name": "Byudjet buyurtmachi"
        if facts.is_budget
        else "Korporativ buyurtmachi",
        "customer_inn": facts.customer.inn,
        "provider_name": facts.provider.name,
        "provider_inn": facts.provider.inn,
        "deal_status_name": "Ғолиб томонидан қабул қилинган (Амалга ошган)",
        "proposal_status_name": "Протокол сформирован",
        "deal_contract_date": contract_date.strftime("%d.%m.%Y") if contract_date else None,
        "deal_contract_status_name": "Принятый" if signed else "Бириктирилмаган",
        "deal_contract_kazna_status_name": "Юборилмади",
        "deal_contract_kazna_status_id": 0,
        "category_name": facts.category[1],
        "is_local_manufacturs": False,
        "beneficiary": None,
        "founder": None,
        "can_comment": 0,
        **_files("contract_file", lot, signed, 2_532_328.0),
        **_files("additional_protocol_file", lot, True, 33.0),
    }


def _files(prefix: str, lot: Lot, present: bool, size: float) -> dict[str, object]:
    name = f"{lot.lot_id}{prefix[:3]}.pdf" if present else None
    return {
        f"{prefix}_name": name,
        f"{prefix}_path": f"tender/user-files/{name}" if name else None,
        f"{prefix}_ext": ".PDF" if name else None,
        f"{prefix}_sizes": size if name else None,
        f"{prefix}_date": _date(lot.deal_time) if name else None,
    }


def _auction_active(lot: Lot, facts: Facts) -> dict[str, object]:
    """A GetMinimizedLotsList row (not recorded; fields as public scrapers read them)."""
    return {
        "id": lot.lot_id,
        "display_no": _display_no(lot, facts),
        "category_name": facts.category[1],
        "region_name": facts.customer.region,
        "start_cost": _money(facts.start_cost),
        "currency_name": "Сом",
        "start_date": _date(lot.start),
        "end_date": _date(lot.end),
        "customer_type": "Бюджет" if facts.is_budget else "Корпоратив",
    }


def _shop_active(lot: Lot, facts: Facts) -> dict[str, object]:
    """A GetNotCompletedDeals row, keys in the recorded order."""
    item = facts.items[0]
    return {
        "id": lot.lot_id,
        "start_date": _date(lot.start),
        "end_date": _date(lot.end),
        "pcp_count": 1,
        "product_name": item.product_name,
        "category_name": facts.category[1],
        "cost": _money(item.cost(False)),
        "price": _money(item.start_price),
        "amount": float(item.quantity),
    }


_Renderer = Callable[[Lot, Facts], dict[str, object]]
ROW_RENDERERS: Mapping[tuple[LotType, LotStatus], _Renderer] = {
    ("auction", "completed"): _auction_completed,
    ("shop", "completed"): _shop_completed,
    ("national", "completed"): _shop_completed,
    ("etender", "completed"): _etender_completed,
    ("auction", "active"): _auction_active,
    ("shop", "active"): _shop_active,
    ("national", "active"): _shop_active,
}


def lot_detail(lot: Lot, facts: Facts) -> dict[str, object]:
    """GetLot (shape not recorded; fields as public scrapers read them)."""
    return {
        "id": lot.lot_id,
        "display_no": _display_no(lot, facts),
        "category_name": facts.category[1],
        "customer_name": facts.customer.name,
        "customer_inn": facts.customer.inn,
        "region_name": facts.customer.region,
        "district_name": None,
        "start_date": _date(lot.start),
        "end_date": _date(lot.end),
        "start_cost": _money(facts.start_cost),
        "currency_name": "Сом",
        "delivery_days": 10,
        "js_details": [_detail_row(item) for item in facts.items],
    }


def trade(lot: Lot, facts: Facts) -> dict[str, object]:
    """GetTrade (shape not recorded): `budget_products` is JSON serialised into a string."""
    products = [_budget_product(item, facts) for item in facts.items]
    return {
        "id": lot.lot_id,
        "display_no": _display_no(lot, facts),
        "name": facts.category[1],
        "customer_name": facts.customer.name,
        "customer_inn": facts.customer.inn,
        "start_cost": _money(facts.start_cost),
        "start_date": _date(lot.start),
        "end_date": _date(lot.end),
        "pledge_value": 3,
        "currency_name": "Сум",
        "budget_products": json.dumps(products, ensure_ascii=False),
    }
