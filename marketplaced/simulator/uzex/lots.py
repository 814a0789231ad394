"""The UZEX lot model: a lot's identity and timeline, and the facts derived from its id and seed.

A ``Lot`` is all the catalogue keeps per lot (type, id, bidding window, deal); its ``Facts``
(category, customer, provider, items) are drawn again from ``(seed, type, id)`` whenever a page
or the oracle needs them, so memory stays at a few numbers per lot however many are served.
``draw_parties`` draws the fixed customers and providers lots pick from, ``draw_item`` one item.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from marketplaced.platforms.uzex.records import LotType
from marketplaced.simulator.uzex.vocabulary import (
    COMPANY_WORDS,
    COUNTRIES,
    PERSON_NAMES,
    PRODUCTS,
    REGIONS,
    UNIT_PROPERTY,
    UNITS,
)

CENT = Decimal("0.01")


@dataclass(slots=True)
class Lot:
    """Identity and timeline of one lot; everything else is derived from its id and the seed."""

    lot_type: LotType
    lot_id: int
    start: datetime
    end: datetime
    deal_id: int | None = None
    deal_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Party:
    inn: str | None
    name: str
    region: str


@dataclass(frozen=True, slots=True)
class Item:
    line_no: int
    product_name: str | None
    description: str
    quantity: Decimal
    unit: str
    start_price: Decimal
    deal_price: Decimal
    country: str
    properties: tuple[tuple[str, str, int], ...]  # (name, value, value id), unit first

    def price(self, completed: bool) -> Decimal:
        return self.deal_price if completed else self.start_price

    def cost(self, completed: bool) -> Decimal:
        return (self.price(completed) * self.quantity).quantize(CENT)


@dataclass(frozen=True, slots=True)
class Facts:
    category: tuple[int, str]
    customer: Party
    provider: Party
    is_budget: bool
    participants: int
    paid: bool
    items: tuple[Item, ...]

    @property
    def start_cost(self) -> Decimal:
        return sum((item.cost(False) for item in self.items), Decimal(0))

    @property
    def deal_cost(self) -> Decimal:
        return sum((item.cost(True) for item in self.items), Decimal(0))


def draw_parties(rng: random.Random) -> tuple[tuple[Party, ...], tuple[Party, ...]]:
    """Customers are legal entities (9-digit INN); providers also individuals (PINFL or none)."""
    regions = [name for _, name in REGIONS]
    customers = tuple(
        Party(
            str(rng.randint(200_000_000, 209_999_999)), f"{_company(rng)} ДМ", rng.choice(regions)
        )
        for _ in range(40)
    )
    providers = []
    for _ in range(60):
        roll = rng.random()
        if roll < 0.6:
            inn: str | None = str(rng.randint(300_000_000, 312_999_999))
            name = f"{_company(rng)} MCHJ"
        else:
            # individual entrepreneurs: PINFL sometimes, null INN otherwise (as in the capture)
            inn = str(rng.randint(30_000_000_000_000, 62_999_999_999_999)) if roll < 0.8 else None
            name = f"YTT {rng.choice(PERSON_NAMES)}"
        providers.append(Party(inn, name, rng.choice(regions)))
    return customers, tuple(providers)


def _company(rng: random.Random) -> str:
    return " ".join(rng.sample(COMPANY_WORDS, 2))


def draw_item(rng: random.Random, lot_type: LotType, line_no: int) -> Item:
    product = rng.choice(PRODUCTS)
    quantity = Decimal(rng.choice((1, 1, 2, 3, 5, 10, 40, 100, 285)))
    if rng.random() < 0.1:
        quantity += Decimal("0.5")  # upstream quantities are floats and sometimes fractional
    start_price = Decimal(rng.randint(10, 500_000)) * 100
    discount = Decimal(rng.randint(55, 95)) / 100
    unit = rng.choice(UNITS)
    extra = (
        ("Вид", rng.choice(("Поверхностный", "Однопоршневой", "Грузовой")), rng.randint(0, 5)),
    )
    return Item(
        line_no=line_no,
        # auction items usually carry only a description; shop items always have a name
        product_name=product if lot_type != "auction" or rng.random() < 0.3 else None,
        description=f"{product} ({rng.randint(1, 900)} {unit}), техническое задание прилагается",
        quantity=quantity,
        unit=unit,
        start_price=start_price,
        deal_price=(start_price * discount).quantize(CENT, rounding=ROUND_HALF_UP),
        country=rng.choice(COUNTRIES),
        properties=((UNIT_PROPERTY, unit, UNITS.index(unit)), *extra[: rng.randint(0, 1)]),
    )
