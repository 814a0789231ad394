"""The freshness benchmark's arithmetic, on a hand-made toy case with known answers."""

from __future__ import annotations

import math

import pytest

from tests.benchmarks.bench_freshness import (
    by_class,
    duplicate_rate,
    hit_share,
    latencies,
    max_age,
    oracle_with_visits,
    oracle_within_1h,
    quantile,
)
from tests.benchmarks.freshness_diagnostics import rate_bands, request_split, visit_outcomes


def test_detection_latency_and_share_within_an_hour_by_class() -> None:
    # ticks are minutes (60 per hour); id 1 is active, id 2 quiet
    changes = {1: [10, 100, 200], 2: [0, 50]}
    observed = {1: [5.0, 40.0, 130.0], 2: [170.0]}
    lat = latencies(changes, observed)
    # id 1: 10 → seen at 40 (30), 100 → 130 (30), 200 → never; id 2: 0 → 170, 50 → 170
    assert lat == {1: [30.0, 30.0, math.inf], 2: [170.0, 120.0]}
    det = by_class(lat, lambda pid: "active" if pid == 1 else "quiet", 60.0, 1.0)
    assert det["active"].changes == 3
    assert det["active"].within_1h == 2 / 3
    assert det["active"].median_min == 30.0
    assert det["active"].p90_min == math.inf
    assert det["quiet"].within_1h == 0.0
    assert det["quiet"].median_min == 120.0
    assert det["quiet"].p90_min == 170.0


def test_quantile_is_nearest_rank() -> None:
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.9) == 4.0
    assert math.isnan(quantile([], 0.5))


def test_hit_share_max_age_and_duplicates() -> None:
    exists = {(1, 0), (1, 5), (3, 5)}
    requests = [(0.0, 1), (0.0, 2), (5.0, 1), (5.4, 3)]
    assert hit_share(requests, lambda pid, tick: (pid, tick) in exists) == 3 / 4
    # ids 1..4 at tick 100: 1 last seen at 90, 2 at 20, 3 at 50, 4 never (since the start, 0)
    assert max_age({1: 90.0, 2: 20.0, 3: 50.0}, range(1, 5), 0.0, 100.0) == 100.0
    assert max_age({1: 90.0, 2: 20.0}, range(1, 3), 0.0, 100.0) == 80.0
    log = [
        (0.0, 1, "a"),
        (0.5, 1, "b"),  # the other daemon, within the window: a duplicate
        (0.7, 1, "b"),  # the same daemon again: not a lease failure
        (5.0, 1, "a"),  # the other daemon, but long after: a revisit
        (1.0, 2, "a"),
    ]
    assert duplicate_rate(log, 1.0) == 1 / 5


def test_the_oracle_visits_the_highest_rates_hourly_until_the_budget_is_spent() -> None:
    # four products: rates 4, 3, 2, 1 (total 10); each visited once a day (1/24 an hour) anyway
    base = 1 / 24
    rates = [1.0, 4.0, 2.0, 3.0]
    # no spare visits: every product's share is its daily visit's
    assert oracle_within_1h(rates, 0.0, base) == pytest.approx(base)
    # enough for two products hourly: 4 and 3 fully, 2 and 1 at the base
    two = 2 * (1 - base)
    assert oracle_within_1h(rates, two, base) == pytest.approx((7 + 3 * base) / 10)
    # half a product more: the rate-2 product gets half of its remaining visits
    half = two + (1 - base) / 2
    assert oracle_within_1h(rates, half, base) == pytest.approx(
        (7 + 2 * (base + (1 - base) / 2) + 1 * base) / 10
    )
    # more than enough: everything is seen within the hour, the surplus is worth nothing
    assert oracle_within_1h(rates, 100.0, base) == pytest.approx(1.0)
    assert math.isnan(oracle_within_1h([], 5.0, base))


def test_request_split_counts_each_kind_of_request() -> None:
    # ids 1..4 are the initial catalogue: 1 active, 2 quiet, 3 without a product at tick 5;
    # id 9 is above it (a frontier probe), whatever it holds
    exists = {(1, 0), (2, 0), (3, 0), (9, 5)}
    requests = [(0.0, 1), (0.0, 2), (5.0, 3), (5.0, 9), (0.0, 1)]
    split = request_split(
        requests,
        4,
        lambda pid, t: (pid, t) in exists,
        lambda pid: "active" if pid == 1 else "quiet",
    )
    assert split == {"active": 0.4, "quiet": 0.2, "no product": 0.2, "above start": 0.2}


def test_rate_bands_cut_by_price_weight_busiest_first() -> None:
    # price rates 4, 2, 1, 1 per hour: two bands of weight 4 each → {1} and {2, 3, 4}
    price = {1: 4.0, 2: 2.0, 3: 1.0, 4: 1.0}
    total = {1: 8.0, 2: 4.0, 3: 2.0, 4: 1.0}
    lat = {1: [10.0, 70.0], 2: [30.0], 3: [200.0], 4: []}
    visits = {1: 20, 2: 10, 3: 2}
    est = {1: 4.0, 2: 4.0, 3: 1.0}  # ratios 0.5 | 1.0, 0.5 (4 not estimated)
    bands = rate_bands(price, total, lat, visits, est, 10.0, 60.0, bands=2)
    assert [b.products for b in bands] == [1, 3]
    assert bands[0].changes == 2 and bands[0].within_1h == 0.5
    assert bands[0].visits_per_h == 2.0 and bands[0].estimate_ratio == 0.5
    assert bands[1].changes == 2 and bands[1].within_1h == 0.5
    assert bands[1].visits_per_h == 12 / 3 / 10
    assert bands[1].estimate_ratio == 1.0  # the median of [0.5, 1.0] by upper middle


def test_visit_outcomes_say_what_each_request_found() -> None:
    # id 1 exists from tick 0 and changes on tick 5; id 2 never holds a product; id 3 is
    # delisted on ticks 10-19 and does not change
    def exists(pid: int, tick: int) -> bool:
        return pid == 1 or (pid == 3 and not 10 <= tick < 20)

    def changed(pid: int, a: int, b: int) -> bool:
        return pid == 1 and a <= 5 < b

    requests = [
        (0.0, 1),  # first product: new (changed)
        (2.0, 1),  # unchanged
        (5.0, 1),  # the change on tick 5: changed
        (9.5, 1),  # unchanged
        (1.0, 2),  # no product
        (3.0, 3),  # first: changed
        (12.0, 3),  # delisted: no product
        (25.0, 3),  # back: first product since the miss, changed
        (30.0, 3),  # unchanged
    ]
    shares = visit_outcomes(requests, exists, changed)
    assert shares == {"no product": 2 / 9, "unchanged": 3 / 9, "changed": 4 / 9}
    # from tick 5 on: (5, 1) changed, (9.5, 1) unchanged, (12, 3) none, (25, 3) changed,
    # (30, 3) unchanged; the earlier requests still set what each id held
    late = visit_outcomes(requests, exists, changed, start=5.0)
    assert late == {"no product": 1 / 5, "unchanged": 2 / 5, "changed": 2 / 5}


def test_the_oracle_with_a_runs_own_visits_counts_only_the_products_ranked() -> None:
    # rates 4 and 1 an hour; 10 visits to the first over 10 hours (one an hour) and 99 to an
    # id outside the ranked products, which must not count: one hourly product, the busiest
    rates = {1: 4.0, 2: 1.0}
    visits = {1: 10, 3: 99}
    assert oracle_with_visits(rates, visits, 10.0) == pytest.approx(4 / 5)
    # the same visits to the quiet one are worth as much: the oracle places them itself
    assert oracle_with_visits(rates, {2: 10}, 10.0) == pytest.approx(4 / 5)
