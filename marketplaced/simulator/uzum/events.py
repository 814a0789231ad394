"""A seeded event train: the k-th event's tick, and how many fell by a tick, both in O(1).

The realistic dynamics need "when did this product's price last change before tick t" without
replaying the ticks before t. A Poisson process cannot answer that in O(1), so each kind of
change is a *jittered periodic* train instead: event k falls at ``origin + ⌊(k + j_k) / rate⌋``
with ``j_k`` a hash of (key, k) in [0, 1). Gaps average ``1 / rate`` and range over (0, 2 / rate),
the order of events never inverts, and because event k always lies in
``[origin + k / rate, origin + (k + 1) / rate)`` the count at any tick is found from a
one-line estimate corrected by at most two steps.
"""

from __future__ import annotations

from typing import NamedTuple

from marketplaced.simulator.rng import GOLDEN, mix64, unit


class Train(NamedTuple):
    """Events at ticks ≥ ``origin``, ``rate`` per tick on average (0: never)."""

    origin: int
    rate: float
    key: int

    def tick_of(self, k: int) -> int:
        """The tick of event ``k`` (k ≥ 0); several events may share a tick."""
        return self.origin + int((k + unit(mix64(self.key + k * GOLDEN))) / self.rate)

    def count(self, tick: int) -> int:
        """How many events fell at or before ``tick``: the state index at that tick."""
        if self.rate <= 0.0 or tick < self.origin:
            return 0
        # events 0 … ⌊x⌋-1 lie before tick + 1 by construction; correct the float estimate
        k = max(0, int(self.rate * (tick - self.origin + 1)) - 1)
        while k > 0 and self.tick_of(k - 1) > tick:
            k -= 1
        while self.tick_of(k) <= tick:
            k += 1
        return k

    def last(self, tick: int) -> int | None:
        """The tick of the latest event at or before ``tick`` (None before the first)."""
        n = self.count(tick)
        return self.tick_of(n - 1) if n else None

    def ticks(self, start: int, end: int) -> list[int]:
        """The distinct ticks in ``[start, end)`` on which at least one event fell."""
        out: list[int] = []
        for k in range(self.count(start - 1), self.count(end - 1)):
            t = self.tick_of(k)
            if not out or out[-1] != t:
                out.append(t)
        return out
