"""The revisit schedule's figures as last read, shared by the status page and /metrics.

The figures are one aggregate over every row of `uzum_schedule` (1.5–2.5 s per million ids on a
busy machine, see platforms/uzum/schedule_figures.py). Prometheus scrapes /metrics every 15 s
and an operator reloads the status page; reading them for each request made both pages take
seconds and kept a core busy with the same scan. A read is kept for `ttl_s` and answers every
request in that time, from either page, which says how old its figures are. Only one read runs
at a time: while it runs, requests that have an older read get that one at once instead of
queueing behind it (a page answers in milliseconds and says its figures are older); only the
very first requests wait for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from marketplaced.platforms.uzum import schedule_figures
from marketplaced.platforms.uzum.schedule_figures import ScheduleFigures

__all__ = ["FIGURES", "FIGURES_TTL_S", "AgedFigures", "FiguresCache"]

#: a read answers for this long: two Prometheus scrapes (15 s apart) share one, and a status
#: page is at most half a minute behind the schedule, which changes by a few ids a second
FIGURES_TTL_S = 30.0


@dataclass(frozen=True, slots=True)
class AgedFigures:
    figures: ScheduleFigures
    age_s: float  # how long ago they were read


class FiguresCache:
    """One app's schedule figures; `clock` is monotonic seconds (injected by tests)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        ttl_s: float = FIGURES_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last: tuple[ScheduleFigures, float] | None = None  # figures, read at (clock)

    async def get(self) -> AgedFigures:
        """The figures, read now or up to `ttl_s` ago. A failed read raises (the callers say
        the figures are unavailable) and leaves the previous read in place for the next one."""
        last = self._last
        if last is not None and (self._clock() - last[1] < self._ttl_s or self._lock.locked()):
            return AgedFigures(last[0], self._clock() - last[1])
        async with self._lock:
            last = self._last
            if last is None or self._clock() - last[1] >= self._ttl_s:
                figures = await schedule_figures.read(self._pool, datetime.now(UTC))
                last = self._last = (figures, self._clock())
        return AgedFigures(last[0], self._clock() - last[1])


FIGURES: web.AppKey[FiguresCache] = web.AppKey("schedule_figures", FiguresCache)
