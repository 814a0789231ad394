"""[uzum]: the Uzum platform's configuration section, declared by the platform itself.

`platforms.load_config` reads it with the core sections (`Config.section(UzumConfig)` returns
it); the adaptive revisit schedule's keys are a base class of their own, and
marketplaced.platforms.uzum.schedule explains the policy they drive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from marketplaced.config import BROWSER_USER_AGENT, RateControlOptions
from marketplaced.config_loader import option


# not slotted: a class can have only one base with slots, and UzumConfig's other base
# (the rate-control options every platform shares) has them
@dataclass(frozen=True)
class AdaptiveOptions:
    mode: str = option(
        "adaptive",
        "roundrobin: cycles over ids 1..frontier; adaptive: revisit each id when it is due",
        choices=("roundrobin", "adaptive"),
    )
    miss_probability: float = option(
        0.1,
        "adaptive: target chance that a product changes between two visits",
        lo=0.001,
        hi=0.99,
    )
    # 55 min, not an hour: a check every 60 min plus claim and commit lag would see a change
    # just after the hour it is meant to be seen within (`fresh_within_s`); not 50 either,
    # which spent a sixth more visits on the busiest products for the same changes in time
    min_interval_s: float = option(
        3300.0, "adaptive: shortest revisit interval of a product", lo=1, hi=10**7
    )
    max_interval_s: float = option(
        604800.0, "adaptive: longest revisit interval of a product", lo=1, hi=10**8
    )
    miss_interval_s: float = option(
        86400.0,
        "adaptive: re-check of an id without a product; doubles per consecutive miss",
        lo=1,
        hi=10**8,
    )
    max_age_s: float = option(
        2592000.0, "adaptive: no id waits longer than this for its next visit", lo=1, hi=10**9
    )
    change_memory: float = option(
        0.8, "adaptive: weight of the past in a product's change rate, per visit", lo=0, hi=0.999
    )
    frontier_window: int = option(
        2000, "adaptive: ids above the highest known product probed continuously", lo=1, hi=10**7
    )
    frontier_interval_s: float = option(
        300.0, "adaptive: how often each id of the frontier window is probed", lo=1, hi=86400
    )
    frontier_share: float = option(
        0.1,
        "adaptive: share of each claim reserved for the frontier (unused: goes to the rest)",
        lo=0,
        hi=1,
    )
    fresh_within_s: float = option(
        3600.0,
        "adaptive: a change seen later than this is late; a backlog is ranked by the changes "
        "a visit catches within it",
        lo=1,
        hi=10**7,
    )
    order_age_s: float = option(
        31536000.0,
        "adaptive: a product's order counter is taken as this long's sales, for its change rate "
        "before its visits tell",
        lo=1,
        hi=10**10,
    )
    level_from: float = option(
        0.5,
        "adaptive: share of max_age_s after which an id may be checked early, at a steady "
        "rate, so that ids reaching the maximum age together do not crowd out busy products "
        "(0: off)",
        lo=0,
        hi=0.9,
    )
    visit_ahead: bool = option(
        True,
        "adaptive: when less is due than rps allows, visit ahead of time the ids of highest "
        "change rate not checked within min_interval_s",
    )
    lease_s: float = option(
        600.0, "adaptive: how long claimed ids stay reserved for one daemon", lo=1, hi=86400
    )
    claim_interval_s: float = option(
        10.0, "adaptive: seconds of work (at rps) claimed at once", lo=0.1, hi=3600
    )
    claim_max: int = option(
        5000, "adaptive: most ids claimed at once (also when rps is unlimited)", lo=1, hi=10**6
    )


@dataclass(frozen=True, slots=True)
class UzumConfig(RateControlOptions, AdaptiveOptions):
    """[uzum]: the product scanner, its host and, in adaptive mode, the revisit schedule."""

    SECTION: ClassVar[str] = "uzum"
    #: what SIGHUP applies live and what waits for a restart (marketplaced.reloadable): a
    #: running scanner is handed the new section, so almost everything is live; its name, the
    #: stall limit the supervisor was given and the fetcher's default headers are not, and
    #: switching mode needs a new scanner object
    RESTART_KEYS: ClassVar[frozenset[str]] = frozenset({"max_stale_s", "user_agent", "mode"})

    enabled: bool = option(True, "run the Uzum product scanner")
    base_url: str = option(
        "https://api.uzum.uz",
        "API origin (env UZUM_BASE_URL)",
        pattern=r"^https?://[^\s/]+(/.*)?$",
        env="UZUM_BASE_URL",
    )
    rps: float = option(
        100.0,
        "requests per second to the API, 0 = unlimited (env RPS_LIMIT)",
        lo=0,
        hi=100_000,
        env="RPS_LIMIT",
    )
    concurrency: int = option(
        50,
        "requests in flight at most (env DOWNLOAD_CONCURRENCY)",
        lo=1,
        hi=5000,
        env="DOWNLOAD_CONCURRENCY",
    )
    timeout_s: float = option(20.0, "per-request timeout", lo=0.1, hi=600)
    max_retries: int = option(4, "retries for timeouts, resets, 5xx, 429", lo=0, hi=50)
    breaker_failures: int = option(
        10, "consecutive failures that pause the host (0: never)", lo=0, hi=10_000
    )
    breaker_cooldown_s: float = option(
        30.0, "first pause of a tripped host; doubles per failed probe", lo=0.1, hi=3600
    )
    first_id: int = option(1, "lowest product id scanned", lo=1, hi=10**12)
    max_id: int = option(5_000_000, "frontier cap: ids above it are never probed", lo=1, hi=10**12)
    frontier_misses: int = option(
        5000, "consecutive misses above the highest id seen that end a cycle", lo=1, hi=10**7
    )
    shard: str = option(
        "1/1", "k/n: this instance scans ids with id % n == k-1", pattern=r"^\d+/\d+$"
    )
    cycle_pause_s: float = option(60.0, "pause between full cycles", lo=0, hi=86400)
    checkpoint_every: int = option(500, "ids between durable cursor moves", lo=1, hi=1_000_000)
    max_stale_s: float = option(
        300.0, "restart a scanner whose progress stalls this long", lo=5, hi=86400
    )
    dead_letter_retry_s: float = option(
        3600.0, "retry dead-lettered ids this often", lo=10, hi=10**7
    )
    user_agent: str = option(BROWSER_USER_AGENT, "User-Agent sent upstream")

    def shard_parts(self) -> tuple[int, int]:
        k, n = (int(x) for x in self.shard.split("/"))
        return k, n

    def problems(self) -> list[str]:
        """Rules across its fields (each field checks its own range)."""
        problems = []
        k, n = self.shard_parts()
        if not 1 <= k <= n:
            problems.append(f"'uzum.shard' = '{self.shard}': expected k/n with 1 <= k <= n")
        if self.first_id > self.max_id:
            problems.append("'uzum.first_id' must not exceed 'uzum.max_id'")
        if self.min_interval_s > self.max_interval_s:
            problems.append("'uzum.min_interval_s' must not exceed 'uzum.max_interval_s'")
        return problems
