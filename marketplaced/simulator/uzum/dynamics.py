"""How an Uzum product moves with simulated time: orders, reviews, rating, prices, stock.

A tick is one simulated hour (``clock``). Orders grow at the product's own rate and reviews
follow them; the rating re-jitters once a day; each product is repriced at a hashed offset inside
every block of ticks; each SKU sells down from its capacity and restocks on its own period. All
of it is a function of ``(seed, product, tick)``, so any tick can be computed without the ones
before it, and time only moves forward in what a scanner can observe.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, NamedTuple

from marketplaced.simulator.clock import DAY_MS, TASHKENT, UZUM_EPOCH_MS, UZUM_TICK_MS
from marketplaced.simulator.rng import GOLDEN, mix64, stable_hash
from marketplaced.simulator.uzum import salts
from marketplaced.simulator.uzum.formats import nice_price
from marketplaced.simulator.uzum.products import StaticProduct
from marketplaced.simulator.uzum.templates import enc
from marketplaced.simulator.uzum.vocabulary import UZ_MONTHS

#: one repricing event per block of 8 ticks; a redraw keeps the old multiplier 1 time in ~6, so a
#: given SKU's price moves on ≈ 10 % of ticks
PRICE_BLOCK_TICKS: Final = 8
#: ratings re-jitter once per simulated day: they drift, they do not flicker
RATING_BLOCK_TICKS: Final = 24
#: 1.0 twice as likely: a redraw often returns to the list price
_PRICE_MULTIPLIERS: Final = (1.0, 1.0, 0.85, 0.9, 0.95, 1.05, 1.1, 1.15)


class State(NamedTuple):
    """The tick-dependent numbers of one product."""

    orders: int
    reviews: int
    rating: float
    prices: list[tuple[int, int]]  # (purchase, full) per SKU
    stock: list[int]


def delivery(now_ms: int, days: int) -> tuple[int, str]:
    """(deliveryDate ms, deliveryTitle as a JSON literal) for an order placed at ``now_ms``."""
    at_ms = now_ms + days * DAY_MS
    day = datetime.fromtimestamp(at_ms // 1000, UTC) + TASHKENT
    return at_ms, enc(f"{day.day}-{UZ_MONTHS[day.month - 1]} orasida yetkazamiz")


class Dynamics:
    """The tick-dependent side of one seeded catalogue."""

    def __init__(self, seed: int, tick_ms: int = UZUM_TICK_MS) -> None:
        self._tick_ms = tick_ms
        self._k_price = stable_hash(seed, salts.PRICE)
        self._k_rating = stable_hash(seed, salts.RATING)
        self._k_time = stable_hash(seed, salts.TIME)

    def price_multiplier(self, pid: int, tick: int) -> float:
        """The product's price factor at ``tick``: one redraw per block, at a hashed offset."""
        base = mix64(self._k_price + pid * GOLDEN)
        block = tick // PRICE_BLOCK_TICKS
        h = mix64(base + block * GOLDEN)
        if tick % PRICE_BLOCK_TICKS < h % PRICE_BLOCK_TICKS:  # this block's redraw is not due
            if block == 0:
                return 1.0
            h = mix64(base + (block - 1) * GOLDEN)
        return _PRICE_MULTIPLIERS[(h >> 8) % len(_PRICE_MULTIPLIERS)]

    def state(self, p: StaticProduct, tick: int) -> State:
        orders = p.base_orders + int(p.orders_per_tick * tick + p.orders_phase)
        reviews = p.base_reviews + int((orders - p.base_orders) * p.reviews_per_order)
        if reviews == 0:
            rating = 0.0
        else:
            h = mix64(self._k_rating + p.id * GOLDEN + tick // RATING_BLOCK_TICKS)
            rating = min(5.0, max(1.0, round(p.base_rating + 0.1 * (h % 3 - 1), 1)))
        mult = self.price_multiplier(p.id, tick)
        prices = []
        stock = []
        for s in p.skus:
            purchase = s.purchase if mult == 1.0 else nice_price(s.purchase * mult, p.ends_in_990)
            prices.append((purchase, max(s.full, purchase)))
            sold = int(s.sales_per_tick * ((tick + s.restock_phase) % s.restock_period))
            stock.append(max(0, s.capacity - sold))
        return State(orders, reviews, rating, prices, stock)

    def now_ms(self, pid: int, tick: int) -> int:
        # spread products over the tick so their timestamps differ
        spread = mix64(self._k_time + pid * GOLDEN) % self._tick_ms
        return UZUM_EPOCH_MS + tick * self._tick_ms + spread

    def timestamp(self, product_id: int, tick: int) -> str:
        """The envelope's ``timestamp``: Tashkent local time with nanoseconds, no zone."""
        ms = self.now_ms(product_id, tick)
        moment = datetime.fromtimestamp(ms // 1000, UTC) + TASHKENT
        nanos = (ms % 1000) * 1_000_000 + mix64(product_id + tick) % 1_000_000
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}"
