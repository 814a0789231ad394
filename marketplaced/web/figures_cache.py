"""Figures read from PostgreSQL that many requests share for a while: the revisit schedule's
(the status page and /metrics) and the word statistics of product search.

The schedule's figures are one aggregate over every row of `uzum_schedule` (1.5–2.5 s per
million ids on a busy machine, see platforms/uzum/schedule_figures.py). Prometheus scrapes
/metrics every 15 s and an operator reloads the status page; reading them for each request made
both pages take seconds and kept a core busy with the same scan. A read is kept for `ttl_s` and
answers every request in that time, from either page, which says how old its figures are. A
request after that gets the last read at once and starts the next one in the background (one
at a time), so no scrape waits for the scan; only the first request, and one after a long quiet
spell (a read older than `max_stale_s` is not shown), waits for a read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import asyncpg
from aiohttp import web

from marketplaced import log
from marketplaced.db import UNAVAILABLE_ERRORS
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
_log = log.get(__name__)
#: what a background read may fail with: the server gone or hung, or the statement refused
_UNREADABLE: tuple[type[BaseException], ...] = (*UNAVAILABLE_ERRORS, asyncpg.PostgresError)

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
    """One value read by `read`, fresh for `ttl_s`, then shown while its successor is read up
    to `max_stale_s`; `clock` is monotonic seconds (tests inject theirs). The background read
    is this object's task: `close` (the app's cleanup) cancels it."""

    def __init__(
        self,
        read: Callable[[], Awaitable[T]],
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_stale_s: float | None = None,
    ) -> None:
        self._read = read
        self._ttl_s = ttl_s
        self._max_stale_s = 10 * ttl_s if max_stale_s is None else max_stale_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last: tuple[T, float] | None = None  # the value, read at (clock)
        self._task: asyncio.Task[None] | None = None

    async def get(self) -> Aged[T]:
        """The value, read now or up to `ttl_s` ago (`max_stale_s` while the next read runs).
        A failed read raises when nothing shown can stand in for it; a failed background read
        is logged and the next request starts another."""
        last = self._last
        if last is not None:
            age = self._clock() - last[1]
            if age >= self._ttl_s and (self._task is None or self._task.done()):
                self._task = asyncio.create_task(self._refresh())
            if age < self._max_stale_s:
                return Aged(last[0], age)
        async with self._lock:
            last = self._last
            if last is None or self._clock() - last[1] >= self._max_stale_s:
                last = await self._read_now()
        return Aged(last[0], self._clock() - last[1])

    async def _read_now(self) -> tuple[T, float]:
        value = await self._read()
        self._last = (value, self._clock())
        return self._last

    async def _refresh(self) -> None:
        # no request waits for this read, so it gets a bound of its own: a hung server must not
        # hold the lock (and the next read) for good
        try:
            async with asyncio.timeout(self._ttl_s), self._lock:
                last = self._last
                if last is None or self._clock() - last[1] >= self._ttl_s:
                    await self._read_now()
        except _UNREADABLE as exc:
            # the shown value stays; the next request past the TTL starts another read
            _log.warning("figures_refresh_failed", error=str(exc) or type(exc).__name__)

    async def settled(self) -> None:
        """Wait for a background read under way (tests, and `close`)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


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
