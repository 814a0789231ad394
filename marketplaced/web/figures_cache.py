"""Figures read from PostgreSQL that many requests share for a while: the revisit schedule's
(the status page and /metrics) and the word statistics of product search.

The schedule's figures are one aggregate over every row of `uzum_schedule` (1.5–2.5 s per
million ids on a busy machine, see platforms/uzum/schedule_figures.py). Prometheus scrapes
/metrics every 15 s and an operator reloads the status page; reading them for each request made
both pages take seconds and kept a core busy with the same scan. A read is kept for `ttl_s` and
answers every request in that time, from either page, which says how old its figures are. Only
one read runs at a time: while it runs, requests that have an older read get that one at once
instead of queueing behind it (a page answers in milliseconds and says its figures are older);
only the very first requests wait for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import asyncpg
from aiohttp import web

from marketplaced.platforms.uzum import schedule_figures
from marketplaced.platforms.uzum.schedule_figures import ScheduleFigures
from marketplaced.web import search
from marketplaced.web.search import WordShares

__all__ = [
    "FIGURES",
    "FIGURES_TTL_S",
    "WORD_SHARES",
    "WORD_SHARES_TTL_S",
    "Aged",
    "Cached",
    "schedule_cache",
    "word_shares_cache",
]

T = TypeVar("T")

#: a read answers for this long: two Prometheus scrapes (15 s apart) share one, and a status
#: page is at most half a minute behind the schedule, which changes by a few ids a second
FIGURES_TTL_S = 30.0
#: the word statistics change when products are analyzed (autovacuum, after a tenth of the
#: table changed): rereading them every 10 minutes is plenty
WORD_SHARES_TTL_S = 600.0


@dataclass(frozen=True, slots=True)
class Aged(Generic[T]):
    value: T
    age_s: float  # how long ago it was read


class Cached(Generic[T]):
    """One value read by `read` and kept `ttl_s`; `clock` is monotonic seconds (tests inject
    theirs)."""

    def __init__(
        self,
        read: Callable[[], Awaitable[T]],
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last: tuple[T, float] | None = None  # the value, read at (clock)

    async def get(self) -> Aged[T]:
        """The value, read now or up to `ttl_s` ago. A failed read raises (the callers say the
        value is unavailable) and leaves the previous read in place for the next one."""
        last = self._last
        if last is not None and (self._clock() - last[1] < self._ttl_s or self._lock.locked()):
            return Aged(last[0], self._clock() - last[1])
        async with self._lock:
            last = self._last
            if last is None or self._clock() - last[1] >= self._ttl_s:
                value = await self._read()
                last = self._last = (value, self._clock())
        return Aged(last[0], self._clock() - last[1])


def schedule_cache(
    pool: asyncpg.Pool, clock: Callable[[], float] = time.monotonic
) -> Cached[ScheduleFigures]:
    async def read() -> ScheduleFigures:
        return await schedule_figures.read(pool, datetime.now(UTC))

    return Cached(read, FIGURES_TTL_S, clock)


def word_shares_cache(
    pool: asyncpg.Pool, clock: Callable[[], float] = time.monotonic
) -> Cached[WordShares | None]:
    async def read() -> WordShares | None:
        return await search.word_shares(pool)

    return Cached(read, WORD_SHARES_TTL_S, clock)


FIGURES: web.AppKey[Cached[ScheduleFigures]] = web.AppKey("schedule_figures")
WORD_SHARES: web.AppKey[Cached[WordShares | None]] = web.AppKey("word_shares")
