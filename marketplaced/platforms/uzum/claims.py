"""Which due ids of the revisit schedule a scanner takes, when more is due than it can fetch.

A claim leases up to `n` due ids (`n` is what the daemon's request budget fetches in one claim
interval, see `adaptive`) with `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, the way
PostgreSQL job queues claim jobs, so daemons on one database never take the same id. The order
decides what a backlog delays, in three steps:

1. The frontier first, within a reserved share (`frontier_share` of the claim): due ids above the
   highest known product, most overdue first. New products appear there, and without a reserve
   they would wait behind any backlog of known ids; a share the frontier does not need goes to
   the rest of the claim.
2. Then ids that must not wait any longer: never visited, or last visited more than
   `GUARD_SHARE` of `max_age_s` ago — the maximum age holds however valuable the rest is.
3. Then by value, the changes a visit is expected to catch while they are still fresh:
   rate × min(time since the last visit, `fresh_within_s`). A change older than that is already
   late whichever visit finds it, so a long-unvisited quiet product does not outrank a busy one
   that is just due: this fills the budget with the busiest products at their due times first,
   and lets quiet ones wait (up to the guard) — the most changes seen in time per request.

Ranking needs every due row's value, so the sort covers the due rows (the backlog), found
through the `next_due` index.

4. When less is due than the claim could take, a continuous scan with a request budget fills
   the rest ahead of time (`ahead=True`, uzum.visit_ahead): the ids due soonest, skipping any
   checked less than `frontier_interval_s` ago (the shortest revisit the policy ever plans).
   The budget is a polite rate the daemon may use anyway; leaving it idle whenever the backlog
   is empty wasted most of it (a first pass over the catalogue puts every quiet product's next
   visit about `max_interval_s` later, and the scanner then idled at a tenth of its rate for
   hours). Running the schedule ahead in next-due order shortens every interval by the same
   factor — what the policy's own proportional rule would choose with a smaller
   `miss_probability` — so busy products still come back most often, it spreads a wave of
   ids that fall due together, and it reads only the next `n` rows of the `next_due` index
   (ranking every future row by value would sort the whole table on every claim).
"""

from __future__ import annotations

import math
from datetime import datetime

import asyncpg

from marketplaced.platforms.uzum.config import UzumConfig

#: an id last visited this share of the maximum age ago goes before any value ranking: the
#: remaining quarter is room to get it fetched even behind a long backlog
GUARD_SHARE = 0.75

_URGENT = "(checked_at IS NULL OR checked_at <= $1 - make_interval(secs => $6))"
_VALUE = "coalesce(rate_h * least(extract(epoch FROM $1 - checked_at), $7), 0)"

_LEASE = """
UPDATE uzum_schedule SET lease_until = $1 + make_interval(secs => $2)
WHERE product_id IN (
    SELECT product_id FROM uzum_schedule
    WHERE next_due <= $1 AND (lease_until IS NULL OR lease_until < $1)
      AND product_id BETWEEN $4 AND $5
    ORDER BY {order} LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING product_id, {returning}"""

# the frontier's ids, most overdue first
_FRONTIER = _LEASE.format(order="next_due", returning="next_due")

# ahead of time: the ids due soonest, not checked within the shortest planned revisit ($6)
_AHEAD = """
UPDATE uzum_schedule SET lease_until = $1 + make_interval(secs => $2)
WHERE product_id IN (
    SELECT product_id FROM uzum_schedule
    WHERE next_due > $1 AND (lease_until IS NULL OR lease_until < $1)
      AND product_id BETWEEN $4 AND $5
      AND (checked_at IS NULL OR checked_at <= $1 - make_interval(secs => $6))
    ORDER BY next_due LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING product_id, next_due"""

# RETURNING does not keep the subquery's order: the row's rank comes back and is sorted on
_BY_VALUE = _LEASE.format(
    order=f"{_URGENT} DESC, {_VALUE} DESC, next_due",
    returning=f"{_URGENT} AS urgent, {_VALUE} AS value, next_due",
)


async def claim(
    pool: asyncpg.Pool,
    cfg: UzumConfig,
    n: int,
    lease_s: float,
    now: datetime,
    *,
    highest: int,
    ahead: bool = False,
) -> list[int]:
    """Up to `n` due ids leased to the caller for `lease_s`, in the order above (the order
    they should be fetched in); `highest` is the highest id known to hold a product. With
    `ahead`, what the due ids leave of `n` is filled with ids due soonest (step 4)."""
    lo, hi = cfg.first_id, cfg.max_id
    ids: list[int] = []
    reserve = min(n, math.ceil(n * cfg.frontier_share))
    if reserve > 0 and highest < hi:
        rows = await pool.fetch(_FRONTIER, now, lease_s, reserve, max(lo, highest + 1), hi)
        ids = [r["product_id"] for r in sorted(rows, key=lambda r: r["next_due"])]
    if len(ids) < n:
        guard_s = GUARD_SHARE * cfg.max_age_s
        rows = await pool.fetch(
            _BY_VALUE, now, lease_s, n - len(ids), lo, hi, guard_s, cfg.fresh_within_s
        )
        ranked = sorted(rows, key=lambda r: (not r["urgent"], -r["value"], r["next_due"]))
        ids.extend(r["product_id"] for r in ranked)
    if ahead and len(ids) < n:
        rows = await pool.fetch(_AHEAD, now, lease_s, n - len(ids), lo, hi, cfg.frontier_interval_s)
        ids.extend(r["product_id"] for r in sorted(rows, key=lambda r: r["next_due"]))
    return ids
