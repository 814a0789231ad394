"""Which ids of a realistic catalogue ever hold a product, and from which tick.

Three facts, each a pure function of ``(seed, id)``: the initial id space 1..n_ids is cut into
blocks and a share of blocks is *dead* (never holds a product, as the ids an upstream's
allocator skipped); above the initial frontier ids are *allocated* one after another by a seeded
event train at ``new_ids_per_hour``, so the catalogue grows over simulated time; and an allocated
or initial id holds a product when the catalogue's existence hash says so (the same hash the
default catalogue uses, so a realistic catalogue's initial products are a subset of the default
one's). Whether a product is listed at a given tick (delistings) is ``activity``'s business.
"""

from __future__ import annotations

from collections.abc import Callable

from marketplaced.simulator.rng import GOLDEN, mix64, stable_hash, unit
from marketplaced.simulator.uzum import salts
from marketplaced.simulator.uzum.events import Train
from marketplaced.simulator.uzum.realism import Realism


class Lifecycle:
    """Dead ranges, catalogue growth and each id's creation tick."""

    def __init__(
        self, seed: int, n_ids: int, realism: Realism, hashed_hit: Callable[[int], bool]
    ) -> None:
        self.n_ids = n_ids
        self._realism = realism
        self._hit = hashed_hit
        self._k_dead = stable_hash(seed, salts.DEAD_RANGE)
        # new ids start one tick after the start: tick 0 is the initial catalogue
        self.growth = Train(
            1, realism.new_ids_per_hour / realism.ticks_per_hour, stable_hash(seed, salts.GROWTH)
        )

    def dead(self, pid: int) -> bool:
        """Whether ``pid`` lies in a dead range of the initial id space."""
        if not 1 <= pid <= self.n_ids:
            return False
        block = (pid - 1) // self._realism.dead_block_ids
        return unit(mix64(self._k_dead + block * GOLDEN)) < self._realism.dead_share

    def initial(self, pid: int) -> bool:
        """Whether ``pid`` holds a product in the catalogue at tick 0."""
        return 1 <= pid <= self.n_ids and not self.dead(pid) and self._hit(pid)

    def created(self, pid: int) -> int | None:
        """The tick ``pid``'s product appears (0: initial catalogue; None: never)."""
        if pid <= self.n_ids:
            return 0 if self.initial(pid) else None
        if self.growth.rate <= 0.0 or not self._hit(pid):
            return None
        return self.growth.tick_of(pid - self.n_ids - 1)

    def frontier(self, tick: int) -> int:
        """The highest id allocated by ``tick`` (whether or not it holds a product)."""
        return self.n_ids + self.growth.count(tick)
