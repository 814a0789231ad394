"""The UZEX test oracle: what a scanner should have stored for a lot and for its items.

The catalogue knows every lot and its facts, so it can say exactly which rows a complete scan
ends with; these records and builders state how a lot's status changes what is visible (active
shop offers name no customer, completed shop rows carry no unit price), mirroring the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from marketplaced.platforms.uzex.records import LotStatus, LotType
from marketplaced.simulator.uzex.lots import CENT, Facts, Item, Lot


@dataclass(frozen=True, slots=True)
class ExpectedLot:
    """What a scanner should have stored for one lot."""

    lot_type: LotType
    lot_id: int
    status: LotStatus
    deal_id: int | None
    start_cost: Decimal
    deal_cost: Decimal | None
    customer_inn: str | None
    provider_inn: str | None
    line_nos: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ExpectedItem:
    """What a scanner should have stored for one item line (prices as the lot's status shows)."""

    lot_type: LotType
    lot_id: int
    line_no: int
    quantity: Decimal
    unit: str | None
    unit_price: Decimal
    cost: Decimal


def expected_lot(lot: Lot, facts: Facts, status: LotStatus) -> ExpectedLot:
    completed = status == "completed"
    shows_customer = completed or lot.lot_type == "auction"
    return ExpectedLot(
        lot_type=lot.lot_type,
        lot_id=lot.lot_id,
        status=status,
        deal_id=lot.deal_id,
        start_cost=facts.start_cost,
        deal_cost=facts.deal_cost if completed else None,
        # active shop rows name no customer; GetLot does for active auctions
        customer_inn=facts.customer.inn if shows_customer else None,
        provider_inn=facts.provider.inn if completed else None,
        line_nos=tuple(item.line_no for item in facts.items),
    )


def expected_item(lot: Lot, item: Item, completed: bool) -> ExpectedItem:
    cost = item.cost(completed)
    shop_row = lot.lot_type in ("shop", "national") and completed
    # completed shop rows carry no unit price: the parser derives it as cost / quantity
    price = (
        (cost / item.quantity).quantize(CENT, ROUND_HALF_UP) if shop_row else item.price(completed)
    )
    return ExpectedItem(
        lot_type=lot.lot_type,
        lot_id=lot.lot_id,
        line_no=item.line_no,
        quantity=item.quantity,
        unit=None if lot.lot_type in ("shop", "national") else item.unit,
        unit_price=price,
        cost=cost,
    )
