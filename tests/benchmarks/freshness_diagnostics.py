"""Where a freshness run's requests went, and how well it knew each product (bench_freshness).

Two views that say *why* a schedule misses changes, not only how many:

- ``request_split``: the share of requests spent on active products, quiet ones, ids without a
  product at that moment, and ids above the initial catalogue (the frontier's probes and the
  products found there);
- ``rate_bands``: the active products cut into bands of equal price-change weight by their true
  price-change rate (busiest first): per band, the share of its price changes seen within an
  hour, the visits each product got per hour, and the schedule's estimated change rate against
  the true one (all kinds of change, the rate the schedule estimates). A band seen late with
  few visits and an estimate far below the truth is a knowledge problem; one seen late with an
  estimate near the truth is a budget problem.

Pure functions, checked on a toy case by tests/test_bench_freshness.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: the kinds of request ``request_split`` counts, in the order they are printed
REQUEST_KINDS = ("active", "quiet", "no product", "above start")


def request_split(
    requests: Iterable[tuple[float, int]],
    initial_ids: int,
    exists: Callable[[int, int], bool],
    cls: Callable[[int], str],
) -> dict[str, float]:
    """Share of (tick, id) requests per kind of ``REQUEST_KINDS``: an id above
    ``initial_ids`` is "above start" whatever it held; below, an id without a product at the
    tick is "no product", else the product's class ("active" or "quiet")."""
    counts = dict.fromkeys(REQUEST_KINDS, 0)
    n = 0
    for tick, pid in requests:
        n += 1
        if pid > initial_ids:
            counts["above start"] += 1
        elif not exists(pid, int(tick)):
            counts["no product"] += 1
        else:
            counts[cls(pid)] += 1
    return {k: v / n if n else math.nan for k, v in counts.items()}


@dataclass(frozen=True)
class Band:
    products: int
    changes: int
    within_1h: float
    visits_per_h: float  # requests per product per simulated hour
    estimate_ratio: float  # median of estimated / true change rate (nan: none estimated)


def rate_bands(
    price_rates: dict[int, float],
    total_rates: dict[int, float],
    latencies: dict[int, list[float]],
    visits: dict[int, int],
    estimates: dict[int, float],
    hours: float,
    ticks_per_hour: float,
    bands: int = 4,
) -> list[Band]:
    """The products of ``price_rates`` (true price changes per hour) cut, busiest first, into
    ``bands`` bands of about equal total price-change rate. ``latencies`` are each product's
    detection latencies in ticks, ``visits`` its requests over ``hours`` simulated hours,
    ``estimates`` and ``total_rates`` its estimated and true change rates per hour (all
    kinds)."""
    ranked = sorted(price_rates, key=lambda pid: -price_rates[pid])
    total = sum(price_rates.values())
    out: list[Band] = []
    start = 0
    for b in range(bands):
        goal = total * (b + 1) / bands
        end = start
        acc = sum(price_rates[pid] for pid in ranked[:start])
        while end < len(ranked) and (acc < goal or b == bands - 1):
            acc += price_rates[ranked[end]]
            end += 1
        members = ranked[start:end]
        start = end
        if not members:
            continue
        lat = [v for pid in members for v in latencies.get(pid, [])]
        ratios = sorted(
            estimates[pid] / total_rates[pid]
            for pid in members
            if pid in estimates and total_rates.get(pid, 0) > 0
        )
        out.append(
            Band(
                products=len(members),
                changes=len(lat),
                within_1h=sum(v <= ticks_per_hour for v in lat) / len(lat) if lat else math.nan,
                visits_per_h=sum(visits.get(pid, 0) for pid in members) / len(members) / hours,
                estimate_ratio=ratios[len(ratios) // 2] if ratios else math.nan,
            )
        )
    return out


@dataclass(frozen=True)
class Window:
    start: float  # ticks
    changes: int  # active products' price changes in the window
    within_1h: float
    split: dict[str, float]  # the window's requests, as ``request_split``


def timeline(
    changes: dict[int, list[int]],
    latencies: dict[int, list[float]],
    requests: list[tuple[float, int]],
    initial_ids: int,
    exists: Callable[[int, int], bool],
    cls: Callable[[int], str],
    start: float,
    end: float,
    windows: int,
    ticks_per_hour: float,
) -> list[Window]:
    """The run from ``start`` to ``end`` (ticks) cut into ``windows`` equal windows: per window,
    the share of its active products' price changes seen within an hour, and where its requests
    went — a schedule whose visits bunch up (every quiet product due again at once) shows as a
    window whose requests go to quiet products while its active changes are seen late."""
    step = (end - start) / windows
    out = []
    for w in range(windows):
        lo, hi = start + w * step, start + (w + 1) * step
        lat = [
            v
            for pid, ticks in changes.items()
            if cls(pid) == "active"
            for c, v in zip(ticks, latencies.get(pid, []), strict=True)
            if lo <= c < hi
        ]
        within = sum(v <= ticks_per_hour for v in lat) / len(lat) if lat else math.nan
        reqs = [(t, pid) for t, pid in requests if lo <= t < hi]
        out.append(Window(lo, len(lat), within, request_split(reqs, initial_ids, exists, cls)))
    return out


#: what a request found, in the order ``visit_outcomes`` prints them
OUTCOMES = ("no product", "unchanged", "changed")


def visit_outcomes(
    requests: Iterable[tuple[float, int]],
    exists: Callable[[int, int], bool],
    changed: Callable[[int, int, int], bool],
    start: float = 0.0,
) -> dict[str, float]:
    """Share of (tick, id) requests, in time order, that found no product, the product as the
    previous request of that id found it, or something new (a change since that request, or
    the id's first product): what each request costs the daemon differs by an order of
    magnitude (a miss and an unchanged body are skipped before parsing, a changed one is parsed
    and written), so a schedule that spends more of its requests where things change costs more
    CPU per request for that reason alone. ``changed(pid, a, b)``: whether a stored value of
    ``pid`` changed on a tick in ``[a, b)``; only requests from tick ``start`` on are counted
    (the earlier ones still say what each id held)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    last: dict[int, int] = {}
    n = 0
    for tick, pid in sorted(requests):
        t = int(tick)
        counted = tick >= start
        n += counted
        if not exists(pid, t):
            counts["no product"] += counted
            last.pop(pid, None)
            continue
        before = last.get(pid)
        if counted:
            new = before is None or changed(pid, before + 1, t + 1)
            counts["changed" if new else "unchanged"] += 1
        last[pid] = t
    return {k: v / n if n else math.nan for k, v in counts.items()}
