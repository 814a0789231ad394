"""An offline model of the adaptive schedule (not a test): bench_freshness's world in seconds.

The freshness benchmark runs real daemons on a scaled clock for ≈ 20 minutes. To compare
policies quickly this model replays the same simulated catalogue (same seed, ids and budget)
tick by tick (one tick = one simulated minute) with the schedule's own policy functions
(``schedule.found`` / ``missed``, the prior) and the claim order of ``claims`` re-enacted in
Python: each tick claims the budget's requests — the frontier's reserved share, the leveling
share (exact here: the fluid rate over every old id, where the daemon counts buckets), then due
ids (urgent first, then by value), then ahead of time by rate — and visits them at once. What it
leaves out: wall-clock jitter, leases, claims in flight and writer latency. It prints the share
of active products' price changes seen within an hour, with the benchmark's definitions
(``detection``) and diagnostics (``rate_bands``, ``timeline``), and where the requests of the
busiest part of the run went, by claim step. On the benchmark's full world it came within
0.01–0.03 of the benchmark's own figure for the code it models.

Usage: python tests/benchmarks/freshness_model.py [--quick] [--set KEY=VALUE ...]
    [--level-from F] [--know all|price]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced.platforms.uzum import schedule  # noqa: E402
from marketplaced.simulator.rng import GOLDEN, mix64  # noqa: E402
from marketplaced.simulator.uzum.realistic import _PROMOTIONS  # noqa: E402  (as its _prices)
from marketplaced.simulator.uzum.truth import CHANGE_KINDS  # noqa: E402
from tests.benchmarks.bench_freshness import (  # noqa: E402
    MAX_AGE_H,
    by_class,
    latencies,
    oracle_with_visits,
)
from tests.benchmarks.freshness_diagnostics import (  # noqa: E402
    REQUEST_KINDS,
    rate_bands,
    timeline,
)
from tests.benchmarks.freshness_upstream import simulator  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def policy(overrides: dict[str, float]) -> schedule.Policy:
    base = schedule.Policy(
        miss_probability=0.1,
        min_interval_s=3300.0,
        max_interval_s=MAX_AGE_H * 3600.0,
        miss_interval_s=86400.0,
        max_age_s=MAX_AGE_H * 3600.0,
        fresh_within_s=3600.0,
        order_age_s=365 * 86400.0,
        frontier_window=20,
        frontier_interval_s=300.0,
        frontier_share=0.1,
    )
    return dataclasses.replace(base, **overrides)


class World:
    def __init__(self, ids: int, seed: int) -> None:
        self.sim = simulator(seed, ids, 1.0)
        self.truth = self.sim.catalogue.truth
        self.activity = self.sim.catalogue.truth._activity

    def seen(self, pid: int, tick: int) -> tuple[int, float, int] | None:
        """What a visit stores at ``tick``: (orders, price state, stock state), None: no product.
        The price state is what ``RealisticDynamics._prices`` derives the SKUs' prices from
        (the list price in even states, a promotion level in odd ones), so two changes that
        undo each other between visits are not seen, as in the benchmark."""
        if not self.truth.exists(pid, tick):
            return None
        p = self.activity.profile(pid)
        n = p.prices.count(tick)
        price = 1.0 if n % 2 == 0 else _PROMOTIONS[mix64(p.key + n * GOLDEN) % len(_PROMOTIONS)]
        return p.orders.count(tick), price, p.stock.count(tick)

    def orders(self, pid: int, tick: int) -> int:
        p = self.activity.profile(pid)
        return p.base_orders + p.orders.count(tick)


def run(
    ids: int,
    per_hour: float,
    hours: float,
    pol: schedule.Policy,
    seed: int = 7,
    level_from: float = 0.5,
    know: str = "",
) -> dict:
    w = World(ids, seed)
    # the benchmark's window: the live default's share of the id space
    pol = dataclasses.replace(pol, frontier_window=max(5, round(2000 * ids / 2_400_000)))
    per_tick = per_hour / 60
    ticks = int(hours * 60)
    st: dict[int, schedule.State] = {}
    due: dict[int, float] = {}  # next due, in ticks
    last_seen: dict[int, tuple[int, float, int]] = {}
    requests: list[tuple[float, int]] = []
    for pid in range(1, ids + 1):
        st[pid] = schedule.State(None, 0.0, 0.0, 0)
        due[pid] = 0.0
    highest = 0
    owed = 0.0
    age_owed = 0.0
    reasons: dict[tuple[str, str], int] = {}
    truth = w.truth

    def rank(pid: int, s: schedule.State) -> float:
        if not know or s.misses:
            return s.rate_h
        kinds = ("price",) if know == "price" else CHANGE_KINDS
        return 60 * sum(truth.change_rate(pid, k) for k in kinds)

    guard_ticks = schedule.GUARD_SHARE * pol.max_age_s / 60
    min_ticks = pol.min_interval_s / 60
    for tick in range(ticks):
        now = T0 + timedelta(minutes=tick)
        owed += per_tick
        n = int(owed)
        owed -= n
        # the frontier window's rows, due now when made
        for pid in range(highest + 1, highest + pol.frontier_window + 1):
            if pid not in st:
                st[pid] = schedule.State(None, 0.0, 0.0, 0)
                due[pid] = float(tick)
        ready = [pid for pid, d in due.items() if d <= tick]
        frontier = sorted((due[p], p) for p in ready if p > highest)
        reserve = min(n, math.ceil(n * pol.frontier_share))
        claim = [p for _, p in frontier[:reserve]]
        why = {p: "frontier" for p in claim}
        taken = set(claim)

        def value(pid: int, tick: int = tick) -> tuple[bool, float, float]:
            s = st[pid]
            if s.checked_at is None:
                return (False, 0.0, due[pid])
            elapsed = tick - (s.checked_at - T0).total_seconds() / 60
            urgent = elapsed >= guard_ticks
            return (not urgent, -rank(pid, s) * min(elapsed * 60, pol.fresh_within_s), due[pid])

        if level_from:
            # the ids checked longest ago (at least level_from of the maximum age), at the
            # steadiest rate that still visits each before its guard: the fluid EDF rate,
            # max over j of (j + 1) / (time to the j-th oldest's guard)
            old_enough = tick - level_from * pol.max_age_s / 60
            olds = sorted(
                ((s.checked_at - T0).total_seconds() / 60, pid)
                for pid, s in st.items()
                if pid not in taken
                and s.checked_at is not None
                and pid <= highest
                and (s.checked_at - T0).total_seconds() / 60 <= old_enough
            )
            rate = 0.0
            for j, (c, _) in enumerate(olds):
                rate = max(rate, (j + 1) / max(1.0, c + guard_ticks - tick))
            age_owed += rate
            k = min(n - len(claim), int(age_owed))
            age_owed -= k
            for _, pid in olds[:k]:
                claim.append(pid)
                why[pid] = "age"
                taken.add(pid)
        rest = sorted((value(p), p) for p in ready if p not in taken)
        for v, p in rest[: n - len(claim)]:
            why[p] = "urgent" if not v[0] else "due"
            claim.append(p)
        if len(claim) < n:
            taken = set(claim)
            cands = []
            for pid, s in st.items():
                if pid in taken or due[pid] <= tick or s.checked_at is None or s.misses:
                    continue
                if tick - (s.checked_at - T0).total_seconds() / 60 >= min_ticks:
                    cands.append((-rank(pid, s), due[pid], pid))
            cands.sort()
            for _, _, p in cands[: n - len(claim)]:
                why[p] = "ahead"
                claim.append(p)
        for pid in claim:
            requests.append((float(tick), pid))
            if 12 * 60 <= tick < 27 * 60:
                kind = (
                    "above"
                    if pid > ids
                    else "none"
                    if not w.truth.exists(pid, tick)
                    else w.truth.activity_class(pid)
                )
                reasons[(why[pid], kind)] = reasons.get((why[pid], kind), 0) + 1
            got = w.seen(pid, tick)
            s = st[pid]
            if got is None:
                new, wait = schedule.missed(pol, s, now, frontier=pid > highest)
            else:
                if pid > highest + 1:
                    # the misses the frontier passed: back off as misses below it
                    for q in range(highest + 1, pid):
                        m = st[q]
                        if m.misses and m.checked_at is not None:
                            again = dataclasses.replace(m, misses=m.misses - 1)
                            _, back = schedule.missed(pol, again, m.checked_at, frontier=False)
                            due[q] = (m.checked_at - T0).total_seconds() / 60 + back / 60
                highest = max(highest, pid)
                before = last_seen.get(pid)
                changed = before is not None and before != got
                last_seen[pid] = got
                prior = schedule.prior_rate_h(w.orders(pid, tick), pol.order_age_s)
                new, wait = schedule.found(pol, s, changed, now, prior)
            st[pid] = new
            due[pid] = tick + wait / 60
    print("requests per hour from 12 to 27 h, by claim step and what the id held:")
    for (r, k), c in sorted(reasons.items()):
        print(f"  {r:9} {k:7} {c / 15:8.0f}")
    return figures(w, ids, per_hour, hours, requests, st)


def figures(w, ids, per_hour, hours, requests, st) -> dict:
    truth = w.truth
    tph = 60.0
    end = hours * 60
    warm = ids / per_hour * 60  # one round-robin cycle, as the benchmark
    last = int(end - tph)
    # a price change is observed at the first visit after it that saw a different price state
    observed: dict[int, list[float]] = {}
    prev: dict[int, float] = {}
    for tick, pid in requests:
        got = w.seen(pid, int(tick))
        if got is None:
            continue
        if pid in prev and prev[pid] != got[1]:
            observed.setdefault(pid, []).append(tick)
        elif pid not in prev:
            observed.setdefault(pid, []).append(tick)  # the first stored price
        prev[pid] = got[1]
    top = truth.frontier(int(end))
    changes = {
        pid: ticks
        for pid in range(1, top + 1)
        if (ticks := truth.change_ticks(pid, "price", int(warm), last))
    }
    lat = latencies(changes, observed)
    det = by_class(lat, truth.activity_class, tph, 1.0)
    visits = {}
    for tick, pid in requests:
        if warm <= tick <= end:
            visits[pid] = visits.get(pid, 0) + 1
    active = [pid for pid in range(1, ids + 1) if truth.activity_class(pid) == "active"]
    price = {pid: truth.change_rate(pid, "price") * tph for pid in active}
    every = {
        pid: tph * sum(truth.change_rate(pid, k) for k in ("price", "stock", "orders"))
        for pid in active
    }
    est = {pid: s.rate_h for pid, s in st.items() if s.checked_at is not None and not s.misses}
    bands = rate_bands(price, every, lat, visits, est, (end - warm) / tph, tph)
    tl = timeline(
        changes, lat, requests, ids, truth.exists, truth.activity_class, 0.0, end, 10, tph
    )
    return {
        "det": det,
        "bands": bands,
        "timeline": tl,
        "requests": len(requests),
        "oracle_own": oracle_with_visits(price, visits, (end - warm) / tph),
        "active_visits_h": sum(visits.get(pid, 0) for pid in active) / ((end - warm) / tph),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument(
        "--level-from", type=float, default=0.5, help="uzum.level_from (0: no leveling)"
    )
    ap.add_argument(
        "--know",
        default="",
        choices=("", "all", "price"),
        help="rank claims by the true rate (of all changes, or of price changes) instead of "
        "the estimate: what perfect knowledge would add",
    )
    args = ap.parse_args()
    overrides = {k: float(v) for k, v in (x.split("=", 1) for x in args.set)}
    t = time.monotonic()
    size = (3000, 50.0 * 12, 12.0) if args.quick else (24_000, 100.0 * 36, 30.0)
    f = run(*size, policy(overrides), 7, args.level_from, args.know)
    d = f["det"]["active"]
    print(f"active within 1 h {d.within_1h:.3f}  median {d.median_min:.0f}  p90 {d.p90_min:.0f}")
    print(
        f"  best possible with its {f['active_visits_h']:.0f} visits/h to active products: "
        f"{f['oracle_own']:.3f}"
    )
    q = f["det"]["quiet"]
    print(f"quiet within 1 h {q.within_1h:.3f}  median {q.median_min:.0f}")
    for b in f["bands"]:
        print(
            f"  band {b.products:5} products: within {b.within_1h:.2f} "
            f"visits/h {b.visits_per_h:.2f} est/true {b.estimate_ratio:.2f}"
        )
    for x in f["timeline"]:
        shares = " ".join(f"{k} {100 * x.split[k]:.0f}" for k in REQUEST_KINDS)
        print(f"  from {x.start / 60:5.1f} h: within {x.within_1h:.2f}  {shares}")
    print(f"{f['requests']} requests, {time.monotonic() - t:.0f} s")


if __name__ == "__main__":
    main()
