"""The [uzum] keys of the adaptive revisit schedule (`uzum.mode = "adaptive"`), in a module of
their own so the main config module stays small; `UzumConfig` inherits them, and
marketplaced.platforms.uzum.schedule explains the policy they drive."""

from __future__ import annotations

from dataclasses import dataclass

from marketplaced.config_loader import option


# not slotted: a class can have only one base with slots, and UzumConfig's other base
# (the rate-control options every platform shares) has them
@dataclass(frozen=True)
class AdaptiveOptions:
    mode: str = option(
        "roundrobin",
        "roundrobin: cycles over ids 1..frontier; adaptive: revisit each id when it is due",
        choices=("roundrobin", "adaptive"),
    )
    miss_probability: float = option(
        0.1,
        "adaptive: target chance that a product changes between two visits",
        lo=0.001,
        hi=0.99,
    )
    min_interval_s: float = option(
        3600.0, "adaptive: shortest revisit interval of a product", lo=1, hi=10**7
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
    lease_s: float = option(
        600.0, "adaptive: how long claimed ids stay reserved for one daemon", lo=1, hi=86400
    )
    claim_interval_s: float = option(
        10.0, "adaptive: seconds of work (at rps) claimed at once", lo=0.1, hi=3600
    )
    claim_max: int = option(
        5000, "adaptive: most ids claimed at once (also when rps is unlimited)", lo=1, hi=10**6
    )
