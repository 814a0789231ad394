"""The simulator's realistic dynamics: skewed activity, growth, delistings, dead ranges, truth."""

from __future__ import annotations

import json
import statistics
from typing import Any

import pytest

from marketplaced.cli import build_parser
from marketplaced.simulator.app import SimulatorOptions, build
from marketplaced.simulator.uzum import (
    CHANGE_KINDS,
    ChangeKind,
    GroundTruth,
    Realism,
    UzumCatalogue,
    UzumSimulator,
)

SEED = 31
N_IDS = 6_000
REALISM = Realism()
HOUR = round(REALISM.ticks_per_hour)
DAY = 24 * HOUR


@pytest.fixture(scope="module")
def catalogue() -> UzumCatalogue:
    return UzumCatalogue(SEED, N_IDS, realism=REALISM)


@pytest.fixture(scope="module")
def truth(catalogue: UzumCatalogue) -> GroundTruth:
    assert catalogue.truth is not None
    return catalogue.truth


def observed(catalogue: UzumCatalogue, pid: int, tick: int) -> dict[ChangeKind, Any] | None:
    """The price, stock and orders a scanner reads from the served body (None: no product)."""
    body = catalogue.product_bytes(pid, tick)
    if body is None:
        return None
    data = json.loads(body, strict=False)["payload"]["data"]
    skus = sorted(data["skuList"], key=lambda s: s["id"])
    return {
        "price": [(s["purchasePrice"], s["fullPrice"]) for s in skus],
        "stock": [s["availableAmount"] for s in skus],
        "orders": data["ordersAmount"],
    }


def leaves(doc: Any, path: str = "") -> dict[str, Any]:
    """A JSON document as {path with list indexes dropped: values}."""
    if isinstance(doc, dict):
        return {
            k: v for key, value in doc.items() for k, v in leaves(value, f"{path}.{key}").items()
        }
    if isinstance(doc, list):
        out: dict[str, Any] = {}
        for i, value in enumerate(doc):
            out |= {f"{k}#{i}": v for k, v in leaves(value, f"{path}[]").items()}
        return out
    return {path: doc}


def initial_ids(catalogue: UzumCatalogue) -> list[int]:
    return [pid for pid in range(1, N_IDS + 1) if catalogue.exists(pid)]


# --- off by default -------------------------------------------------------------------------


def test_realistic_dynamics_are_opt_in() -> None:
    assert UzumCatalogue(SEED, 300).truth is None
    assert SimulatorOptions().dynamics == "uniform"
    assert build_parser().parse_args(["simulate"]).dynamics == "uniform"
    args = build_parser().parse_args(["simulate", "--dynamics", "realistic"])
    sims = build(SimulatorOptions(n_ids=300, dynamics=args.dynamics, tick_seconds=0))
    assert sims.uzum.catalogue.truth is not None
    assert sims.uzum.stats()["catalogue"]["tick_ms"] == 60_000
    with pytest.raises(ValueError, match="unknown dynamics 'lively'"):
        build(SimulatorOptions(n_ids=300, dynamics="lively"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dead_share"):
        Realism(dead_share=1.0)
    with pytest.raises(ValueError, match=r"hit_rate 0\.9"):
        UzumCatalogue(SEED, 300, hit_rate=0.9, realism=REALISM)


# --- determinism and time -------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_dynamics(catalogue: UzumCatalogue) -> None:
    again = UzumCatalogue(SEED, N_IDS, realism=REALISM)
    other = UzumCatalogue(SEED + 1, N_IDS, realism=REALISM)
    ids = initial_ids(catalogue)[:150]
    for pid in ids:
        for tick in (0, 59, 61, 600, 3 * DAY + 7):
            assert catalogue.product_bytes(pid, tick) == again.product_bytes(pid, tick)
    assert catalogue.truth is not None and other.truth is not None
    mine = [catalogue.truth.orders_per_day(p) for p in ids]
    assert mine != [other.truth.orders_per_day(p) for p in ids]


def test_a_tick_is_a_simulated_minute_driven_by_the_injected_clock(
    catalogue: UzumCatalogue,
) -> None:
    now = [1000.0]
    # one simulated hour in 36 real seconds: 0.6 s per simulated minute
    sim = UzumSimulator(catalogue, tick_seconds=0.6, clock=lambda: now[0])
    now[0] += 36.0
    assert sim.tick == HOUR == 60
    pid = initial_ids(catalogue)[0]
    first = json.loads(catalogue.product_bytes(pid, 0) or b"", strict=False)
    later = json.loads(catalogue.product_bytes(pid, 1) or b"", strict=False)
    assert first["timestamp"][:16] != later["timestamp"][:16]  # one minute apart, not an hour


# --- activity -------------------------------------------------------------------------------


def test_activity_is_heavy_tailed_and_drives_repricing(
    catalogue: UzumCatalogue, truth: GroundTruth
) -> None:
    ids = initial_ids(catalogue)
    orders_in_a_day = sorted(
        (len(truth.change_ticks(p, "orders", 1, DAY + 1)) for p in ids), reverse=True
    )
    assert statistics.median(orders_in_a_day) == 0
    top = orders_in_a_day[: len(ids) // 20]
    assert sum(top) > 0.5 * sum(orders_in_a_day), (sum(top), sum(orders_in_a_day))
    assert max(truth.orders_per_day(p) for p in ids) >= 200  # a few sell hundreds a day
    active = [p for p in ids if truth.activity_class(p) == "active"]
    quiet = [p for p in ids if truth.activity_class(p) == "quiet"]
    assert 0.05 < len(active) / len(ids) < 0.3
    assert all(truth.orders_per_day(p) >= 1 for p in active)

    def reprices_per_product(group: list[int]) -> float:
        return sum(len(truth.change_ticks(p, "price", 1, 7 * DAY)) for p in group) / len(group)

    def stock_moves_per_product(group: list[int]) -> float:
        return sum(len(truth.change_ticks(p, "stock", 1, 7 * DAY)) for p in group) / len(group)

    assert reprices_per_product(active) > 3 * reprices_per_product(quiet)
    assert stock_moves_per_product(active) > 3 * stock_moves_per_product(quiet)


def test_served_bodies_change_exactly_on_the_ground_truth_ticks(
    catalogue: UzumCatalogue, truth: GroundTruth
) -> None:
    ids = initial_ids(catalogue)
    busiest = sorted(ids, key=truth.orders_per_day, reverse=True)[:12]
    sample = busiest + ids[::400]
    window = range(1, 8 * HOUR)
    seen: dict[ChangeKind, int] = dict.fromkeys(CHANGE_KINDS, 0)
    for pid in sample:
        states = {t: observed(catalogue, pid, t) for t in range(0, window.stop)}
        for kind in CHANGE_KINDS:
            expected = [
                t
                for t in truth.change_ticks(pid, kind, window.start, window.stop)
                if states[t - 1] is not None and states[t] is not None
            ]
            actual = []
            for t in window:
                before, now = states[t - 1], states[t]
                if before is not None and now is not None and before[kind] != now[kind]:
                    actual.append(t)
            assert actual == expected, (pid, kind)
            seen[kind] += len(actual)
        for t, state in states.items():
            assert (state is not None) == truth.exists(pid, t), (pid, t)
    assert min(seen.values()) >= 10, seen


#: what moves in a body with the clock rather than with the product: the envelope's time, the
#: delivery promise (both per tick) and the seller's counters (per simulated hour)
CLOCK_FIELDS = {
    ".timestamp",
    ".payload.data.skuList[].stock.deliveryDate",
    ".payload.data.skuList[].stock.deliveryTitle",
    ".payload.seo.skuList[].stock.deliveryDate",
    ".payload.seo.skuList[].stock.deliveryTitle",
    ".payload.data.seller.orders",
    ".payload.data.seller.reviews",
}


def test_nothing_else_in_a_body_changes_between_truth_changes(
    catalogue: UzumCatalogue, truth: GroundTruth
) -> None:
    pairs = ((0, 1), (59, 60), (0, 2 * HOUR), (DAY, DAY + 1), (DAY, 2 * DAY + 1))
    compared = 0
    for pid in initial_ids(catalogue)[::100]:
        for start, end in pairs:
            if truth.presence_changes(pid, start, end + 1) or not truth.exists(pid, start):
                continue
            if any(truth.change_ticks(pid, kind, start + 1, end + 1) for kind in CHANGE_KINDS):
                continue
            before, after = (
                leaves(json.loads(catalogue.product_bytes(pid, t) or b"", strict=False))
                for t in (start, end)
            )
            moved = {k.split("#")[0] for k in after if after[k] != before.get(k)}
            assert after.keys() == before.keys() and moved <= CLOCK_FIELDS, (pid, moved)
            compared += 1
    assert compared >= 50, compared


def test_last_change_agrees_with_the_change_list(truth: GroundTruth) -> None:
    for pid in range(1, 400):
        for kind in CHANGE_KINDS:
            ticks = truth.change_ticks(pid, kind, 0, 3 * DAY)
            for probe in (0, 1, 77, DAY, 3 * DAY - 1):
                before = [t for t in ticks if t <= probe]
                assert truth.last_change(pid, kind, probe) == (before[-1] if before else None)


def test_change_rate_is_the_mean_of_the_change_list(truth: GroundTruth) -> None:
    """A policy bound ranks by the true rates: they must be what the changes average to."""
    span = 60 * DAY
    for kind in CHANGE_KINDS:
        rated = [pid for pid in range(1, 2000) if truth.change_rate(pid, kind) * span >= 20]
        assert len(rated) >= 5, kind
        for pid in rated:
            # a jittered periodic train: its count in a window is rate × length ± 1, less the
            # few events that share a tick with the previous one
            expected = truth.change_rate(pid, kind) * span
            n = len(truth.change_ticks(pid, kind, 1, span + 1))
            assert expected * 0.98 - 2 <= n <= expected + 2, (pid, kind)
    missing = next(pid for pid in range(1, 10_000) if truth.created(pid) is None)
    assert truth.change_rate(missing, "price") == 0.0


# --- the catalogue's life -------------------------------------------------------------------


def test_new_products_appear_above_the_frontier(
    catalogue: UzumCatalogue, truth: GroundTruth
) -> None:
    assert truth.frontier(0) == N_IDS
    assert truth.frontier(DAY) - N_IDS == pytest.approx(24 * REALISM.new_ids_per_hour, rel=0.2)
    created = {
        pid: tick
        for pid in range(N_IDS + 1, truth.frontier(DAY) + 1)
        if (tick := truth.created(pid)) is not None
    }
    assert len(created) >= 60
    assert list(created.values()) == sorted(created.values())  # ids are handed out in order
    for pid, tick in list(created.items())[:25]:
        assert 0 < tick <= DAY and truth.frontier(tick) >= pid
        assert catalogue.product_bytes(pid, tick - 1) is None
        assert catalogue.product_bytes(pid, tick) is not None
        first = observed(catalogue, pid, tick)
        assert first is not None and first["orders"] == 0  # a new card has sold nothing yet


async def test_delisted_products_answer_a_miss_and_come_back(
    catalogue: UzumCatalogue, truth: GroundTruth
) -> None:
    sim = UzumSimulator(catalogue)
    round_trips = 0
    for pid in initial_ids(catalogue):
        flips = truth.presence_changes(pid, 1, 7 * DAY)
        gone = next((t for t, listed in flips if not listed), None)
        back = next((t for t, listed in flips if listed and gone is not None and t > gone), None)
        if gone is None or back is None:
            continue
        round_trips += 1
        status, body = sim.product_answer(pid, gone)
        assert status == 404 or b'"title"' not in body
        assert catalogue.expected(pid, back - 1) is None
        before, after = catalogue.expected(pid, gone - 1), catalogue.expected(pid, back)
        assert before is not None and after is not None and before.title == after.title
        assert sim.product_answer(pid, back)[0] == 200
        if round_trips == 20:
            break
    assert round_trips == 20
    assert sum(sim.missing.values()) == 20


def test_dead_ranges_never_hold_a_product(catalogue: UzumCatalogue, truth: GroundTruth) -> None:
    dead = [pid for pid in range(1, N_IDS + 1) if truth.dead(pid)]
    assert 0.05 < len(dead) / N_IDS < 0.3
    runs = sum(1 for i, pid in enumerate(dead) if i == 0 or dead[i - 1] != pid - 1)
    assert len(dead) / runs >= REALISM.dead_block_ids  # runs, not scattered ids
    for pid in dead:
        assert truth.created(pid) is None and not catalogue.exists(pid)
        assert truth.presence_changes(pid, 0, 7 * DAY) == []
    for pid in dead[:: len(dead) // 30]:
        assert all(catalogue.product_bytes(pid, t) is None for t in (0, 1, DAY, 7 * DAY))
    live = N_IDS - len(dead)
    hits = len(initial_ids(catalogue))
    assert hits / N_IDS == pytest.approx(catalogue.hit_rate, abs=0.08)
    assert hits / live > catalogue.hit_rate  # the misses gather in the dead ranges
