"""The per-host limits a request passes before it goes out: a token bucket (rate and
Retry-After pause) and a concurrency limit, both resizable live. How the rate itself follows the
host's 429s is `marketplaced.ratecontrol`."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from marketplaced.http.timing import Clock, Sleep

#: The head waiter of a token bucket re-reads rate and pause at least this often, so a live
#: rate change (SIGHUP) takes effect within a quarter second even at a very low rate.
TOKEN_WAIT_SLICE_S: Final = 0.25


class TokenBucket:
    """Rate limit plus Retry-After pause. Taking an available token never awaits; waiters queue
    FIFO behind one lock so only the head sleeps (no thundering herd at thousands of req/s)."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self._clock = clock
        self._lock = asyncio.Lock()
        self.rate = rate
        self.burst = max(1.0, rate)  # ≈ one second of requests, and at least one
        self.tokens = 1.0  # start nearly empty: no burst against a host right after start-up
        self.updated = clock()
        self.paused_until = 0.0

    def set_rate(self, rate: float) -> None:
        self._refill(self._clock())
        self.rate = rate
        self.burst = max(1.0, rate)
        self.tokens = min(self.tokens, self.burst)

    def _refill(self, now: float) -> None:
        if self.rate > 0:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def _take_or_wait_s(self, now: float) -> float:
        """Take a token and return 0, or return how long to wait before asking again."""
        if self.paused_until > now:
            return self.paused_until - now
        if self.rate <= 0:
            return 0.0
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def take(self, sleep: Sleep) -> None:
        if not self._lock.locked() and self._take_or_wait_s(self._clock()) == 0.0:
            return
        async with self._lock:
            while (wait := self._take_or_wait_s(self._clock())) > 0:
                await sleep(min(wait, TOKEN_WAIT_SLICE_S))


class Slots:
    """A concurrency limit that can be resized while requests are in flight (SIGHUP)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.in_use < self.limit and not self._waiters:
            self.in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted just before the cancellation landed: hand it on
            raise

    def release(self) -> None:
        self.in_use -= 1
        self._wake()

    def resize(self, limit: int) -> None:
        self.limit = limit
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_use < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():  # cancelled waiters are skipped
                waiter.set_result(None)
                self.in_use += 1
