"""What the fetcher counts per host, O(1) per attempt, and the snapshot the dashboard and
Prometheus read (`HostStats`)."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from marketplaced.errors import FetchError
from marketplaced.http.breaker import BreakerState

#: Every outcome an attempt is counted under (keys of ``HostStats.outcomes``).
OUTCOMES: Final = (
    "ok",
    "not_found",
    "http_4xx",
    "http_5xx",
    "http_other",
    "rate_limited",
    "timeout",
    "transport",
    "block_page",
    "invalid_json",
    "blocked_by_upstream",
)
#: Prometheus' default histogram buckets (seconds): they span LAN simulator to slow upstream.
LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class HostStats:
    """A snapshot of one host's counters and limiter state (for the dashboard and metrics)."""

    host: str
    #: HTTP exchanges attempted (retries included)
    requests: int
    #: attempts by outcome (see OUTCOMES)
    outcomes: Mapping[str, int]
    retries: int
    bytes_received: int
    latency_sum_s: float
    latency_count: int
    #: cumulative Prometheus buckets: (le, count), the last one with le = +inf
    latency_buckets: tuple[tuple[float, int], ...]
    rate_current: float
    rate_configured: float
    concurrency: int
    in_flight: int
    #: requests waiting for the breaker, a token or a slot
    queued: int
    breaker_state: BreakerState
    circuit_opens: int
    #: seconds left of a Retry-After pause (0 when not paused)
    paused_for_s: float


def outcome_of(error: FetchError) -> str:
    """The stats outcome of an error returned by a ``classify`` callback."""
    if error.kind in OUTCOMES:
        return error.kind
    if error.status is not None and error.status >= 500:
        return "http_5xx"
    return "http_4xx"


class Counters:
    """Per-host counters: fixed size, O(1) per attempt."""

    __slots__ = (
        "buckets",
        "bytes_received",
        "circuit_opens",
        "latency_count",
        "latency_sum_s",
        "outcomes",
        "requests",
        "retries",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.retries = 0
        self.bytes_received = 0
        self.latency_sum_s = 0.0
        self.latency_count = 0
        self.circuit_opens = 0
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.buckets = [0] * (len(LATENCY_BUCKETS_S) + 1)

    def observe(self, elapsed_s: float, size: int) -> None:
        self.bytes_received += size
        self.latency_sum_s += elapsed_s
        self.latency_count += 1
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS_S, elapsed_s)] += 1

    def cumulative_buckets(self) -> tuple[tuple[float, int], ...]:
        total = 0
        out = []
        for bound, count in zip((*LATENCY_BUCKETS_S, float("inf")), self.buckets, strict=True):
            total += count
            out.append((bound, total))
        return tuple(out)
