"""UZEX-compatible fake upstream: a seeded lot catalogue and the aiohttp routes that serve it.

`UzexCatalogue` generates completed deals, active lots and their items for every lot type from
a seed, in exactly the shapes recorded in `fixtures/uzex/`; `advance()` moves simulated time so a
continuous scanner sees new deals and active lots turning into completed ones. `UzexSimulator`
adds switchable upstream behaviours (`UzexFaults`), and `add_uzex_routes()` mounts every UZEX
host on one aiohttp application. It powers `marketplaced demo`, the tests and the benchmarks.

One origin serves all hosts, so each host lives under a path prefix. Point every host's base
URL at `{origin}/<prefix>` and build URLs exactly as for the real hosts:

    real base URL                          simulator base URL
    https://xarid-api-auction.uzex.uz      {origin}/auction
    https://xarid-api-shop.uzex.uz         {origin}/shop
    https://apietender.uzex.uz/api         {origin}/etender/api
    https://xarid-api-trade.uzex.uz        {origin}/trade

    POST /auction/Common/GetCompletedDeals                 completed auctions
    GET  /auction/Common/GetCompletedDealProducts/{lot_id} items of a completed auction
    POST /auction/Common/GetMinimizedLotsList              active auctions
    GET  /auction/Common/GetLot/{id}                       an active auction with its items
    POST /shop/Common/GetCompletedDeals                    shop (or national: body switches)
    POST /shop/Common/GetNotCompletedDeals                 active shop / national offers
    GET  /shop/Common/GetLot/{id}                          an active shop / national offer
    POST /etender/api/common/DealsList                     completed e-tender deals
    GET  /etender/api/common/GetTrade/{trade_id}/0         a trade with `budget_products`
    GET  /trade/Lib/GetCategories, /trade/Lib/GetRegions   reference lists

Lists take `from`/`to` (inclusive, 1-based; keys matched case-insensitively, as ASP.NET binds
them, so e-tender's `From`/`To` work too), answer newest first with `rn` and `total_count` in
every row, rows shuffled within the page, and an empty array past the end; region filters are
accepted and ignored. `GetMinimizedLotsList`, `GetLot` and `GetTrade` are not recorded in the
fixtures: their shapes follow public scrapers and are marked as such.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from aiohttp import web

from marketplaced.platforms.uzex.records import LOT_TYPES, LotStatus, LotType
from marketplaced.simulator.faults import DEEPNEST_LEVELS

Host = Literal["auction", "shop", "etender", "trade"]

#: simulated "now" at tick 0, Asia/Tashkent local time like every upstream date
EPOCH = datetime(2025, 12, 4, 12, 0, 0)
#: one tick of simulated time
TICK = timedelta(minutes=10)
_CENT = Decimal("0.01")
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_UNIT_PROPERTY = "Единица измерения"
#: first lot id / deal id per type; shop and national share one host, so their ranges differ
_FIRST_LOT_ID: Mapping[LotType, int] = {
    "auction": 300_000,
    "shop": 4_000_000,
    "national": 6_000_000,
    "etender": 400_000,
}
_FIRST_DEAL_ID: Mapping[LotType, int] = {
    "auction": 250_000,
    "shop": 4_400_000,
    "national": 6_400_000,
    "etender": 140_000,
}
#: lot-number module codes as seen in display numbers (25 12 1007 379251)
_MODULE_CODE: Mapping[LotType, str] = {
    "auction": "1007",
    "shop": "1008",
    "national": "1008",
    "etender": "0012",
}
_ACTIVE_TYPES: tuple[LotType, ...] = ("auction", "shop", "national")
#: bidding windows: auctions run a week, shop offers four days (as in the fixtures)
_DURATION: Mapping[LotType, timedelta] = {
    "auction": timedelta(days=7),
    "shop": timedelta(days=4),
    "national": timedelta(days=4),
    "etender": timedelta(days=14),
}

REGIONS: tuple[tuple[int, str], ...] = (
    (2, "Андижанская область"),
    (242, "Бухарская область"),
    (487, "Джизакская область"),
    (679, "Кашкадарьинская область"),
    (1008, "Навоийская область"),
    (1150, "Наманганская область"),
    (3049, "Республика Каракалпакстан"),
    (1413, "Самаркандская область"),
    (1692, "Сурхандарьинская область"),
    (1977, "Сырдарьинская область"),
    (2120, "Ташкентская область"),
    (2434, "Ферганская область"),
    (2858, "Хорезмская область"),
    (2105, "город Ташкент"),
)
#: a slice of the real top-level category list (ids and names from trade_GetCategories)
CATEGORIES: tuple[tuple[int, str], ...] = (
    (106825, "Продукция и услуги сельского хозяйства и охоты"),
    (109122, "Продукты пищевые"),
    (111223, "Напитки"),
    (111494, "Текстиль и изделия текстильные"),
    (112246, "Одежда"),
    (113434, "Бумага и изделия из бумаги"),
    (113821, "Кокс и нефтепродукты"),
    (114027, "Вещества химические и продукты химические"),
    (115349, "Средства лекарственные и материалы, применяемые в медицинских целях"),
    (117359, "Изделия резиновые и пластмассовые"),
)
_PRODUCTS = (
    "Принтер",
    "Бумага A4",
    "Картридж",
    "Дизельное топливо",
    "Стол офисный",
    "Кабель медный",
    "Перчатки",
    "Ноутбук",
    "Ремень двигателя",
    "Труба ПВХ 25 мм",
)
_UNITS = ("шт", "компл.", "л", "м", "кг", "упак.")
_COUNTRIES = ("O'zbekiston", "Boshqa")
_COMPANY_WORDS = ("DREAM", "TEXNO", "SERVIS", "UNIVERSAL", "DIGITAL", "BIZNES", "TRADE", "GOLD")
_PERSON_NAMES = ("KARIMOV SALOHIDDIN", "TURSUNOVA MARXABO", "BOLTABOYEVA GULMIRA", "ALIYEV RUSTAM")
_DEAL_STATUSES = ("Оплачена", "Поставлена", "Ожидает оплаты")


@dataclass(frozen=True, slots=True)
class UzexFaults:
    """Upstream behaviours to switch on; replace `UzexSimulator.faults` to change them live."""

    #: answer HTTP 500 "Missing User-Agent header" unless the User-Agent looks like a browser
    require_browser_ua: bool = True
    #: the auction host demands its JavaScript-made `Validation` header: HTTP 500 "Not Valid"
    auction_not_valid: bool = False
    #: seconds to wait before answering (the real hosts take 30–60 s on bad days)
    delay_s: float = 0.0
    #: every list answers `[]`
    empty_pages: bool = False
    #: (lot type, lot id) whose detail endpoints answer 404 while lists still show them
    removed_lots: frozenset[tuple[LotType, int]] = frozenset()
    #: hosts that answer every request with HTTP 503 (an outage of that host)
    down_hosts: frozenset[Host] = frozenset()
    #: (lot type, lot id) whose detail endpoints answer well-formed JSON nested deeper than
    #: any decoder recurses: one such body must cost that lot only
    deep_nested_lots: frozenset[tuple[LotType, int]] = frozenset()


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


@dataclass(slots=True)
class _Lot:
    """Identity and timeline of one lot; everything else is derived from its id and the seed."""

    lot_type: LotType
    lot_id: int
    start: datetime
    end: datetime
    deal_id: int | None = None
    deal_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Party:
    inn: str | None
    name: str
    region: str


@dataclass(frozen=True, slots=True)
class _Item:
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
        return (self.price(completed) * self.quantity).quantize(_CENT)


@dataclass(frozen=True, slots=True)
class _Facts:
    category: tuple[int, str]
    customer: _Party
    provider: _Party
    is_budget: bool
    participants: int
    paid: bool
    items: tuple[_Item, ...]

    @property
    def start_cost(self) -> Decimal:
        return sum((item.cost(False) for item in self.items), Decimal(0))

    @property
    def deal_cost(self) -> Decimal:
        return sum((item.cost(True) for item in self.items), Decimal(0))


def _date(value: datetime | None) -> str | None:
    return None if value is None else value.strftime(_DATE_FORMAT)


def _money(value: Decimal) -> float:
    """Upstream money is a JSON float; so'm amounts with tiyin round-trip exactly."""
    return float(value)


class UzexCatalogue:
    """Deterministic lots for every UZEX lot type, and simulated time that moves them."""

    def __init__(
        self,
        seed: int = 1,
        n_auction: int = 50,
        n_shop: int = 50,
        n_national: int = 20,
        n_etender: int = 10,
        n_active: int = 10,
        *,
        deals_per_tick: int = 2,
        closes_per_tick: int = 1,
    ) -> None:
        self.seed = seed
        self.now = EPOCH
        self.deals_per_tick = deals_per_tick
        self.closes_per_tick = closes_per_tick
        self._rng = random.Random(f"{seed}/timeline")
        self._customers, self._providers = _parties(random.Random(f"{seed}/parties"))
        # only the auction capture shows providers without INN; shop and e-tender rows always
        # carry one (their sellers register with an INN or PINFL)
        self._registered = tuple(p for p in self._providers if p.inn is not None)
        self._next_lot = dict(_FIRST_LOT_ID)
        self._next_deal = dict(_FIRST_DEAL_ID)
        #: per type, oldest first (the upstream serves them newest first)
        self._completed: dict[LotType, list[_Lot]] = {t: [] for t in LOT_TYPES}
        self._active: dict[LotType, list[_Lot]] = {t: [] for t in LOT_TYPES}
        #: every lot by (type, id): detail endpoints must not scan lists of 10^5 lots
        self._index: dict[tuple[LotType, int], _Lot] = {}
        counts: dict[LotType, int] = {
            "auction": n_auction,
            "shop": n_shop,
            "national": n_national,
            "etender": n_etender,
        }
        for lot_type, count in counts.items():
            self._backfill(lot_type, count)
        for lot_type in _ACTIVE_TYPES:
            for _ in range(n_active):
                self._open(lot_type, self.now - self._rng.random() * timedelta(days=3))
            self._active[lot_type].sort(key=lambda lot: lot.start)

    # --- timeline ---------------------------------------------------------------------------

    def _new_lot(self, lot_type: LotType, start: datetime) -> _Lot:
        lot_id = self._next_lot[lot_type]
        self._next_lot[lot_type] += 1
        lot = _Lot(lot_type, lot_id, start, start + _DURATION[lot_type])
        self._index[(lot_type, lot_id)] = lot
        return lot

    def _strike(self, lot: _Lot, when: datetime) -> None:
        lot.deal_id = self._next_deal[lot.lot_type]
        self._next_deal[lot.lot_type] += 1
        lot.deal_time = when
        lot.end = min(lot.end, when)  # a lot struck early stops bidding there
        self._completed[lot.lot_type].append(lot)

    def _backfill(self, lot_type: LotType, count: int) -> None:
        """History: `count` deals spaced 1–10 minutes apart, the newest just before EPOCH."""
        gaps = [timedelta(seconds=self._rng.randint(60, 600)) for _ in range(count)]
        when = self.now - sum(gaps, timedelta())
        for gap in gaps:
            # bidding closed 5–45 minutes before the deal was registered, as in the capture
            closed = when - timedelta(minutes=self._rng.randint(5, 45))
            lot = self._new_lot(lot_type, closed - _DURATION[lot_type])
            self._strike(lot, when)
            when += gap

    def _open(self, lot_type: LotType, start: datetime) -> None:
        self._active[lot_type].append(self._new_lot(lot_type, start.replace(microsecond=0)))

    def advance(self, ticks: int = 1) -> None:
        """Move time: each tick closes some active lots as deals and adds brand-new deals."""
        for _ in range(ticks):
            before, self.now = self.now, self.now + TICK
            for lot_type in LOT_TYPES:
                self._tick(lot_type, before)

    def _tick(self, lot_type: LotType, before: datetime) -> None:
        active = self._active[lot_type]
        closing = active[: self.closes_per_tick]  # oldest first: their bidding ends first
        del active[: len(closing)]
        new = [
            self._new_lot(lot_type, before - _DURATION[lot_type])
            for _ in range(self.deals_per_tick)
        ]
        # deal times strictly inside (before, now], in order, so newest-first stays consistent
        step = TICK / (len(closing) + len(new) + 1)
        for index, lot in enumerate([*closing, *new], 1):
            if index <= len(closing):
                self._open(lot_type, self.now)  # a new offer replaces it: the list stays full
            self._strike(lot, (before + step * index).replace(microsecond=0))

    # --- derived facts ----------------------------------------------------------------------

    def _facts(self, lot: _Lot) -> _Facts:
        rng = random.Random(f"{self.seed}/{lot.lot_type}/{lot.lot_id}")
        is_budget = rng.random() < 0.5
        customer = rng.choice(self._customers)
        n_items = 1 if lot.lot_type in ("shop", "national") else rng.randint(1, 6)
        return _Facts(
            category=rng.choice(CATEGORIES),
            customer=customer,
            provider=rng.choice(self._providers if lot.lot_type == "auction" else self._registered),
            is_budget=is_budget,
            participants=rng.randint(1, 30),
            paid=is_budget or rng.random() < 0.5,
            items=tuple(_item(rng, lot.lot_type, line) for line in range(1, n_items + 1)),
        )

    def _lots(self, lot_type: LotType, status: LotStatus) -> list[_Lot]:
        return (self._completed if status == "completed" else self._active)[lot_type]

    def find(self, lot_type: LotType, lot_id: int, status: LotStatus) -> _Lot | None:
        lot = self._index.get((lot_type, lot_id))
        if lot is None or (lot.deal_id is not None) != (status == "completed"):
            return None
        return lot

    # --- rows in the recorded shapes --------------------------------------------------------

    def page(
        self, lot_type: LotType, status: LotStatus, first: int, last: int
    ) -> list[dict[str, object]]:
        """Rows `rn` = first..last (inclusive, 1-based, newest first), shuffled like upstream."""
        lots = self._lots(lot_type, status)
        total = len(lots)
        if first < 1 or last < first:
            return []
        render = _ROW_RENDERERS[(lot_type, status)]
        rows = []
        for rn in range(first, min(last, total) + 1):
            lot = lots[total - rn]
            row = render(lot, self._facts(lot))
            row["rn"] = rn
            row["total_count"] = total
            rows.append(row)
        random.Random(f"{self.seed}/page/{lot_type}/{status}/{first}/{last}/{total}").shuffle(rows)
        return rows

    def deal_products(self, lot: _Lot) -> list[dict[str, object]]:
        """GetCompletedDealProducts: every item of a completed auction, in upstream's disorder."""
        facts = self._facts(lot)
        rows = [_product_row(item, completed=True) for item in facts.items]
        random.Random(f"{self.seed}/products/{lot.lot_id}").shuffle(rows)
        return rows

    def lot_detail(self, lot: _Lot) -> dict[str, object]:
        """GetLot (shape not recorded; fields as public scrapers read them)."""
        facts = self._facts(lot)
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

    def trade(self, lot: _Lot) -> dict[str, object]:
        """GetTrade (shape not recorded): `budget_products` is JSON serialised into a string."""
        facts = self._facts(lot)
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

    # --- what a scanner should end up with --------------------------------------------------

    def expected_lots(self, lot_type: LotType) -> dict[int, ExpectedLot]:
        """Every lot of a type as it stands now (a closed lot appears once, as completed)."""
        expected = {}
        for status in ("active", "completed"):
            shows_customer = status == "completed" or lot_type == "auction"
            for lot in self._lots(lot_type, status):
                facts = self._facts(lot)
                expected[lot.lot_id] = ExpectedLot(
                    lot_type=lot_type,
                    lot_id=lot.lot_id,
                    status=status,
                    deal_id=lot.deal_id,
                    start_cost=facts.start_cost,
                    deal_cost=facts.deal_cost if status == "completed" else None,
                    # active shop rows name no customer; GetLot does for active auctions
                    customer_inn=facts.customer.inn if shows_customer else None,
                    provider_inn=facts.provider.inn if status == "completed" else None,
                    line_nos=tuple(item.line_no for item in facts.items),
                )
        return expected

    def expected_items(self, lot_type: LotType) -> dict[tuple[int, int], ExpectedItem]:
        """Items keyed by (lot id, line no), priced as the lot's current status shows them."""
        expected = {}
        for status in ("active", "completed"):
            completed = status == "completed"
            for lot in self._lots(lot_type, status):
                for item in self._facts(lot).items:
                    expected[(lot.lot_id, item.line_no)] = _expected_item(lot, item, completed)
        return expected

    def expected_parties(self) -> dict[tuple[str, str], str]:
        """(INN, "customer" | "provider") → name, over every completed deal of every type."""
        parties: dict[tuple[str, str], str] = {}
        for lot_type in LOT_TYPES:
            for lot in self._completed[lot_type]:
                facts = self._facts(lot)
                for kind, party in (("customer", facts.customer), ("provider", facts.provider)):
                    if party.inn is not None:
                        parties[(party.inn, kind)] = party.name
        return parties

    def total(self, lot_type: LotType, status: LotStatus) -> int:
        return len(self._lots(lot_type, status))


# --- generation helpers ----------------------------------------------------------------------


def _parties(rng: random.Random) -> tuple[tuple[_Party, ...], tuple[_Party, ...]]:
    """Customers are legal entities (9-digit INN); providers also individuals (PINFL or none)."""
    regions = [name for _, name in REGIONS]
    customers = tuple(
        _Party(
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
            name = f"YTT {rng.choice(_PERSON_NAMES)}"
        providers.append(_Party(inn, name, rng.choice(regions)))
    return customers, tuple(providers)


def _company(rng: random.Random) -> str:
    return " ".join(rng.sample(_COMPANY_WORDS, 2))


def _item(rng: random.Random, lot_type: LotType, line_no: int) -> _Item:
    product = rng.choice(_PRODUCTS)
    quantity = Decimal(rng.choice((1, 1, 2, 3, 5, 10, 40, 100, 285)))
    if rng.random() < 0.1:
        quantity += Decimal("0.5")  # upstream quantities are floats and sometimes fractional
    start_price = Decimal(rng.randint(10, 500_000)) * 100
    discount = Decimal(rng.randint(55, 95)) / 100
    unit = rng.choice(_UNITS)
    extra = (
        ("Вид", rng.choice(("Поверхностный", "Однопоршневой", "Грузовой")), rng.randint(0, 5)),
    )
    return _Item(
        line_no=line_no,
        # auction items usually carry only a description; shop items always have a name
        product_name=product if lot_type != "auction" or rng.random() < 0.3 else None,
        description=f"{product} ({rng.randint(1, 900)} {unit}), техническое задание прилагается",
        quantity=quantity,
        unit=unit,
        start_price=start_price,
        deal_price=(start_price * discount).quantize(_CENT, rounding=ROUND_HALF_UP),
        country=rng.choice(_COUNTRIES),
        properties=((_UNIT_PROPERTY, unit, _UNITS.index(unit)), *extra[: rng.randint(0, 1)]),
    )


def _expected_item(lot: _Lot, item: _Item, completed: bool) -> ExpectedItem:
    cost = item.cost(completed)
    shop_row = lot.lot_type in ("shop", "national") and completed
    # completed shop rows carry no unit price: the parser derives it as cost / quantity
    price = (
        (cost / item.quantity).quantize(_CENT, ROUND_HALF_UP) if shop_row else item.price(completed)
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


def _display_no(lot: _Lot, facts: _Facts) -> str:
    year = (lot.deal_time or lot.start).strftime("%y")
    return f"{year}{11 if facts.is_budget else 12}{_MODULE_CODE[lot.lot_type]}{lot.lot_id}"


def _kazna(lot: _Lot, facts: _Facts) -> dict[str, object]:
    return {
        "is_budget": int(facts.is_budget),
        "type_name": "Бюджет" if facts.is_budget else "Корпоратив",
        "kazna_status_id": 2 if facts.paid else 0,
        "kazna_status": "Договор Зарегистрирован",
        "kazna_payment_status": "Оплачен" if facts.paid else "Не оплачен",
        "kazna_created_date": _date(lot.deal_time) if facts.paid else None,
    }


def _properties(item: _Item) -> list[dict[str, object]]:
    return [
        {"property_name": name, "user_value": value, "user_value_id": value_id, "pnum": pnum}
        for pnum, (name, value, value_id) in enumerate(item.properties)
    ]


def _product_row(item: _Item, completed: bool) -> dict[str, object]:
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


def _detail_row(item: _Item) -> dict[str, object]:
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


def _budget_product(item: _Item, facts: _Facts) -> dict[str, object]:
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


def _auction_completed(lot: _Lot, facts: _Facts) -> dict[str, object]:
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


def _shop_completed(lot: _Lot, facts: _Facts) -> dict[str, object]:
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
        "deal_status_name": _DEAL_STATUSES[lot.lot_id % len(_DEAL_STATUSES)],
    }


def _etender_completed(lot: _Lot, facts: _Facts) -> dict[str, object]:
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


def _files(prefix: str, lot: _Lot, present: bool, size: float) -> dict[str, object]:
    name = f"{lot.lot_id}{prefix[:3]}.pdf" if present else None
    return {
        f"{prefix}_name": name,
        f"{prefix}_path": f"tender/user-files/{name}" if name else None,
        f"{prefix}_ext": ".PDF" if name else None,
        f"{prefix}_sizes": size if name else None,
        f"{prefix}_date": _date(lot.deal_time) if name else None,
    }


def _auction_active(lot: _Lot, facts: _Facts) -> dict[str, object]:
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


def _shop_active(lot: _Lot, facts: _Facts) -> dict[str, object]:
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


_Renderer = Callable[[_Lot, _Facts], dict[str, object]]
_ROW_RENDERERS: Mapping[tuple[LotType, LotStatus], _Renderer] = {
    ("auction", "completed"): _auction_completed,
    ("shop", "completed"): _shop_completed,
    ("national", "completed"): _shop_completed,
    ("etender", "completed"): _etender_completed,
    ("auction", "active"): _auction_active,
    ("shop", "active"): _shop_active,
    ("national", "active"): _shop_active,
}


# --- HTTP ------------------------------------------------------------------------------------


@dataclass(slots=True)
class UzexSimulator:
    """The catalogue plus upstream behaviours and request counts, shared by the routes."""

    catalogue: UzexCatalogue
    faults: UzexFaults = field(default_factory=UzexFaults)
    #: requests seen per host (after the delay, before any gate), for tests and benchmarks
    requests: Counter[str] = field(default_factory=Counter)

    def advance(self, ticks: int = 1) -> None:
        self.catalogue.advance(ticks)


UZEX_SIMULATOR = web.AppKey("uzex_simulator", UzexSimulator)

_Handler = Callable[[UzexSimulator, web.Request], Awaitable[web.Response]]


def _json(data: object, status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False)
    return web.Response(text=body, status=status, content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"status": status, "message": message}, status=status)


def _browser_like(user_agent: str | None) -> bool:
    """Upstream lets only full browser strings through; curl, python-requests and bots fail."""
    return user_agent is not None and user_agent.startswith("Mozilla/")


def _gated(host: Host, handler: _Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Apply the simulated upstream behaviours in the order the real hosts show them."""

    async def wrapped(request: web.Request) -> web.Response:
        sim = request.app[UZEX_SIMULATOR]
        faults = sim.faults
        if faults.delay_s > 0:
            await asyncio.sleep(faults.delay_s)
        sim.requests[host] += 1
        if host in faults.down_hosts:
            return _error(503, "Service Unavailable")
        if faults.require_browser_ua and not _browser_like(request.headers.get("User-Agent")):
            return _error(500, "Приложение : Missing User-Agent header")
        if host == "auction" and faults.auction_not_valid:
            return _error(500, "Приложение : Not Valid")
        return await handler(sim, request)

    return wrapped


class _BadRequest(Exception):
    pass


async def _window(request: web.Request) -> tuple[Mapping[str, object], int, int]:
    """The JSON body, and its from/to keys matched case-insensitively (From/To on e-tender)."""
    try:
        body = await request.json()
    except ValueError:
        raise _BadRequest("body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("body is not an object")
    folded = {str(k).lower(): v for k, v in body.items()}
    return folded, _integer(folded.get("from")), _integer(folded.get("to"))


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRequest("from/to must be integers")
    return value


def _shop_type(body: Mapping[str, object]) -> LotType:
    """The shop host's switches: display_on_national=1 (and not on shop) means national."""
    national = body.get("display_on_national") in (1, True) and body.get("display_on_shop") not in (
        1,
        True,
    )
    return "national" if national else "shop"


def _list(lot_type: LotType | None, status: LotStatus) -> _Handler:
    """A paged list; lot_type None means the shop host, which picks shop/national by body."""

    async def handler(sim: UzexSimulator, request: web.Request) -> web.Response:
        try:
            body, first, last = await _window(request)
        except _BadRequest as exc:
            return _error(400, str(exc))
        if sim.faults.empty_pages:
            return _json([])
        return _json(sim.catalogue.page(lot_type or _shop_type(body), status, first, last))

    return handler


def _detail(
    lot_types: Sequence[LotType], status: LotStatus, render: Callable[[UzexCatalogue, _Lot], object]
) -> _Handler:
    """One lot by id from the path; 404 for unknown and removed lots."""

    async def handler(sim: UzexSimulator, request: web.Request) -> web.Response:
        try:
            lot_id = int(request.match_info["lot_id"])
        except ValueError:
            return _error(400, "lot id must be an integer")
        for lot_type in lot_types:
            lot = sim.catalogue.find(lot_type, lot_id, status)
            if lot is not None and (lot_type, lot_id) in sim.faults.deep_nested_lots:
                deep = b"[" * DEEPNEST_LEVELS + b"]" * DEEPNEST_LEVELS
                return web.Response(body=deep, content_type="application/json")
            if lot is not None and (lot_type, lot_id) not in sim.faults.removed_lots:
                return _json(render(sim.catalogue, lot))
        return _error(404, "Not Found")

    return handler


def _reference(rows: tuple[tuple[int, str], ...]) -> _Handler:
    async def handler(sim: UzexSimulator, request: web.Request) -> web.Response:
        return _json([{"id": ref_id, "name": name} for ref_id, name in rows])

    return handler


def add_uzex_routes(app: web.Application, sim: UzexSimulator) -> None:
    """Mount every UZEX host under its prefix (see the module docstring) and store `sim`."""
    app[UZEX_SIMULATOR] = sim
    routes: list[tuple[str, Host, str, _Handler]] = [
        ("POST", "auction", "/auction/Common/GetCompletedDeals", _list("auction", "completed")),
        (
            "GET",
            "auction",
            "/auction/Common/GetCompletedDealProducts/{lot_id}",
            _detail(("auction",), "completed", UzexCatalogue.deal_products),
        ),
        ("POST", "auction", "/auction/Common/GetMinimizedLotsList", _list("auction", "active")),
        (
            "GET",
            "auction",
            "/auction/Common/GetLot/{lot_id}",
            _detail(("auction",), "active", UzexCatalogue.lot_detail),
        ),
        ("POST", "shop", "/shop/Common/GetCompletedDeals", _list(None, "completed")),
        ("POST", "shop", "/shop/Common/GetNotCompletedDeals", _list(None, "active")),
        (
            "GET",
            "shop",
            "/shop/Common/GetLot/{lot_id}",
            _detail(("shop", "national"), "active", UzexCatalogue.lot_detail),
        ),
        ("POST", "etender", "/etender/api/common/DealsList", _list("etender", "completed")),
        (
            "GET",
            "etender",
            "/etender/api/common/GetTrade/{lot_id}/0",
            _detail(("etender",), "completed", UzexCatalogue.trade),
        ),
        ("GET", "trade", "/trade/Lib/GetCategories", _reference(CATEGORIES)),
        ("GET", "trade", "/trade/Lib/GetRegions", _reference(REGIONS)),
    ]
    for method, host, path, handler in routes:
        app.router.add_route(method, path, _gated(host, handler))
