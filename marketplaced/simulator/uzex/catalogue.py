"""The UZEX catalogue: every lot of every type, and simulated time that moves them.

``UzexCatalogue`` holds each lot's identity and timeline (the facts are drawn again from the seed
when needed, see ``lots``): at construction a history of completed deals and a full list of
active lots per type; ``advance()`` closes the oldest active lots as deals, opens new offers in
their place and adds brand-new deals, so a continuous scanner sees the lists move. It serves the
pages and detail bodies the routes answer with (rendered by ``payloads``) and, for tests, what a
complete scan should have stored (``oracle``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta

from marketplaced.platforms.uzex.records import LOT_TYPES, LotStatus, LotType
from marketplaced.simulator.clock import UZEX_EPOCH, UZEX_TICK
from marketplaced.simulator.uzex import payloads
from marketplaced.simulator.uzex.lots import Facts, Lot, draw_item, draw_parties
from marketplaced.simulator.uzex.oracle import (
    ExpectedItem,
    ExpectedLot,
    expected_item,
    expected_lot,
)
from marketplaced.simulator.uzex.vocabulary import CATEGORIES

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
_ACTIVE_TYPES: tuple[LotType, ...] = ("auction", "shop", "national")
#: bidding windows: auctions run a week, shop offers four days (as in the fixtures)
_DURATION: Mapping[LotType, timedelta] = {
    "auction": timedelta(days=7),
    "shop": timedelta(days=4),
    "national": timedelta(days=4),
    "etender": timedelta(days=14),
}


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
        self.now = UZEX_EPOCH
        self.deals_per_tick = deals_per_tick
        self.closes_per_tick = closes_per_tick
        self._rng = random.Random(f"{seed}/timeline")
        self._customers, self._providers = draw_parties(random.Random(f"{seed}/parties"))
        # only the auction capture shows providers without INN; shop and e-tender rows always
        # carry one (their sellers register with an INN or PINFL)
        self._registered = tuple(p for p in self._providers if p.inn is not None)
        self._next_lot = dict(_FIRST_LOT_ID)
        self._next_deal = dict(_FIRST_DEAL_ID)
        #: per type, oldest first (the upstream serves them newest first)
        self._completed: dict[LotType, list[Lot]] = {t: [] for t in LOT_TYPES}
        self._active: dict[LotType, list[Lot]] = {t: [] for t in LOT_TYPES}
        #: every lot by (type, id): detail endpoints must not scan lists of 10^5 lots
        self._index: dict[tuple[LotType, int], Lot] = {}
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

    def _new_lot(self, lot_type: LotType, start: datetime) -> Lot:
        lot_id = self._next_lot[lot_type]
        self._next_lot[lot_type] += 1
        lot = Lot(lot_type, lot_id, start, start + _DURATION[lot_type])
        self._index[(lot_type, lot_id)] = lot
        return lot

    def _strike(self, lot: Lot, when: datetime) -> None:
        lot.deal_id = self._next_deal[lot.lot_type]
        self._next_deal[lot.lot_type] += 1
        lot.deal_time = when
        lot.end = min(lot.end, when)  # a lot struck early stops bidding there
        self._completed[lot.lot_type].append(lot)

    def _backfill(self, lot_type: LotType, count: int) -> None:
        """History: `count` deals spaced 1–10 minutes apart, the newest just before UZEX_EPOCH."""
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
            before, self.now = self.now, self.now + UZEX_TICK
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
        step = UZEX_TICK / (len(closing) + len(new) + 1)
        for index, lot in enumerate([*closing, *new], 1):
            if index <= len(closing):
                self._open(lot_type, self.now)  # a new offer replaces it: the list stays full
            self._strike(lot, (before + step * index).replace(microsecond=0))

    # --- derived facts ----------------------------------------------------------------------

    def _facts(self, lot: Lot) -> Facts:
        rng = random.Random(f"{self.seed}/{lot.lot_type}/{lot.lot_id}")
        is_budget = rng.random() < 0.5
        customer = rng.choice(self._customers)
        n_items = 1 if lot.lot_type in ("shop", "national") else rng.randint(1, 6)
        return Facts(
            category=rng.choice(CATEGORIES),
            customer=customer,
            provider=rng.choice(self._providers if lot.lot_type == "auction" else self._registered),
            is_budget=is_budget,
            participants=rng.randint(1, 30),
            paid=is_budget or rng.random() < 0.5,
            items=tuple(draw_item(rng, lot.lot_type, line) for line in range(1, n_items + 1)),
        )

    def _lots(self, lot_type: LotType, status: LotStatus) -> list[Lot]:
        return (self._completed if status == "completed" else self._active)[lot_type]

    def find(self, lot_type: LotType, lot_id: int, status: LotStatus) -> Lot | None:
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
        render = payloads.ROW_RENDERERS[(lot_type, status)]
        rows = []
        for rn in range(first, min(last, total) + 1):
            lot = lots[total - rn]
            row = render(lot, self._facts(lot))
            row["rn"] = rn
            row["total_count"] = total
            rows.append(row)
        random.Random(f"{self.seed}/page/{lot_type}/{status}/{first}/{last}/{total}").shuffle(rows)
        return rows

    def deal_products(self, lot: Lot) -> list[dict[str, object]]:
        """GetCompletedDealProducts: every item of a completed auction, in upstream's disorder."""
        facts = self._facts(lot)
        rows = [payloads.product_row(item, completed=True) for item in facts.items]
        random.Random(f"{self.seed}/products/{lot.lot_id}").shuffle(rows)
        return rows

    def lot_detail(self, lot: Lot) -> dict[str, object]:
        """GetLot: an active lot with its items."""
        return payloads.lot_detail(lot, self._facts(lot))

    def trade(self, lot: Lot) -> dict[str, object]:
        """GetTrade: a completed e-tender trade with its budget products."""
        return payloads.trade(lot, self._facts(lot))

    # --- what a scanner should end up with --------------------------------------------------

    def expected_lots(self, lot_type: LotType) -> dict[int, ExpectedLot]:
        """Every lot of a type as it stands now (a closed lot appears once, as completed)."""
        expected = {}
        for status in ("active", "completed"):
            for lot in self._lots(lot_type, status):
                expected[lot.lot_id] = expected_lot(lot, self._facts(lot), status)
        return expected

    def expected_items(self, lot_type: LotType) -> dict[tuple[int, int], ExpectedItem]:
        """Items keyed by (lot id, line no), priced as the lot's current status shows them."""
        expected = {}
        for status in ("active", "completed"):
            completed = status == "completed"
            for lot in self._lots(lot_type, status):
                for item in self._facts(lot).items:
                    expected[(lot.lot_id, item.line_no)] = expected_item(lot, item, completed)
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
