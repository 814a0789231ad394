"""Which due ids of the revisit schedule a scanner takes, when more is due than it can fetch.

A claim leases up to `n` due ids (`n` is what the daemon's request budget fetches in one claim
interval, see `adaptive`) with `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, the way
PostgreSQL job queues claim jobs, so daemons on one database never take the same id. The order
decides what a backlog delays, in three steps:

1. The frontier first, within a reserved share (`frontier_share` of the claim): due ids above the
   highest known product, most overdue first. New products appear there, and without a reserve
   they would wait behind any backlog of known ids; a share the frontier does not need goes to
   the rest of the claim.
1b. Then, within a share of the claim sized by the load ahead (`level_rate`), the ids checked
   longest ago, if checked more than `level_from` × `max_age_s` ago. Every id must be visited
   within the maximum age, and ids visited together (a first pass over the id space, a
   backlog) reach it together: left to step 2 they arrive as one crowd that takes the whole
   budget for hours while busy products wait. Taken oldest first at the steadiest rate that
   still visits each before its guard — the fluid "earliest deadline first" rate, the most ids
   due by any horizon divided by that horizon — the same visits are spread over the time
   before they are due; with ids of every age evenly spread this rate is the one the maximum
   age costs anyway, so nothing is visited more often than it must be. Daemons sharing the
   schedule each reserve the rate against their own `rps`, so several take it faster
   than needed: the ids are then checked somewhat younger, never younger than `level_from`.
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
   the rest ahead of time (`ahead=True`, uzum.visit_ahead), by the same value: the products of
   highest change rate, skipping any checked less than `min_interval_s` ago (the shortest
   revisit planned for a product: a visit sooner catches changes the planned one would still
   catch in time). Ids whose last visit found no product (the frontier's among them) keep to
   their own back-off: the rate stored for them is only what their wait implies, and visiting
   them early mostly finds nothing again. The budget is a polite rate the daemon may use
   anyway, and what the planned visits leave of it is best spent where the changes are: a
   visit to a product not checked within `fresh_within_s` catches rate × `fresh_within_s`
   changes in time, so the most valuable spare visits go to the highest rates — the fractional
   knapsack's greedy, which brings the busiest products back about every `min_interval_s`
   whatever their planned interval, as far as the budget reaches. Spent in next-due order
   instead, it shortened every interval by the same factor, and most of it went to quiet
   products that change about once a week. Ranking by rate alone is exact among rows checked
   at least `fresh_within_s` ago and lets the claim walk the `rate_h` index (sql/027) from the
   top, reading about `n` rows plus the busy ones just checked, instead of sorting the table.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import asyncpg

from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.schedule import GUARD_SHARE

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

# the ids checked longest ago, checked at least $6 seconds ago, due or not (sql/036's index)
_OLDEST = """
UPDATE uzum_schedule SET lease_until = $1::timestamptz + make_interval(secs => $2)
WHERE product_id IN (
    SELECT product_id FROM uzum_schedule
    WHERE checked_at <= $1::timestamptz - make_interval(secs => $6)
      AND (lease_until IS NULL OR lease_until < $1)
      AND product_id BETWEEN $4 AND $5
    ORDER BY checked_at LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING product_id, checked_at"""

#: buckets the ages between `level_from` and the guard are counted in (`load_ahead`)
LEVEL_BUCKETS = 48

# how many ids reach their guard in each bucket of time ahead: bucket b holds the ids whose
# guard falls between b and b + 1 bucket widths from now ($1: now - guard, $2: the width)
_LOAD_AHEAD = """
SELECT floor(extract(epoch FROM checked_at - $1::timestamptz) / $2::float8)::int AS bucket,
    count(*) AS n
FROM uzum_schedule
WHERE checked_at > $1 AND checked_at <= $3::timestamptz
GROUP BY 1"""

# ahead of time: the products of highest rate not checked within the shortest planned product
# revisit ($6); the value ($7: fresh_within_s) orders what comes back
_AHEAD_SQL = """
UPDATE uzum_schedule SET lease_until = $1 + make_interval(secs => $2)
WHERE product_id IN (
    SELECT product_id FROM uzum_schedule
    WHERE next_due > $1 AND (lease_until IS NULL OR lease_until < $1)
      AND product_id BETWEEN $4 AND $5
      AND checked_at <= $1 - make_interval(secs => $6) AND misses = 0
    ORDER BY rate_h DESC, next_due LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING product_id, {value} AS value, next_due"""
_AHEAD = _AHEAD_SQL.format(value=_VALUE)

# RETURNING does not keep the subquery's order: the row's rank comes back and is sorted on
_BY_VALUE = _LEASE.format(
    order=f"{_URGENT} DESC, {_VALUE} DESC, next_due",
    returning=f"{_URGENT} AS urgent, {_VALUE} AS value, next_due",
)


def level_rate(counts: dict[int, int], width_s: float) -> float:
    """The steadiest visit rate (ids per second) that reaches every id before its guard, from
    `counts` (bucket → ids whose guard is between bucket and bucket + 1 widths from now): the
    most ids due by the end of any bucket, over the time to that end."""
    rate, due = 0.0, 0
    for bucket in sorted(counts):
        if bucket < 0:
            continue
        due += counts[bucket]
        rate = max(rate, due / ((bucket + 1) * width_s))
    return rate


def level_width_s(cfg: UzumConfig) -> float:
    """The width of a `load_ahead` bucket (seconds; 0 when leveling is off)."""
    if cfg.level_from <= 0:
        return 0.0
    return max(0.0, (GUARD_SHARE - cfg.level_from) * cfg.max_age_s / LEVEL_BUCKETS)


async def load_ahead(pool: asyncpg.Pool, cfg: UzumConfig, now: datetime) -> float:
    """The leveling rate now (`level_rate`, ids per second; 0 when off): one count over the
    ids checked between the guard and `level_from` of the maximum age ago."""
    width = level_width_s(cfg)
    if width <= 0:
        return 0.0
    guard = now - timedelta(seconds=GUARD_SHARE * cfg.max_age_s)
    cut = now - timedelta(seconds=cfg.level_from * cfg.max_age_s)
    rows = await pool.fetch(_LOAD_AHEAD, guard, width, cut)
    return level_rate({r["bucket"]: r["n"] for r in rows}, width)


async def claim(
    pool: asyncpg.Pool,
    cfg: UzumConfig,
    n: int,
    lease_s: float,
    now: datetime,
    *,
    highest: int,
    ahead: bool = False,
    oldest: int = 0,
) -> list[int]:
    """Up to `n` due ids leased to the caller for `lease_s`, in the order above (the order
    they should be fetched in); `highest` is the highest id known to hold a product. `oldest`
    of them (at most) go to the ids checked longest ago (step 1b). With `ahead`, what the due
    ids leave of `n` is filled with the ids of highest rate (step 4)."""
    lo, hi = cfg.first_id, cfg.max_id
    ids: list[int] = []
    reserve = min(n, math.ceil(n * cfg.frontier_share))
    if reserve > 0 and highest < hi:
        rows = await pool.fetch(_FRONTIER, now, lease_s, reserve, max(lo, highest + 1), hi)
        ids = [r["product_id"] for r in sorted(rows, key=lambda r: r["next_due"])]
    oldest = min(oldest, n - len(ids))
    if oldest > 0 and cfg.level_from > 0:
        top = min(hi, highest)
        old_s = cfg.level_from * cfg.max_age_s
        rows = await pool.fetch(_OLDEST, now, lease_s, oldest, lo, top, old_s)
        ids.extend(r["product_id"] for r in sorted(rows, key=lambda r: r["checked_at"]))
    if len(ids) < n:
        guard_s = GUARD_SHARE * cfg.max_age_s
        rows = await pool.fetch(
            _BY_VALUE, now, lease_s, n - len(ids), lo, hi, guard_s, cfg.fresh_within_s
        )
        ranked = sorted(rows, key=lambda r: (not r["urgent"], -r["value"], r["next_due"]))
        ids.extend(r["product_id"] for r in ranked)
    if ahead and len(ids) < n:
        rows = await pool.fetch(
            _AHEAD, now, lease_s, n - len(ids), lo, hi, cfg.min_interval_s, cfg.fresh_within_s
        )
        ranked = sorted(rows, key=lambda r: (-r["value"], r["next_due"]))
        ids.extend(r["product_id"] for r in ranked)
    return ids
