"""Typed records the UZEX parser produces and the bulk writer stores.

These dataclasses are the boundary between parsing and storage for the procurement exchange:
the parser fills them from list pages and detail payloads of every lot type, the writer turns
them into rows of `uzex_lots`, `uzex_lot_items`, the party tables and the reference tables.
Lots and items are keyed by `(lot_type, lot_id)` because the auction, shop and e-tender hosts
number their lots independently. Frozen and slotted so a batch of tens of thousands stays
cheap in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

#: which UZEX module a lot comes from; "shop" and "national" share one host
LotType = Literal["auction", "shop", "national", "etender"]
LOT_TYPES: tuple[LotType, ...] = ("auction", "shop", "national", "etender")

#: "active" while bidding is open, "completed" once a deal was struck
LotStatus = Literal["active", "completed"]

PartyKind = Literal["customer", "provider"]


@dataclass(frozen=True, slots=True)
class LotRecord:
    """One lot (or e-tender trade) as a list page or a detail payload describes it."""

    lot_type: LotType
    #: `lot_id` (completed lists), `id` (active lists, GetLot) or `trade_id` (e-tender)
    lot_id: int
    display_no: str | None
    deal_id: int | None
    status: LotStatus
    #: upstream dates carry no zone; they are Asia/Tashkent local time, made aware here
    start_date: datetime | None
    end_date: datetime | None
    deal_date: datetime | None
    start_cost: Decimal | None  # so'm unless `currency` says otherwise
    deal_cost: Decimal | None
    currency: str | None
    participants: int | None  # `pcp_count` / `participants_count`
    category_name: str | None
    #: 9-digit INN (legal entity) or 14-digit PINFL (individual); None when absent or invalid
    customer_inn: str | None
    customer_name: str | None
    customer_region: str | None
    provider_inn: str | None
    provider_name: str | None
    provider_region: str | None
    is_budget: bool | None  # budget (state-funded) customer vs corporate
    type_name: str | None  # "Бюджет" / "Корпоратив" / e-tender customer type
    kazna_status: str | None  # treasury registration status of the contract
    kazna_payment_status: str | None  # treasury payment status ("Оплачен", …)
    deal_status_name: str | None
    #: compact JSON object of every upstream field not mapped above (plus the raw value of
    #: an INN that failed validation), so nothing the upstream said is lost
    extra_json: str


@dataclass(frozen=True, slots=True)
class LotItemRecord:
    """One line of a lot: a product or service with quantity and prices."""

    lot_type: LotType
    lot_id: int
    #: `order_num` upstream; 1 for shop rows (the row is the item); position for e-tender
    line_no: int
    #: `product_name`, or the description when the product name is null (auctions)
    name: str | None
    description: str | None
    quantity: Decimal | None  # floats upstream
    unit: str | None  # the js_properties value named "Единица измерения"
    unit_price: Decimal | None
    cost: Decimal | None  # line total
    country: str | None
    currency: str | None
    #: compact JSON of the item's property list (js_properties or the leftover fields)
    properties_json: str


@dataclass(frozen=True, slots=True)
class PartyRecord:
    """A customer or provider, identified by INN or PINFL; the name is the latest seen."""

    inn: str
    name: str | None
    kind: PartyKind


@dataclass(frozen=True, slots=True)
class UzexCategoryRecord:
    """One entry of the UZEX category reference list (`/Lib/GetCategories`)."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class RegionRecord:
    """One entry of the UZEX region reference list (`/Lib/GetRegions`)."""

    id: int
    name: str
