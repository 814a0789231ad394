"""The knobs of the simulator's realistic dynamics (``--dynamics realistic``), validated once.

The default catalogue moves every product alike (all sell, all reprice on ≈ 10 % of hours), which
cannot tell a revisit schedule that chases activity from a round-robin one. ``Realism`` turns on
the skew a live marketplace has: a heavy-tailed activity per product, repricing and stock moves
that follow it, a catalogue that grows above its frontier, products that vanish for a while and
come back, and runs of ids that never hold a product. Its tick is one simulated minute, so
detection latencies can be measured in minutes. The defaults are the figures in the README.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Final, Literal, get_args

DynamicsName = Literal["uniform", "realistic"]
DYNAMICS: Final[tuple[DynamicsName, ...]] = get_args(DynamicsName)

#: one realistic tick is a simulated minute: the freshness targets are stated in minutes
MINUTE_MS: Final = 60_000


@dataclass(frozen=True, slots=True)
class Realism:
    """How skewed and how alive a realistic catalogue is (rates per simulated day or hour)."""

    #: orders/day are log-normal: median and sigma of the log. With 0.08 and 2.5 ≈ 16 % of
    #: products sell at least once a day, the median product sells once in 12 days, and the top
    #: 1 % sell ≈ 25+ a day (capped below), like a marketplace's long tail
    orders_median_per_day: float = 0.08
    orders_sigma: float = 2.5
    orders_max_per_day: float = 600.0
    #: repricing follows activity: floor + slope * sqrt(orders/day), jittered by a log-normal
    #: factor (sigma 0.5) and capped
    price_changes_floor_per_day: float = 1 / 30
    price_changes_per_sqrt_order: float = 0.5
    price_changes_max_per_day: float = 24.0
    #: stock moves with sales and with occasional restocks and corrections
    stock_changes_floor_per_day: float = 1 / 14
    stock_changes_per_order: float = 0.5
    #: ids allocated above the initial frontier per simulated hour (a share hit_rate become
    #: products; the rest are drafts that never answer, as upstream)
    new_ids_per_hour: float = 6.0
    #: each product is delisted this often on average, for between min and max hours (log-uniform)
    delistings_per_day: float = 1 / 60
    delisted_min_hours: float = 1.0
    delisted_max_hours: float = 72.0
    #: the initial id space is cut into blocks of dead_block_ids; this share of blocks never
    #: holds a product (ids skipped by the upstream's allocator)
    dead_share: float = 0.15
    dead_block_ids: int = 250
    #: simulated milliseconds per tick
    tick_ms: int = MINUTE_MS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"realism {f.name} must be a finite number ≥ 0, got {value!r}")
        if self.orders_median_per_day <= 0 or self.tick_ms < 1 or self.dead_block_ids < 1:
            raise ValueError(
                "realism orders_median_per_day, tick_ms and dead_block_ids must be above 0"
            )
        if not self.dead_share < 1:
            raise ValueError(f"realism dead_share must be below 1, got {self.dead_share}")
        if not 0 < self.delisted_min_hours <= self.delisted_max_hours:
            raise ValueError("realism needs 0 < delisted_min_hours <= delisted_max_hours")

    @property
    def ticks_per_hour(self) -> float:
        return 3_600_000 / self.tick_ms

    @property
    def ticks_per_day(self) -> float:
        return 86_400_000 / self.tick_ms
