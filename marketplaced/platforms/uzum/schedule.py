"""The adaptive revisit schedule of Uzum ids: when each id is due, and who holds it.

Policy (uzum.mode = "adaptive", the default). Each id has a row in `uzum_schedule` (sql/015) with
its next due time. A visit that finds a product updates an estimate of how often the product
changes: `changes` and `span_h` are exponentially weighted (weight `change_memory` per visit) sums
of "this visit found a change of a stored value (orders, price, stock …)" and of the hours since
the previous visit. A product's first visit is no evidence of a change (there was nothing to
compare with), so it adds neither. The rate is the mean of a Gamma posterior,
rate = (changes + PRIOR_CHANGES) / (span_h + PRIOR_CHANGES / prior), whose prior comes from the
product's own order counter (`prior_rate_h`): a product that sold thousands is assumed busy from
its first visit, one that never sold is assumed quiet, and a few visits' evidence outweighs the
assumption. Treating changes as a Poisson process, the chance that a product changes between
two visits an interval I apart is 1 - exp(-rate·I); the next interval is the one that keeps it at
`miss_probability`: I = -ln(1 - p) / rate, clamped to [min_interval_s, max_interval_s]. An id that
answered "no product" waits `miss_interval_s` after its first miss, twice as long after each
further consecutive miss (an id above the highest product is probed again every
`frontier_interval_s` instead, until a product is found above it). No wait is planned longer
than `GUARD_SHARE` of `max_age_s` (a longer `max_interval_s` or back-off stops there), so quiet
products may stretch to nearly the maximum age while every id is still visited within it. Ids
above the highest id that ever held a product (up to `frontier_window` of them) are re-probed
every `frontier_interval_s`. This is Cho & Garcia-Molina's "revisit proportionally to the change
rate" made concrete with a target miss probability. The rate is stored with the row (`rate_h`):
it orders the claims when more is due than the budget allows (`claims`), whose leveling spreads
the visits the maximum age requires instead of letting ids visited together come due together.

Crash safety: the next due time is written by the Uzum sink in the writer transaction that
stores the visit's data (`after_visits`), so a crash before the commit leaves the id's schedule
as it was, and the id comes back when its lease expires.

Sharing: ids are claimed in batches with a lease (`claim`: UPDATE … WHERE id IN (SELECT … FOR
UPDATE SKIP LOCKED)), the way PostgreSQL job queues claim jobs; several daemons on one database
split the work without shard settings, and a daemon that dies leaves its leases to expire.

The sink learns the policy from the running scanner (`use`): the knobs are live on SIGHUP, and
the sink, built once at start-up, must use the values the scanner runs with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from marketplaced.platforms.uzum.config import UzumConfig


@dataclass(frozen=True, slots=True)
class Policy:
    """The schedule's knobs (the [uzum] keys of the same names)."""

    miss_probability: float = 0.1
    min_interval_s: float = 3600.0
    max_interval_s: float = 7 * 86400.0
    miss_interval_s: float = 86400.0
    max_age_s: float = 30 * 86400.0
    change_memory: float = 0.8
    frontier_window: int = 2000
    frontier_interval_s: float = 300.0
    frontier_share: float = 0.1
    fresh_within_s: float = 3600.0
    order_age_s: float = 365 * 86400.0

    @classmethod
    def of(cls, cfg: UzumConfig) -> Policy:
        return cls(
            cfg.miss_probability,
            cfg.min_interval_s,
            cfg.max_interval_s,
            cfg.miss_interval_s,
            cfg.max_age_s,
            cfg.change_memory,
            cfg.frontier_window,
            cfg.frontier_interval_s,
            cfg.frontier_share,
            cfg.fresh_within_s,
            cfg.order_age_s,
        )


_active = Policy()


def use(policy: Policy) -> None:
    """The policy the sink applies from now on (set by the adaptive scanner)."""
    # one scanner's live settings, read by the one sink built at start-up
    global _active
    _active = policy


def active() -> Policy:
    return _active


#: the prior's weight, in changes: half a change of make-believe evidence, so one observed
#: change (or a few unchanged visits) already counts for more than the assumption
PRIOR_CHANGES = 0.5
#: the prior assumes a product's orders were made over `order_age_s` (by default a year, a
#: listing's typical age) and that each order moved about two stored values (the order counter
#: and a SKU's stock)
CHANGES_PER_ORDER = 2.0
#: the prior of a product that never sold: this many changes per `order_age_s` (by default one
#: in ten days) — quiet, yet checked within days rather than only at the longest interval. One
#: time base for both, so a faster or slower world (a benchmark's scaled clock) scales them
#: together with the other knobs instead of leaving the prior a year of wall time behind
PRIOR_FLOOR_CHANGES = 36.5


def prior_rate_h(orders: int | None, order_age_s: float = 365 * 86400.0) -> float:
    """The change rate (per hour) assumed for a product before its visits say otherwise."""
    age_h = order_age_s / 3600
    return max(PRIOR_FLOOR_CHANGES, CHANGES_PER_ORDER * max(0, orders or 0)) / age_h


@dataclass(frozen=True, slots=True)
class State:
    """An id's schedule row, as far as the policy needs it."""

    checked_at: datetime | None
    changes: float
    span_h: float
    misses: int
    rate_h: float = 0.0  # the estimate the last visit left (what claims are ordered by)


def found(
    policy: Policy, st: State, changed: bool, now: datetime, prior_h: float | None = None
) -> tuple[State, float]:
    """The new state and the next interval (seconds) after a visit that found the product.

    A first visit (no committed visit before) is not evidence: whatever it stored was new, not a
    change, and it covers no span — counting it made every new product look hot."""
    m = policy.change_memory
    if st.checked_at is None:
        changes, span_h = st.changes, st.span_h
    else:
        elapsed_h = max(0.0, (now - st.checked_at).total_seconds() / 3600)
        changes = m * st.changes + (1.0 if changed else 0.0)
        span_h = m * st.span_h + elapsed_h
    prior = prior_rate_h(0, policy.order_age_s) if prior_h is None else prior_h
    rate = rate_h(changes, span_h, prior)
    return State(now, changes, span_h, 0, rate), interval(policy, rate)


def rate_h(changes: float, span_h: float, prior_h: float) -> float:
    """Changes per hour: the Gamma posterior mean from the weighted counts and the prior."""
    return (changes + PRIOR_CHANGES) / (span_h + PRIOR_CHANGES / prior_h)


#: no wait is planned longer than this share of the maximum age, and a claim takes an id last
#: visited that long ago before any other due id (`claims`): the rest of the maximum age is room
#: to get it fetched behind a backlog, so `max_interval_s` may be set to `max_age_s` itself
GUARD_SHARE = 0.9


def longest_wait(policy: Policy) -> float:
    """The longest wait the schedule plans for any id (seconds)."""
    return GUARD_SHARE * policy.max_age_s


def interval(policy: Policy, rate: float) -> float:
    """-ln(1 - p) / rate, clamped to the product bounds (and within the maximum age's guard)."""
    wanted = -math.log1p(-policy.miss_probability) / rate * 3600
    longest = min(policy.max_interval_s, longest_wait(policy))
    return min(longest, max(min(policy.min_interval_s, longest), wanted))


def missed(policy: Policy, st: State, now: datetime, frontier: bool) -> tuple[State, float]:
    """After a visit that found no product: the frontier is probed again soon, other misses
    back off (doubling per consecutive miss) up to the maximum age. The stored rate is the one
    the wait implies (the miss probability per wait), so a long-dead id weighs little in a
    backlog and an overdue one still competes."""
    if frontier:
        wait = policy.frontier_interval_s
    else:
        wait = min(longest_wait(policy), policy.miss_interval_s * 2.0 ** min(st.misses, 60))
    implied = -math.log1p(-policy.miss_probability) / wait * 3600
    return State(now, st.changes, st.span_h, st.misses + 1, implied), wait


# -- SQL ----------------------------------------------------------------------------------------

_HIGHEST = "SELECT coalesce(max(product_id), 0) FROM uzum_visits"

_ENSURE = """
INSERT INTO uzum_schedule (product_id, next_due)
SELECT g, $3 FROM generate_series($1::bigint, $2::bigint) AS g
ON CONFLICT (product_id) DO NOTHING"""

_COUNT = "SELECT count(*) FROM uzum_schedule WHERE product_id BETWEEN $1 AND $2"

_LOAD = """
SELECT s.product_id, s.checked_at, s.changes, s.span_h, s.misses, v.outcome, p.orders_amount
FROM uzum_schedule s LEFT JOIN uzum_visits v ON v.product_id = s.product_id
    LEFT JOIN products p ON p.id = s.product_id
WHERE s.product_id = ANY($1::bigint[])"""

_STORE = """
UPDATE uzum_schedule s SET next_due = t.due, lease_until = NULL, checked_at = $7,
    changes = t.changes, span_h = t.span_h, misses = t.misses, rate_h = t.rate
FROM unnest($1::bigint[], $2::timestamptz[], $3::real[], $4::real[], $5::int[], $6::real[])
    AS t(id, due, changes, span_h, misses, rate)
WHERE s.product_id = t.id"""


# ids the frontier passed: misses still on the frontier's short wait ($3) below the highest
# product now (`_replan_passed` gives them the wait `missed` gives a miss below the frontier)
_PASSED = """
SELECT product_id, checked_at, changes, span_h, misses, next_due FROM uzum_schedule
WHERE product_id > $1 AND product_id < $2 AND misses > 0 AND checked_at IS NOT NULL
  AND next_due <= checked_at + make_interval(secs => $3)"""

_REPLAN = """
UPDATE uzum_schedule s SET next_due = t.due, rate_h = t.rate
FROM unnest($1::bigint[], $2::timestamptz[], $3::real[]) AS t(id, due, rate)
WHERE s.product_id = t.id"""


async def highest_known(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """The highest id that ever held a product."""
    return int(await conn.fetchval(_HIGHEST))


async def seed(pool: asyncpg.Pool, cfg: UzumConfig, now: datetime) -> None:
    """Give every id up to the highest known product a row (due now) if it has none: a
    database scanned before in round-robin mode starts with what it knows, and no id below the
    frontier is left without a next visit. Cheap when nothing is missing (one count)."""
    highest = min(cfg.max_id, await highest_known(pool))
    if highest < cfg.first_id:
        return
    have = await pool.fetchval(_COUNT, cfg.first_id, highest)
    if have < highest - cfg.first_id + 1:
        await pool.execute(_ENSURE, cfg.first_id, highest, now)


def frontier_window(cfg: UzumConfig, highest: int) -> tuple[int, int]:
    """The ids probed for new products: from above `highest` (the highest known product) up
    to `frontier_window` above it, within first_id … max_id (empty when lo > top)."""
    top = min(cfg.max_id, max(highest, cfg.first_id - 1) + cfg.frontier_window)
    return max(cfg.first_id, highest + 1), top


async def open_frontier(
    pool: asyncpg.Pool, cfg: UzumConfig, now: datetime, highest: int | None = None
) -> int:
    """Rows (due now) for the frontier window's ids (`frontier_window`; `highest` read from
    the database unless given) without one; returns the top of the window."""
    if highest is None:
        highest = await highest_known(pool)
    lo, top = frontier_window(cfg, highest)
    if lo <= top:
        await pool.execute(_ENSURE, lo, top, now)
    return top


async def after_visits(
    conn: asyncpg.Connection, found_ids: list[int], missed_ids: list[int], now: datetime
) -> int:
    """Set the next due time of the batch's visited ids, in the writer transaction that stores
    their data (after the visit rows, whose `outcome` says whether a stored value changed).
    Ids without a schedule row (round-robin mode) are left alone."""
    ids = [*found_ids, *missed_ids]
    if not ids:
        return 0
    rows = await conn.fetch(_LOAD, ids)
    if not rows:
        return 0
    policy = _active
    missing = set(missed_ids)
    highest = await highest_known(conn)
    pids: list[int] = []
    dues: list[datetime] = []
    changes: list[float] = []
    spans: list[float] = []
    misses: list[int] = []
    rates: list[float] = []
    for r in rows:
        pid = r["product_id"]
        st = State(r["checked_at"], r["changes"], r["span_h"], r["misses"])
        if pid in missing:
            new, wait = missed(policy, st, now, frontier=pid > highest)
        else:
            prior = prior_rate_h(r["orders_amount"], policy.order_age_s)
            new, wait = found(policy, st, r["outcome"] == "changed", now, prior)
        pids.append(pid)
        dues.append(now + timedelta(seconds=wait))
        changes.append(new.changes)
        spans.append(new.span_h)
        misses.append(new.misses)
        rates.append(new.rate_h)
    await conn.execute(_STORE, pids, dues, changes, spans, misses, rates, now)
    if found_ids and max(found_ids) >= highest:
        await _replan_passed(conn, policy, highest)
    return len(rows)


async def _replan_passed(conn: asyncpg.Connection, policy: Policy, highest: int) -> None:
    """This batch moved the frontier (or found its top): the misses it passed are below it now
    and wait, from their last visit, the back-off of a miss below the frontier. They lie within
    one window under the new highest, so the read covers at most `frontier_window` rows of the
    primary key, and only those still on the frontier's wait come back."""
    rows = await conn.fetch(
        _PASSED, highest - policy.frontier_window, highest, policy.frontier_interval_s
    )
    ids: list[int] = []
    dues: list[datetime] = []
    rates: list[float] = []
    for r in rows:
        # the state before that visit's miss, so `missed` counts it once again
        before = State(r["checked_at"], r["changes"], r["span_h"], r["misses"] - 1)
        new, wait = missed(policy, before, r["checked_at"], frontier=False)
        due = r["checked_at"] + timedelta(seconds=wait)
        if r["next_due"] < due:
            ids.append(r["product_id"])
            dues.append(due)
            rates.append(new.rate_h)
    if ids:
        await conn.execute(_REPLAN, ids, dues, rates)


# -- classes (what the status page, `marketplaced status` and /metrics group ids by) ------------

#: the classes, in the order they are shown
CLASSES = ("hot", "warm", "cold", "dead", "frontier")
#: a product whose current interval is at most this long is hot …
HOT_MAX_S = 3 * 3600
#: … at most this long warm, longer cold
WARM_MAX_S = 86400


def class_sql(highest: str) -> str:
    """The SQL expression naming a schedule row's class; `highest` is an SQL expression for the
    highest id that ever held a product. The one definition of the classes:

    - frontier: above the highest known product (probed continuously for new products);
    - dead: the last visit found no product (misses > 0);
    - hot / warm / cold: a product whose current interval (next_due - checked_at, what the
      policy chose after its last visit) is ≤ 3 h / ≤ 1 d / longer. A row never visited yet
      (seeded from a round-robin database) has no interval of its own and counts as cold: the
      policy knows nothing of its changes and gives it the longest interval after a first
      unchanged visit.

    The interval, not the change estimate, decides: it is what the scanner actually does, so
    each class's visit rate is what its name says. An SQL expression rather than Python, so the
    figures are one aggregate over the table instead of rows shipped to the daemon."""
    return f"""CASE
        WHEN product_id > {highest} THEN 'frontier'
        WHEN misses > 0 THEN 'dead'
        WHEN checked_at IS NULL THEN 'cold'
        WHEN next_due - checked_at <= make_interval(secs => {HOT_MAX_S}) THEN 'hot'
        WHEN next_due - checked_at <= make_interval(secs => {WARM_MAX_S}) THEN 'warm'
        ELSE 'cold' END"""
