"""The ground truth of a realistic catalogue: what a perfect observer would have seen, and when.

A freshness benchmark needs, for any id and tick, whether the id answers with a product, when
the product was created, when its price, stock or orders last changed and every change inside
a window, and whether it is an *active* product (≥ 1 order a day). All of it comes from the same
per-id profiles the served bodies are rendered from (``activity``), so the truth and the bodies
cannot disagree, and every query is O(1) (O(changes) for a window) after a cached per-id draw.
Ticks are the catalogue's ticks: simulated minutes by default (``ticks_per_hour``).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from marketplaced.simulator.uzum.activity import Activity, Profile
from marketplaced.simulator.uzum.events import Train
from marketplaced.simulator.uzum.lifecycle import Lifecycle

ChangeKind = Literal["price", "stock", "orders"]
CHANGE_KINDS: Final[tuple[ChangeKind, ...]] = get_args(ChangeKind)
ActivityClass = Literal["active", "quiet"]
#: the activity boundary the freshness targets are stated for
ACTIVE_ORDERS_PER_DAY: Final = 1.0


class GroundTruth:
    """Queries about a realistic catalogue's ids over simulated time (see the module docstring)."""

    def __init__(self, lifecycle: Lifecycle, activity: Activity, ticks_per_hour: float) -> None:
        self._lifecycle = lifecycle
        self._activity = activity
        self.ticks_per_hour = ticks_per_hour

    def _profile(self, pid: int) -> Profile | None:
        return self._activity.profile(pid)

    def _train(self, pid: int, kind: ChangeKind) -> Train | None:
        p = self._profile(pid)
        if p is None:
            return None
        if kind == "price":
            return p.prices
        if kind == "stock":
            return p.stock
        if kind == "orders":
            return p.orders
        raise ValueError(f"unknown change kind {kind!r} (known: {', '.join(CHANGE_KINDS)})")

    # ---- existence ---------------------------------------------------------------------------

    def exists(self, pid: int, tick: int) -> bool:
        """Whether ``pid`` answers with a product at ``tick``."""
        p = self._profile(pid)
        return p is not None and self._activity.listed(p, tick)

    def created(self, pid: int) -> int | None:
        """The tick ``pid``'s product appeared: 0 for the initial catalogue, None if never."""
        return self._lifecycle.created(pid)

    def dead(self, pid: int) -> bool:
        """Whether ``pid`` lies in a range of ids that never holds a product."""
        return self._lifecycle.dead(pid)

    def frontier(self, tick: int) -> int:
        """The highest id allocated by ``tick`` (new products appear just below it)."""
        return self._lifecycle.frontier(tick)

    def presence_changes(self, pid: int, start: int, end: int) -> list[tuple[int, bool]]:
        """(tick, answers from then on) for each appearance, delisting and relisting of ``pid``
        at a tick in ``[start, end)``."""
        p = self._profile(pid)
        return [] if p is None else self._activity.presence_changes(p, start, end)

    # ---- changes -----------------------------------------------------------------------------

    def last_change(self, pid: int, kind: ChangeKind, tick: int) -> int | None:
        """The latest tick ≤ ``tick`` on which ``kind`` changed (None: unchanged since the
        product appeared, or no product)."""
        train = self._train(pid, kind)
        return None if train is None else train.last(tick)

    def change_ticks(self, pid: int, kind: ChangeKind, start: int, end: int) -> list[int]:
        """Every tick in ``[start, end)`` on which ``kind`` changed, ascending. A change while
        the product is delisted is listed too: it shows once the product answers again."""
        train = self._train(pid, kind)
        return [] if train is None else train.ticks(start, end)

    def change_rate(self, pid: int, kind: ChangeKind) -> float:
        """The mean number of ``kind`` changes per tick (0.0 if the id never holds a product):
        what a revisit policy with perfect knowledge would rank products by."""
        train = self._train(pid, kind)
        return 0.0 if train is None else train.rate

    # ---- activity ----------------------------------------------------------------------------

    def orders_per_day(self, pid: int) -> float:
        """The product's mean orders per simulated day (0.0 if the id never holds one)."""
        p = self._profile(pid)
        return 0.0 if p is None else p.orders_per_day

    def activity_class(self, pid: int) -> ActivityClass:
        """``active`` for products selling ≥ 1 a day on average, ``quiet`` for the rest."""
        return "active" if self.orders_per_day(pid) >= ACTIVE_ORDERS_PER_DAY else "quiet"
