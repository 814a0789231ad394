"""How politely one upstream host is treated (`HostPolicy`), and how one platform reaches one
host (`Route`: its policy and the headers its requests carry)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from marketplaced.errors import ConfigError
from marketplaced.ratecontrol import RateRule


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """How politely one upstream host is treated. Defaults suit UZEX; Uzum gets its own."""

    #: requests per second; 0 = unlimited (local simulator). 2 rps is UZEX's polite default.
    rps: float = 2.0
    #: simultaneous requests; a little above rps x typical latency so slow answers don't starve.
    concurrency: int = 4
    #: whole-exchange timeout; long enough for a 100-row UZEX page, short enough that a hung
    #: connection does not hold a concurrency slot for minutes.
    timeout_s: float = 20.0
    #: retries after the first attempt: 5 attempts ride out a short blip without hiding an outage.
    max_retries: int = 4
    #: full-jitter exponential backoff: 0.5 s, 1 s, 2 s, … spreads retries of a burst apart.
    backoff_base_s: float = 0.5
    #: never wait longer than this between two attempts of one request.
    backoff_max_s: float = 30.0
    #: consecutive failed attempts that open the circuit (0 = no breaker); 10 is far above the
    #: noise of a healthy host yet stops a dead one after a few seconds of scanning.
    breaker_failures: int = 10
    #: first open period; doubles on every failed probe up to BREAKER_MAX_COOLDOWN_S.
    breaker_cooldown_s: float = 30.0
    #: rate floor: never slower than one request per 5 s, so recovery is still observed.
    min_rps: float = 0.2
    #: the 429 share is judged over windows this long; the rate changes at most once per window.
    #: 10 s holds ~1,000 answers at Uzum's 100 rps (a share is exact) and 20 at UZEX's 2 rps.
    rate_window_s: float = 10.0
    #: cut the rate when more than this percentage of a window's answers are 429: well above
    #: the few percent of random 429s a busy API sends, well below what a real limit sends
    #: (a client at twice the allowed rate sees 50 %).
    rate_limited_pct: float = 10.0
    #: after a window below the threshold the rate is multiplied by this: a host that calmed
    #: down is back at its configured rate within minutes (x1.5 per window: x500 in 2.5 min)
    rate_recover_factor: float = 1.5

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    def problems(self) -> list[str]:
        """Say what is wrong with these values, one message per bad field."""
        checks = [
            ("rps", self.rps >= 0, ">= 0 (0 = unlimited)"),
            ("concurrency", self.concurrency >= 1, ">= 1"),
            ("timeout_s", self.timeout_s > 0, "> 0"),
            ("max_retries", self.max_retries >= 0, ">= 0"),
            ("backoff_base_s", self.backoff_base_s >= 0, ">= 0"),
            ("backoff_max_s", self.backoff_max_s >= self.backoff_base_s, ">= backoff_base_s"),
            ("breaker_failures", self.breaker_failures >= 0, ">= 0 (0 = no breaker)"),
            ("breaker_cooldown_s", self.breaker_cooldown_s > 0, "> 0"),
            ("min_rps", self.min_rps > 0, "> 0"),
            ("rate_window_s", self.rate_window_s > 0, "> 0"),
            ("rate_limited_pct", 0 <= self.rate_limited_pct < 100, "in [0, 100)"),
            ("rate_recover_factor", self.rate_recover_factor > 1, "> 1"),
        ]
        return [
            f"{name} must be {rule}, got {getattr(self, name)!r}"
            for name, ok, rule in checks
            if not ok
        ]

    def rate_rule(self) -> RateRule:
        return RateRule(
            target=self.rps,
            floor=self.min_rps,
            window_s=self.rate_window_s,
            limited_share=self.rate_limited_pct / 100,
            recover_factor=self.rate_recover_factor,
        )


@dataclass(frozen=True, slots=True)
class Route:
    """How one platform reaches one host: how politely, and the headers its requests carry.

    Headers belong to the route, not to the fetcher's session, so one platform's User-Agent,
    Origin or Referer never rides along on another platform's requests.
    """

    policy: HostPolicy
    headers: Mapping[str, str] = field(default_factory=dict)


#: platform name → host key (``host:port`` or bare ``host``) → its route
Routes = Mapping[str, Mapping[str, Route]]
