"""Everything the fetcher keeps for one upstream authority: its policy, breaker, limits, rate
controller and counters."""

from __future__ import annotations

import aiohttp

from marketplaced.http.breaker import Breaker
from marketplaced.http.limits import Slots, TokenBucket
from marketplaced.http.policy import HostPolicy
from marketplaced.http.stats import Counters, HostStats
from marketplaced.http.timing import Clock
from marketplaced.ratecontrol import Change, ControllerFactory


class Host:
    """Everything the fetcher keeps for one upstream authority."""

    def __init__(
        self, key: str, policy: HostPolicy, clock: Clock, controller: ControllerFactory
    ) -> None:
        self.key = key
        self.policy = policy
        self.timeout = aiohttp.ClientTimeout(total=policy.timeout_s)
        self.bucket = TokenBucket(policy.rps, clock)
        self.slots = Slots(policy.concurrency)
        self.breaker = Breaker(policy, clock)
        self.counters = Counters()
        self.queued = 0
        self._clock = clock
        self.controller = controller(policy.rate_rule(), clock())

    def apply(self, policy: HostPolicy) -> None:
        old, self.policy = self.policy, policy
        self.timeout = aiohttp.ClientTimeout(total=policy.timeout_s)
        self.slots.resize(policy.concurrency)
        self.breaker.policy = policy
        self.controller.retarget(policy.rate_rule(), self._clock())
        if policy.rps != old.rps:  # a new configured rate replaces any lowered one
            self.bucket.set_rate(policy.rps)

    def observe_answer(self, now: float, *, limited: bool) -> Change | None:
        """Feed one HTTP answer to the rate controller; apply a changed rate to the bucket."""
        change = self.controller.observe(now, limited=limited)
        if change is not None:
            self.bucket.set_rate(self.controller.rate)
        return change

    def snapshot(self, now: float) -> HostStats:
        c = self.counters
        return HostStats(
            host=self.key,
            requests=c.requests,
            outcomes=dict(c.outcomes),
            retries=c.retries,
            bytes_received=c.bytes_received,
            latency_sum_s=c.latency_sum_s,
            latency_count=c.latency_count,
            latency_buckets=c.cumulative_buckets(),
            rate_current=self.bucket.rate,
            rate_configured=self.policy.rps,
            concurrency=self.slots.limit,
            in_flight=self.slots.in_use,
            queued=self.queued,
            breaker_state=self.breaker.state,
            circuit_opens=c.circuit_opens,
            paused_for_s=max(0.0, self.bucket.paused_until - now),
        )
