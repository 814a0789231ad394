"""Which product ids a Uzum configuration can reach, and warnings for one that reaches none.

The scanner visits the ids of its shard from `first_id` up to a frontier it discovers: before
any product was seen that frontier is `first_id - 1 + frontier_misses`, and it never passes
`max_id`. A valid configuration can still leave that window without a single id of the shard
(a shard `n` wider than the window, or a window above `max_id`); the scan would then "finish"
every cycle without a request. These are warnings, not errors: such a setting may be meant as a
temporary pause of one host, but nobody should meet it silently.

In adaptive mode none of this applies: the scanner has no shard and no cycle window (every id
from `first_id` up to the frontier window gets a next visit, up to `max_id`), so the only thing
worth saying is that a configured shard is ignored — an operator who split hosts by shard would
otherwise believe each host scans a part when all of them share the whole schedule.
"""

from __future__ import annotations

from marketplaced.platforms.uzum.config import UzumConfig


def first_shard_id(first_id: int, shard: tuple[int, int]) -> int:
    """The first id >= first_id that belongs to shard k/n (id % n == k - 1)."""
    k, n = shard
    return first_id + (k - 1 - first_id) % n


def initial_frontier(cfg: UzumConfig) -> int:
    """The frontier before any product was seen: `frontier_misses` ids from `first_id` on."""
    return min(cfg.max_id, cfg.first_id - 1 + cfg.frontier_misses)


def scan_warnings(cfg: UzumConfig, shard: tuple[int, int]) -> list[str]:
    """Why this configuration scans nothing at all (empty when it scans something)."""
    if not cfg.enabled:
        return []
    k, n = shard
    if cfg.mode == "adaptive":
        if n == 1:
            return []
        return [
            f"uzum: shard {k}/{n} is ignored in adaptive mode: daemons sharing a database "
            'split the due ids by their leases; set uzum.mode = "roundrobin" to scan by shard'
        ]
    first = first_shard_id(cfg.first_id, shard)
    if first > cfg.max_id:
        return [
            f"uzum: no id of shard {k}/{n} lies between first_id {cfg.first_id} and max_id "
            f"{cfg.max_id}: nothing will be scanned"
        ]
    if first > initial_frontier(cfg):
        return [
            f"uzum: the first cycle probes ids {cfg.first_id}..{initial_frontier(cfg)} "
            f"(first_id plus frontier_misses {cfg.frontier_misses}), which hold no id of shard "
            f"{k}/{n}: nothing will be scanned; raise uzum.frontier_misses above {n}"
        ]
    return []
