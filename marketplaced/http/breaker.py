"""The per-host circuit breaker: after consecutive failures requests wait (rather than fail)
for a cooldown, then one probe decides whether the host is back."""

from __future__ import annotations

import asyncio
from typing import Final, Literal

from marketplaced.http.policy import HostPolicy
from marketplaced.http.timing import Clock, Sleep

BreakerState = Literal["closed", "open", "half_open"]

#: A circuit that keeps failing its probe backs off to at most 10 minutes: a dead host is still
#: noticed when it comes back within one dashboard glance.
BREAKER_MAX_COOLDOWN_S: Final = 600.0


class Breaker:
    """Consecutive-failure circuit breaker that waits (rather than fails) while open."""

    def __init__(self, policy: HostPolicy, clock: Clock) -> None:
        self._clock = clock
        self.policy = policy
        self.state: BreakerState = "closed"
        self.failures = 0
        self.cooldown_s = policy.breaker_cooldown_s
        self.open_until = 0.0
        self._probe_done = asyncio.Event()

    async def enter(self, sleep: Sleep) -> bool:
        """Wait until a request may go; True if it is the single half-open probe."""
        while self.state != "closed":
            if self.state == "half_open":
                await self._probe_done.wait()
                continue
            wait = self.open_until - self._clock()
            if wait > 0:
                await sleep(wait)
                continue
            self.state = "half_open"
            self._probe_done = asyncio.Event()
            return True
        return False

    def succeeded(self) -> bool:
        """Record a success; True if that closed the circuit."""
        self.failures = 0
        if self.state == "closed":
            return False
        self.state = "closed"
        self.cooldown_s = self.policy.breaker_cooldown_s
        self._probe_done.set()
        return True

    def failed(self, is_probe: bool) -> bool:
        """Record a failure; True if that opened the circuit."""
        if is_probe and self.state == "half_open":
            self.cooldown_s = min(self.cooldown_s * 2, BREAKER_MAX_COOLDOWN_S)
            self._open()
            return True
        if self.state != "closed":
            return False  # a straggler sent before the circuit opened
        self.failures += 1
        if 0 < self.policy.breaker_failures <= self.failures:
            self._open()
            return True
        return False

    def abandoned(self, is_probe: bool) -> None:
        """The probe was cancelled without a verdict: let the next waiter probe at once."""
        if is_probe and self.state == "half_open":
            self.state = "open"
            self.open_until = self._clock()
            self._probe_done.set()

    def _open(self) -> None:
        self.state = "open"
        self.open_until = self._clock() + self.cooldown_s
        self._probe_done.set()
