"""Simulated time: each simulated upstream's epoch and tick, and the zone both report in.

Time in the simulators is a tick count, never the wall clock, so a body is a pure function of
(seed, id, tick) and a test can say exactly what a scanner should have seen. Both upstreams write
Asia/Tashkent wall-clock time without a zone. The two time bases differ on purpose: an Uzum
product's orders and stock move by the hour, a UZEX deal list by the minute, and each epoch sits
next to the fixtures its payloads were modelled on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

#: the upstreams' clock is Asia/Tashkent (UTC+5) and their timestamps carry no zone
TASHKENT: Final = timedelta(hours=5)
DAY_MS: Final = 86_400_000

#: Uzum's simulated time starts when the fixtures were recorded (2025-12-05T00:00:00Z)
UZUM_EPOCH_MS: Final = 1_764_892_800_000
#: one Uzum tick is one simulated hour: orders and stock move at that granularity
UZUM_TICK_MS: Final = 3_600_000

#: UZEX's simulated "now" at tick 0, Asia/Tashkent local time like every upstream date
UZEX_EPOCH: Final = datetime(2025, 12, 4, 12, 0, 0)
#: one UZEX tick of simulated time
UZEX_TICK: Final = timedelta(minutes=10)
