"""Uzum sellers: who sells each product, each seller's seeded facts, and the shop body.

Products are spread over ``n_ids // 50`` sellers with Zipf-distributed sizes (a few big shops,
a long tail), decided per product id by a hash so any id's seller is known alone. A seller's
facts are drawn from ``(seed, index)``; its review and order counters grow with ticks. A link
ends in the seller's index, so ``by_link`` needs no lookup table.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from marketplaced.simulator.clock import UZUM_EPOCH_MS
from marketplaced.simulator.rng import GOLDEN, between, mix64, pick, stable_hash, unit
from marketplaced.simulator.uzum import salts
from marketplaced.simulator.uzum.templates import SELLER_TEMPLATE, enc, json_bool
from marketplaced.simulator.uzum.vocabulary import (
    SELLER_DESCRIPTIONS,
    SELLER_NAMES,
    SELLER_SUFFIXES,
)

#: generated seller ids start near the real ones (45 582, 74 885 in the fixtures)
_SELLER_ID_BASE: Final = 40_000
_SELLER_ACCOUNT_BASE: Final = 12_000_000
#: Zipf exponent of seller sizes: the biggest seller of 60 k holds ≈ 1 % of all products
_SELLER_ZIPF: Final = 0.7


@dataclass(frozen=True, slots=True)
class Seller:
    """A seller's static facts; its review and order counters grow with ticks."""

    index: int
    id: int
    title: str
    link: str
    description: str
    registration_ms: int
    rating: float
    reviews: int
    orders: int
    orders_per_tick: float
    official: bool
    account_id: int

    def counters(self, tick: int) -> tuple[int, int]:
        """(reviews, orders) after ``tick`` ticks."""
        orders = self.orders + int(self.orders_per_tick * tick)
        return self.reviews + (orders - self.orders) // 20, orders

    def json(self, tick: int, total_products: int = 0) -> str:
        """The seller object as JSON: embedded in a product (totalProducts 0) or /api/shop."""
        reviews, orders = self.counters(tick)
        return SELLER_TEMPLATE % {
            "id": self.id,
            "title": enc(self.title),
            "link": enc(self.link),
            "description": enc(self.description),
            "registration": self.registration_ms,
            "rating": self.rating,
            "reviews": reviews,
            "orders": orders,
            "official": json_bool(self.official),
            "total": total_products,
            "account": self.account_id,
        }


class Sellers:
    """The catalogue's sellers: which one sells a product, and each one's facts (cached)."""

    def __init__(self, seed: int, n_ids: int, exists: Callable[[int], bool]) -> None:
        self.seed = seed
        self.n_ids = n_ids
        self._exists = exists
        self._key = stable_hash(seed, salts.SELLER)
        self.count = max(5, n_ids // 50)  # ≈ 35 products per seller at a 70 % hit rate
        weights = (1.0 / (i + 1) ** _SELLER_ZIPF for i in range(self.count))
        self._cum = list(itertools.accumulate(weights))
        self._product_counts: list[int] | None = None
        # sellers are few and small: cache (nearly) all of them
        self.get: Callable[[int], Seller] = functools.lru_cache(65_536)(self._build)

    def index_of(self, product_id: int) -> int:
        """The index of the seller of ``product_id`` (whether or not the id holds a product)."""
        u = unit(mix64(self._key + product_id * GOLDEN)) * self._cum[-1]
        return min(bisect.bisect_right(self._cum, u), self.count - 1)

    def _build(self, index: int) -> Seller:
        rng = random.Random(stable_hash(self.seed, salts.SELLER_STATIC, index))
        name = pick(rng, SELLER_NAMES) + pick(rng, SELLER_SUFFIXES)
        slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())
        orders = int(math.exp(rng.uniform(2.0, 11.0)))  # tens to tens of thousands
        return Seller(
            index=index,
            id=_SELLER_ID_BASE + index,
            title=name,
            link=f"{slug}{index}",  # the index suffix keeps links unique and reversible
            description=pick(rng, SELLER_DESCRIPTIONS),
            # registered between 2021-01-01 and the simulation epoch
            registration_ms=rng.randrange(1_609_459_200_000, UZUM_EPOCH_MS),
            rating=round(rng.uniform(4.0, 5.0), 1),
            reviews=orders // between(rng, 3, 30),
            orders=orders,
            orders_per_tick=orders / rng.uniform(2_000, 20_000),
            official=rng.random() < 0.05,
            account_id=_SELLER_ACCOUNT_BASE + index,
        )

    def by_link(self, link: str) -> Seller | None:
        digits = len(link) - len(link.rstrip("0123456789"))
        if digits == 0 or digits == len(link):
            return None
        index = int(link[-digits:])
        if index >= self.count:
            return None
        seller = self.get(index)
        return seller if seller.link == link else None

    def product_count(self, index: int) -> int:
        """Exact number of products of a seller (one pass over all ids on first use)."""
        if self._product_counts is None:
            counts = [0] * self.count
            for pid in range(1, self.n_ids + 1):
                if self._exists(pid):
                    counts[self.index_of(pid)] += 1
            self._product_counts = counts
        return self._product_counts[index]

    def shop_bytes(self, link: str, tick: int) -> bytes | None:
        """``GET /api/shop/{link}`` body: the seller object with its real totalProducts."""
        seller = self.by_link(link)
        if seller is None:
            return None
        total = self.product_count(seller.index)
        return ('{"payload":' + seller.json(tick, total) + "}").encode()
