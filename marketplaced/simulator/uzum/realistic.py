"""The realistic dynamics: a product's orders, prices and stock at a tick, from its profile.

Every value is the image of a change *count* (``activity``): orders are the initial orders plus
the order events so far; the price alternates between the list price (even price states) and a
seeded promotion or markup (odd states), so every price event changes at least one SKU's price;
stock walks down one SKU at a time from a restock level and is refilled every few stock events,
so every stock event changes at least one SKU's stock. Reviews follow orders and the rating holds
still, so besides what moves with the clock in every body (the envelope's timestamp, delivery
dates, the seller's counters, hourly) a body changes only on the ground truth's price, stock and
order changes.
"""

from __future__ import annotations

from typing import Final

from marketplaced.simulator.rng import GOLDEN, mix64
from marketplaced.simulator.uzum.activity import Activity, Profile
from marketplaced.simulator.uzum.dynamics import Dynamics, State
from marketplaced.simulator.uzum.formats import nice_price
from marketplaced.simulator.uzum.products import StaticProduct

#: promotion and markup levels of an odd price state: at least 10 % off the list price, so one
#: shelf-price step of rounding cannot hide the move (a price clamped at a bound moves the
#: other way instead)
_PROMOTIONS: Final = (0.8, 0.85, 0.9, 0.9, 1.1, 1.15, 1.2)
#: stock events per restock cycle: MIN + key % SPAN
_RESTOCK_MIN: Final = 4
_RESTOCK_SPAN: Final = 12
#: units one stock event takes off its SKU: 1 … 3
_UNITS_SPAN: Final = 3


class RealisticDynamics(Dynamics):
    """``Dynamics`` with heavy-tailed, event-driven orders, prices and stock."""

    def __init__(self, seed: int, activity: Activity, tick_ms: int) -> None:
        super().__init__(seed, tick_ms)
        self._activity = activity

    def state(self, p: StaticProduct, tick: int) -> State:
        prof = self._activity.profile(p.id)
        if prof is None:
            raise ValueError(f"product {p.id} has no realistic profile (it never exists)")
        orders = prof.base_orders + prof.orders.count(tick)
        reviews = int(orders * p.reviews_per_order)
        rating = p.base_rating if reviews else 0.0
        return State(
            orders, reviews, rating, self._prices(p, prof, tick), self._stock(p, prof, tick)
        )

    @staticmethod
    def _prices(p: StaticProduct, prof: Profile, tick: int) -> list[tuple[int, int]]:
        n = prof.prices.count(tick)
        if n % 2 == 0:
            return [(s.purchase, max(s.full, s.purchase)) for s in p.skus]
        level = _PROMOTIONS[mix64(prof.key + n * GOLDEN) % len(_PROMOTIONS)]
        out = []
        for s in p.skus:
            purchase = nice_price(s.purchase * level, p.ends_in_990)
            if purchase == s.purchase:  # held at MIN_PRICE or MAX_PRICE: move the other way
                purchase = nice_price(s.purchase * (2 - level), p.ends_in_990)
            out.append((purchase, max(s.full, purchase)))
        return out

    @staticmethod
    def _stock(p: StaticProduct, prof: Profile, tick: int) -> list[int]:
        cycle = _RESTOCK_MIN + prof.key % _RESTOCK_SPAN
        # sales since the last restock: sale q (0-based) takes units off SKU q % len(skus)
        sales = prof.stock.count(tick) % cycle
        n = len(p.skus)
        out = []
        for j, s in enumerate(p.skus):
            units = 1 + mix64(prof.key + (j + 1) * GOLDEN) % _UNITS_SPAN
            full = max(s.capacity, units * cycle + 1)  # never sells out inside a cycle
            sold = (sales - 1 - j) // n + 1 if sales > j else 0
            out.append(full - units * sold)
        return out
