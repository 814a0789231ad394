"""How busy each product of a realistic catalogue is, and when its numbers move.

A product's *profile* is drawn from ``(seed, id)`` alone: orders per day from a log-normal (a
long tail: most products sell nothing on a given day, a few sell hundreds), a repricing rate
that grows with the square root of sales (busy sellers tune prices, dormant cards keep theirs
for weeks), a stock-change rate that follows sales, and how often it is delisted. Each kind of
change is a seeded event ``Train``, so for any tick the number of changes so far — hence the
value shown, and the tick of the last change — is O(1), and the profile is cached per id.
Delisting: the k-th delisting starts at the delisting train's event k and lasts a log-uniform
number of hours; a delisting that starts while the previous one lasts replaces it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Final, NamedTuple

from marketplaced.simulator.rng import GOLDEN, mix64, stable_hash, unit
from marketplaced.simulator.uzum import salts
from marketplaced.simulator.uzum.events import Train
from marketplaced.simulator.uzum.lifecycle import Lifecycle
from marketplaced.simulator.uzum.realism import Realism

_NORMAL: Final = NormalDist()
#: keeps inv_cdf away from 0 and 1 (±7 sigma), where it is infinite
_EPS: Final = 1e-12
#: the repricing rate's spread among products of equal sales (sigma of its log)
_PRICE_JITTER_SIGMA: Final = 0.5
#: products of the initial catalogue have sold for 30 … 730 days at their rate before tick 0
_MIN_AGE_DAYS: Final = 30
_AGE_SPAN_DAYS: Final = 700
#: bounds the profiles kept: ≈ 200 B each, so ≈ 25 MB when full
_PROFILE_CACHE: Final = 131_072


class Profile(NamedTuple):
    """One product's activity: its rates and the trains of its changes."""

    id: int
    created: int
    orders_per_day: float
    base_orders: int
    orders: Train
    prices: Train
    stock: Train
    delistings: Train
    #: per-product draws the state needs (promotion levels, stock rhythm, delisting lengths)
    key: int


def _normal(h: int) -> float:
    return _NORMAL.inv_cdf(min(1 - _EPS, max(_EPS, unit(h))))


class Activity:
    """Profiles of a realistic catalogue's products, and whether one is listed at a tick."""

    def __init__(self, seed: int, realism: Realism, lifecycle: Lifecycle) -> None:
        self._r = realism
        self._lifecycle = lifecycle
        self._k_activity = stable_hash(seed, salts.ACTIVITY)
        self._k_orders = stable_hash(seed, salts.ORDER_EVENTS)
        self._k_prices = stable_hash(seed, salts.PRICE_EVENTS)
        self._k_stock = stable_hash(seed, salts.STOCK_EVENTS)
        self._k_delist = stable_hash(seed, salts.DELISTINGS)
        self._log_min = math.log(realism.delisted_min_hours * realism.ticks_per_hour)
        self._log_span = math.log(realism.delisted_max_hours / realism.delisted_min_hours)
        self.profile: Callable[[int], Profile | None] = functools.lru_cache(_PROFILE_CACHE)(
            self._build
        )

    def _build(self, pid: int) -> Profile | None:
        created = self._lifecycle.created(pid)
        if created is None:
            return None
        r = self._r
        h = mix64(self._k_activity + pid * GOLDEN)
        orders_pd = min(
            r.orders_max_per_day, r.orders_median_per_day * math.exp(r.orders_sigma * _normal(h))
        )
        price_pd = r.price_changes_floor_per_day + r.price_changes_per_sqrt_order * math.sqrt(
            orders_pd
        )
        price_pd = min(
            r.price_changes_max_per_day,
            price_pd * math.exp(_PRICE_JITTER_SIGMA * _normal(mix64(h + 1))),
        )
        stock_pd = r.stock_changes_floor_per_day + r.stock_changes_per_order * orders_pd
        age_days = _MIN_AGE_DAYS + unit(mix64(h + 2)) * _AGE_SPAN_DAYS if created == 0 else 0.0
        per_day = r.ticks_per_day
        origin = created + 1  # the tick a product appears shows its initial state
        return Profile(
            id=pid,
            created=created,
            orders_per_day=orders_pd,
            base_orders=int(orders_pd * age_days),
            orders=Train(origin, orders_pd / per_day, mix64(self._k_orders + pid * GOLDEN)),
            prices=Train(origin, price_pd / per_day, mix64(self._k_prices + pid * GOLDEN)),
            stock=Train(origin, stock_pd / per_day, mix64(self._k_stock + pid * GOLDEN)),
            delistings=Train(
                origin, r.delistings_per_day / per_day, mix64(self._k_delist + pid * GOLDEN)
            ),
            key=mix64(h + 3),
        )

    def delisted_ticks(self, p: Profile, k: int) -> int:
        """How long the product's k-th delisting lasts, in ticks (at least one)."""
        u = unit(mix64(p.key + k * GOLDEN))
        return max(1, int(math.exp(self._log_min + u * self._log_span)))

    def listed(self, p: Profile, tick: int) -> bool:
        """Whether the product answers at ``tick``: created, and not inside a delisting."""
        if tick < p.created:
            return False
        n = p.delistings.count(tick)
        if n == 0:
            return True
        return tick >= p.delistings.tick_of(n - 1) + self.delisted_ticks(p, n - 1)

    def presence_changes(self, p: Profile, start: int, end: int) -> list[tuple[int, bool]]:
        """(tick, listed from then on) for each tick in ``[start, end)`` where the product
        appears, disappears or comes back."""
        candidates = {p.created}
        for k in range(max(0, p.delistings.count(start - 1) - 1), p.delistings.count(end - 1)):
            begin = p.delistings.tick_of(k)
            candidates.update((begin, begin + self.delisted_ticks(p, k)))
        out = []
        for t in sorted(c for c in candidates if start <= c < end):
            now = self.listed(p, t)
            if now != self.listed(p, t - 1):
                out.append((t, now))
        return out
