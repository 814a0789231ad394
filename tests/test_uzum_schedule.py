"""The adaptive revisit schedule (uzum.mode = "adaptive"): intervals follow each product's
changes within bounds (a first visit is no change), claims lease disjoint ids to several scanners
on one database in the order of value (the frontier's reserved share, then ids near their
maximum age, then the changes a visit catches in time), expired leases come back, an
uncommitted visit leaves the schedule as it was, and the adaptive scanner stores the simulator's
catalogue exactly. Real PostgreSQL and the simulator."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from marketplaced.config import Config
from marketplaced.http import Classify, Decode, Fetcher, JsonFetcher, JsonResponse
from marketplaced.platforms import uzum
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzum import claims, schedule
from marketplaced.platforms.uzum.adaptive import AdaptiveScanner
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.records import ProductSnapshot
from marketplaced.platforms.uzum.scanner import ScanPlan
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.simulator.uzum import UzumCatalogue, UzumSimulator, build_uzum_app
from marketplaced.writer import Writer
from tests.helpers.uzum import expected_state, pipeline, scan_config, stored_state
from tests.helpers.writer import renumbered, snapshot, with_price

ServerFactory = Callable[..., Awaitable[TestServer]]
T0 = datetime(2026, 3, 1, tzinfo=UTC)
ONE_SHOT = ScanPlan(continuous=False)


@pytest.fixture
async def sim_server(aiohttp_server: ServerFactory) -> tuple[UzumSimulator, str]:
    sim = UzumSimulator(UzumCatalogue(seed=7, n_ids=400))
    server = await aiohttp_server(build_uzum_app(sim))
    return sim, str(server.make_url("")).rstrip("/")


def adaptive_config(url: str) -> Config:
    return scan_config(url, mode="adaptive", frontier_window=150, claim_max=60)


class Recording:
    """The fetcher as a scanner sees it, noting the product id of every request."""

    def __init__(self, inner: JsonFetcher) -> None:
        self.inner = inner
        self.ids: Counter[int] = Counter()

    async def get_json(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
        decode: Decode | None = None,
    ) -> JsonResponse:
        self.ids[int(url.rsplit("/", 1)[1])] += 1
        return await self.inner.get_json(url, headers=headers, classify=classify, decode=decode)


async def visit(conn: asyncpg.Connection, snap: ProductSnapshot, now: datetime) -> float:
    """One visit of `snap` written as the writer writes a batch; the next interval (s)."""
    async with conn.transaction():
        await UzumSink().write(conn, {ProductSnapshot: [snap]}, now)
    due = await conn.fetchval(
        "SELECT next_due FROM uzum_schedule WHERE product_id = $1", snap.product.id
    )
    return float((due - now).total_seconds())


async def test_the_interval_shrinks_after_a_change_and_grows_while_unchanged(
    pool: asyncpg.Pool,
) -> None:
    schedule.use(schedule.Policy())
    policy = schedule.active()
    base = snapshot(2114919)
    await pool.execute("INSERT INTO uzum_schedule (product_id, next_due) VALUES (2114919, $1)", T0)
    async with pool.acquire() as conn:
        first = await visit(conn, base, T0)  # a new product: no change yet, the prior decides
        assert first == schedule.interval(policy, schedule.prior_rate_h(base.product.orders_amount))
        unchanged = [await visit(conn, base, T0 + timedelta(days=d)) for d in (1, 2, 3)]
        assert unchanged == sorted(unchanged) and len(set(unchanged)) == 3
        assert unchanged[0] > first
        changed = await visit(conn, with_price(base, 3, 12345), T0 + timedelta(days=4))
        assert changed < unchanged[-1]
        at = T0 + timedelta(days=4)
        for _ in range(30):
            at += timedelta(days=7)
            longest = await visit(conn, with_price(base, 3, 12345), at)
        assert longest == policy.max_interval_s
    assert await pool.fetchval("SELECT lease_until FROM uzum_schedule") is None


async def test_a_first_visit_is_no_change_and_busy_products_start_sooner(
    pool: asyncpg.Pool,
) -> None:
    """Counting the first visit of a product as a change made every new product look hot (the
    shortest interval), so a first pass left a backlog that starved the frontier."""
    schedule.use(schedule.Policy())
    policy = schedule.active()
    quiet = snapshot(2114919)
    quiet = dataclasses.replace(quiet, product=dataclasses.replace(quiet.product, orders_amount=0))
    busy = dataclasses.replace(
        quiet, product=dataclasses.replace(quiet.product, orders_amount=9000)
    )
    await pool.execute("INSERT INTO uzum_schedule (product_id, next_due) VALUES (2114919, $1)", T0)
    async with pool.acquire() as conn:
        first_quiet = await visit(conn, quiet, T0)
        row = await conn.fetchrow("SELECT changes, span_h FROM uzum_schedule")
        assert (row["changes"], row["span_h"]) == (0.0, 0.0)
        # the same product first seen with a busy order counter
        await conn.execute("UPDATE uzum_schedule SET checked_at = NULL")
        first_busy = await visit(conn, busy, T0 + timedelta(hours=1))
    assert first_quiet > policy.min_interval_s
    assert policy.min_interval_s <= first_busy < first_quiet / 10


async def test_the_prior_takes_the_order_counter_over_order_age(pool: asyncpg.Pool) -> None:
    """A product's first interval comes from its order counter spread over `order_age_s`: a
    world whose time runs faster (a benchmark's scaled clock) sees its products as busy as they
    are. (With a year fixed in wall time, a scaled world's products all looked 365×
    quieter than they were and were planned at the longest interval.)"""
    snap = snapshot(2114919)
    snap = dataclasses.replace(snap, product=dataclasses.replace(snap.product, orders_amount=50))
    firsts = []
    async with pool.acquire() as conn:
        for age_s in (365 * 86400.0, 73 * 86400.0):
            schedule.use(dataclasses.replace(schedule.Policy(), order_age_s=age_s))
            await conn.execute("DELETE FROM uzum_schedule")
            await conn.execute(
                "INSERT INTO uzum_schedule (product_id, next_due) VALUES (2114919, $1)", T0
            )
            firsts.append(await visit(conn, snap, T0))
            rate = await conn.fetchval("SELECT rate_h FROM uzum_schedule")
            assert rate == pytest.approx(2 * 50 / (age_s / 3600), rel=1e-6)
    schedule.use(schedule.Policy())
    year, fifth = firsts
    # neither clamped: the interval shrinks with the age as the rate grows
    assert schedule.Policy().min_interval_s < fifth < year < schedule.Policy().max_interval_s
    assert year == pytest.approx(5 * fifth, rel=1e-6)


async def test_misses_back_off_and_the_frontier_is_probed_again_soon(pool: asyncpg.Pool) -> None:
    from marketplaced.platforms.uzum.records import Missing

    schedule.use(schedule.Policy())
    policy = schedule.active()
    await pool.execute(
        "INSERT INTO uzum_schedule (product_id, next_due) VALUES (10, $1), (5000000, $1)", T0
    )
    await pool.execute(
        "INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome) "
        "VALUES (20, $1, $1, 'changed')",
        T0,
    )
    waits: list[tuple[float, float]] = []
    async with pool.acquire() as conn:
        for n in range(3):
            now = T0 + timedelta(days=n)
            async with conn.transaction():
                miss = [Missing(10, "not_found"), Missing(5000000, "not_found")]
                await UzumSink().write(conn, {Missing: miss}, now)
            rows = await conn.fetch(
                "SELECT next_due FROM uzum_schedule ORDER BY product_id", timeout=5
            )
            waits.append(tuple((r["next_due"] - now).total_seconds() for r in rows))  # type: ignore[arg-type]
    below = [w[0] for w in waits]
    assert below == [policy.miss_interval_s * 2**n for n in range(3)]
    assert all(w[1] == policy.frontier_interval_s for w in waits)


async def test_misses_the_frontier_passed_back_off_as_misses_below_it(pool: asyncpg.Pool) -> None:
    """An id above the highest product that answers nothing is probed again within minutes: it
    may be a product not listed yet. Once a product is found above it, it is an id below the
    frontier like any other and waits its miss back-off from its last visit. Before, it kept
    the frontier's short wait, so a first pass over the id space visited every id that held
    no product twice, the second time at the top of the backlog (its wait implied a high
    rate)."""
    from marketplaced.platforms.uzum.records import Missing

    schedule.use(schedule.Policy())
    policy = schedule.active()
    base = snapshot(2114919)
    await pool.execute(
        "INSERT INTO uzum_schedule (product_id, next_due) "
        "SELECT g, $1 FROM generate_series(1, 12) g",
        T0,
    )
    async with pool.acquire() as conn:
        async with conn.transaction():
            await UzumSink().write(conn, {ProductSnapshot: [renumbered(base, 3)]}, T0)
        async with conn.transaction():
            await UzumSink().write(conn, {Missing: [Missing(5, "not_found")]}, T0)
        # above the highest product (3): probed again soon
        due = await conn.fetchval("SELECT next_due FROM uzum_schedule WHERE product_id = 5")
        assert (due - T0).total_seconds() == policy.frontier_interval_s
        later = T0 + timedelta(seconds=60)
        async with conn.transaction():
            await UzumSink().write(conn, {ProductSnapshot: [renumbered(base, 9)]}, later)
        row = await conn.fetchrow("SELECT next_due, rate_h FROM uzum_schedule WHERE product_id = 5")
    assert (row["next_due"] - T0).total_seconds() == policy.miss_interval_s
    implied, wait = schedule.missed(policy, schedule.State(None, 0.0, 0.0, 0), T0, frontier=False)
    assert wait == policy.miss_interval_s
    assert row["rate_h"] == pytest.approx(implied.rate_h, rel=1e-6)


async def test_an_expired_lease_is_claimed_again(pool: asyncpg.Pool) -> None:
    cfg = scan_config("http://127.0.0.1:1").section(UzumConfig)
    await pool.execute(
        "INSERT INTO uzum_schedule (product_id, next_due) "
        "SELECT g, $1::timestamptz - make_interval(secs => g) FROM generate_series(1, 10) g",
        T0,
    )
    first = await claims.claim(pool, cfg, 4, 60.0, T0, highest=10)
    assert first == [10, 9, 8, 7]  # never visited: most overdue first
    again = await claims.claim(pool, cfg, 4, 60.0, T0 + timedelta(seconds=30), highest=10)
    assert again == [6, 5, 4, 3]
    later = await claims.claim(pool, cfg, 10, 60.0, T0 + timedelta(seconds=61), highest=10)
    assert later == [10, 9, 8, 7, 2, 1]  # the first lease expired, the second not yet


async def test_a_backlog_is_claimed_frontier_share_first_then_by_value(
    pool: asyncpg.Pool,
) -> None:
    """More is due than one claim takes: the frontier gets its reserved share although its ids
    are the least overdue, an id near its maximum age comes next, then the busiest products;
    a quiet product long overdue waits. (Claiming most overdue first starved the frontier.)"""
    cfg = dataclasses.replace(
        scan_config("http://127.0.0.1:1").section(UzumConfig),
        frontier_share=0.2,
        max_age_s=30 * 86400.0,
        fresh_within_s=3600.0,
    )
    hour = timedelta(hours=1)
    rows = [
        # (id, checked hours ago, due hours ago, rate per hour)
        *((pid, 30.0, 20.0, 0.001) for pid in range(1, 21)),  # quiet, long overdue
        (21, 28 * 24.0, 1.0, 0.001),  # quiet, last visited 28 days ago (max age 30)
        (22, 1.0, 0.0, 0.5),  # busy, just due
        (23, 2.0, 1.0, 0.3),  # busy
        *((pid, 0.1, 0.0, 0.0) for pid in range(101, 106)),  # the frontier, just due
    ]
    await pool.executemany(
        "INSERT INTO uzum_schedule (product_id, checked_at, next_due, rate_h) "
        "VALUES ($1, $2, $3, $4)",
        [(pid, T0 - ago * hour, T0 - due * hour, rate) for pid, ago, due, rate in rows],
    )
    got = await claims.claim(pool, cfg, 10, 60.0, T0, highest=100)
    assert set(got[:2]) <= set(range(101, 106))
    assert got[2:5] == [21, 22, 23]
    assert len(got) == 10 and set(got[5:]) <= set(range(1, 21))
    # with no backlog of the frontier, its share goes to the rest
    rest = await claims.claim(pool, cfg, 30, 60.0, T0, highest=100)
    assert sorted(rest) == sorted((set(range(1, 21)) | set(range(101, 106))) - set(got))


def test_the_leveling_rate_is_the_most_ids_due_by_any_horizon_over_that_horizon() -> None:
    # buckets of 60 s: 10 ids reach their guard within a minute, 100 more 9–10 minutes ahead
    # → max(10 / 60, 110 / 600) = 0.1833 ids/s; ids already past it (bucket < 0) are urgent
    # anyway (claims step 2) and not counted
    assert claims.level_rate({0: 10, 9: 100, -3: 50}, 60.0) == pytest.approx(110 / 600)
    # one crowd far ahead is spread over all the time before it: 600 ids 50 minutes ahead
    assert claims.level_rate({49: 600}, 60.0) == pytest.approx(600 / 3000)
    assert claims.level_rate({}, 60.0) == 0.0


async def test_ids_checked_longest_ago_are_claimed_first_within_the_leveling_share(
    pool: asyncpg.Pool,
) -> None:
    """A crowd of ids checked together (a first pass) reaches the maximum age together; a
    share of each claim takes the oldest early, oldest first, if older than `level_from` of
    the maximum age — due or not — and the rest of the claim is claimed as before. The load
    ahead counts the ids by the time left to their guard. (Left to the guard, the crowd took
    the whole budget for hours while busy products waited.)"""
    cfg = dataclasses.replace(
        scan_config("http://127.0.0.1:1").section(UzumConfig),
        frontier_share=0.0,
        max_age_s=100 * 3600.0,
        level_from=0.5,
    )
    hour = timedelta(hours=1)
    rows = [
        # (id, checked hours ago, due in hours, rate per hour)
        (1, 70.0, 10.0, 0.001),  # old (> 50 h), not due
        (2, 80.0, 5.0, 0.001),  # older
        (3, 60.0, 20.0, 0.001),  # old
        (4, 40.0, 10.0, 0.001),  # not old enough
        *((pid, 1.0, -0.5, 0.5) for pid in range(10, 16)),  # busy, due
    ]
    await pool.executemany(
        "INSERT INTO uzum_schedule (product_id, checked_at, next_due, rate_h) "
        "VALUES ($1, $2, $3, $4)",
        [(pid, T0 - ago * hour, T0 + due * hour, rate) for pid, ago, due, rate in rows],
    )
    # guard = 90 h; buckets of (0.9 - 0.5) × 100 h / 48 = 0.8333 h: id 2's guard is 10 h
    # ahead (bucket 12), id 1's 20 h (24), id 3's 30 h (36); id 4 is younger than the cut
    width = claims.level_width_s(cfg)
    assert width == pytest.approx(0.4 * 100 * 3600 / claims.LEVEL_BUCKETS)
    rate = await claims.load_ahead(pool, cfg, T0)
    assert rate == pytest.approx(max(1 / (13 * width), 2 / (25 * width), 3 / (37 * width)))
    got = await claims.claim(pool, cfg, 5, 60.0, T0, highest=20, oldest=2)
    assert got[:2] == [2, 1]
    assert set(got[2:]) <= set(range(10, 16)) and len(got) == 5
    # leveling off: only what is due
    off = dataclasses.replace(cfg, level_from=0.0)
    assert await claims.load_ahead(pool, off, T0) == 0.0
    rest = await claims.claim(pool, off, 10, 60.0, T0, highest=20, oldest=3)
    assert sorted(rest) == sorted(set(range(10, 16)) - set(got))


async def test_a_claim_with_little_due_is_filled_ahead_with_the_most_valuable_ids(
    pool: asyncpg.Pool,
) -> None:
    """Less is due than the claim takes: with `ahead` the rest are the ids of highest change
    rate, except those checked within the shortest planned revisit, one leased elsewhere and
    ids whose last visit found no product (the frontier's); without it the claim holds only
    what is due. (Claims of only the due ids left the budget idle; filling them in next-due
    order spent it on quiet products that happened to be due soonest.)"""
    cfg = dataclasses.replace(
        scan_config("http://127.0.0.1:1").section(UzumConfig),
        min_interval_s=3000.0,
        fresh_within_s=3600.0,
        frontier_share=0.0,
    )
    minute = timedelta(minutes=1)
    rows = [
        # (id, checked minutes ago, due in minutes, rate per hour)
        (1, 120.0, -5.0, 0.01),
        (2, 120.0, -1.0, 0.001),
        (3, 600.0, 1.0, 0.002),  # quiet, due soonest: not worth a visit ahead
        (4, 600.0, 2.0, 0.003),  # quiet
        (5, 70.0, 300.0, 0.8),  # busy, planned late (its estimate said so): the most valuable
        (6, 90.0, 200.0, 0.5),  # busy
        (7, 30.0, 20.0, 2.0),  # the busiest, but checked half an hour ago
        (8, 60.0, 10.0, 1.0),  # leased by another daemon, below
        (9, 240.0, 600.0, 0.2),
        (11, 4.0, 1.0, 1.26),  # the frontier (highest known product: 10), probed 4 min ago
        (12, 600.0, 300.0, 1.5),  # no product at the last visit: keeps to its back-off
    ]
    await pool.executemany(
        "INSERT INTO uzum_schedule (product_id, checked_at, next_due, rate_h) "
        "VALUES ($1, $2, $3, $4)",
        [(pid, T0 - ago * minute, T0 + due * minute, rate) for pid, ago, due, rate in rows],
    )
    await pool.execute(
        "UPDATE uzum_schedule SET lease_until = $1 WHERE product_id = 8", T0 + 10 * minute
    )
    await pool.execute("UPDATE uzum_schedule SET misses = 1 WHERE product_id IN (11, 12)")
    due_only = await claims.claim(pool, cfg, 5, 60.0, T0, highest=10)
    assert sorted(due_only) == [1, 2]
    await pool.execute("UPDATE uzum_schedule SET lease_until = NULL WHERE product_id <> 8")
    got = await claims.claim(pool, cfg, 5, 60.0, T0, highest=10, ahead=True)
    assert got == [1, 2, 5, 6, 9]


async def test_a_continuous_scan_with_a_budget_visits_ahead_when_nothing_is_due(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    """Every id was checked a day ago and is due only tomorrow: the running scanner still
    spends its budget (all rates equal: on the ids due soonest), and its visits commit their
    next due times."""
    _sim, url = sim_server
    cfg = adaptive_config(url).with_values("uzum", rps=400.0, claim_interval_s=0.1)
    uz = cfg.section(UzumConfig)
    now = datetime.now(UTC)
    await pool.execute(
        "INSERT INTO uzum_schedule (product_id, checked_at, next_due) "
        "SELECT g, $1::timestamptz - interval '1 day', "
        "$1::timestamptz + interval '1 day' + make_interval(secs => g) "
        "FROM generate_series(1, 600) g",
        now,
    )
    async with pipeline(cfg, pool) as (fetcher, writer):
        rec = Recording(fetcher)
        scanner = AdaptiveScanner(uz, ScanDeps(pool, rec, writer))
        enough = asyncio.Event()
        stats = scanner.stats
        stats.on_tick = lambda: enough.set() if stats.found + stats.missing >= 120 else None
        task = asyncio.create_task(scanner.run())
        try:
            await asyncio.wait_for(enough.wait(), 60)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    # the soonest due first: next-due order is id order here, so the ids fetched are the
    # first ones without a gap (an id just checked is not taken ahead again)
    assert len(rec.ids) >= 120 and set(rec.ids) == set(range(1, max(rec.ids) + 1))
    checked = await pool.fetchval(
        "SELECT count(*) FROM uzum_schedule WHERE checked_at > $1", now - timedelta(minutes=1)
    )
    assert checked >= 100


def test_no_wait_is_planned_past_the_maximum_age_guard() -> None:
    """`max_interval_s` may equal `max_age_s` (quiet products stretch to the maximum age, so the
    budget goes to the active ones), yet no planned wait reaches the maximum age: a product's
    interval and a miss's back-off stop at `GUARD_SHARE` of it, where a claim takes the id before
    any other due one. (An interval of the whole maximum age put the visit past it by the claim's
    delay.)"""
    day = 86400.0
    policy = dataclasses.replace(
        schedule.Policy(), max_interval_s=30 * day, max_age_s=30 * day, miss_interval_s=day
    )
    longest = schedule.GUARD_SHARE * policy.max_age_s
    assert longest < policy.max_age_s
    st = schedule.State(T0 - timedelta(days=20), 0.0, 400.0, 0)
    _new, quiet = schedule.found(policy, st, False, T0, prior_h=1e-6)
    assert quiet == longest
    waits = []
    for _ in range(8):
        st, wait = schedule.missed(policy, st, T0, frontier=False)
        waits.append(wait)
    assert waits[:3] == [day, 2 * day, 4 * day] and max(waits) == longest
    # a busy product keeps its short interval, and the bounds still apply below the guard
    busy_st = schedule.State(T0 - timedelta(hours=1), 10.0, 5.0, 0)
    _new, busy = schedule.found(policy, busy_st, True, T0, prior_h=10.0)
    assert busy == policy.min_interval_s


async def test_the_claim_size_follows_the_request_budget() -> None:
    cfg = dataclasses.replace(
        scan_config("http://127.0.0.1:1").section(UzumConfig),
        rps=25.0,
        claim_interval_s=4.0,
        claim_max=5000,
    )
    deps = ScanDeps(None, None, None)  # type: ignore[arg-type]
    assert AdaptiveScanner(cfg, deps).claim_size() == 100
    assert AdaptiveScanner(dataclasses.replace(cfg, rps=0.0), deps).claim_size() == 5000
    assert AdaptiveScanner(dataclasses.replace(cfg, claim_max=30), deps).claim_size() == 30


async def test_adaptive_scan_stores_the_catalogue(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    cfg = adaptive_config(url)
    (built,) = uzum.build_scanners(cfg, ScanDeps(pool, None, None), None)  # type: ignore[arg-type]
    assert isinstance(built, AdaptiveScanner)
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = AdaptiveScanner(
            cfg.section(UzumConfig), ScanDeps(pool, fetcher, writer), plan=ONE_SHOT
        )
        await scanner.run()
    ids = range(1, 601)
    expected = expected_state(sim.catalogue, ids, sim.tick)
    assert expected and await stored_state(pool, ids) == expected
    highest = max(expected)
    # every id up to the frontier window above the highest product has a next visit
    assert await pool.fetchval("SELECT max(product_id) FROM uzum_schedule") == highest + 150
    assert await pool.fetchval("SELECT count(*) FROM uzum_schedule WHERE checked_at IS NULL") == 0


async def test_two_scanners_split_the_due_ids_without_fetching_any_twice(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    cfg = adaptive_config(url)

    async def one(fetched: list[Recording]) -> None:
        async with pipeline(cfg, pool) as (fetcher, writer):
            rec = Recording(fetcher)
            fetched.append(rec)
            scanner = AdaptiveScanner(
                cfg.section(UzumConfig), ScanDeps(pool, rec, writer), plan=ONE_SHOT
            )
            await scanner.run()

    recs: list[Recording] = []
    await asyncio.gather(one(recs), one(recs))
    a, b = (set(r.ids) for r in recs)
    assert a and b, "both scanners got work"
    assert not a & b
    expected = expected_state(sim.catalogue, range(1, 601), sim.tick)
    assert a | b == set(range(1, max(expected) + 151))
    assert await stored_state(pool, range(1, 601)) == expected


async def test_an_uncommitted_visit_leaves_the_schedule_unchanged(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    _sim, url = sim_server
    cfg = adaptive_config(url)
    await schedule.open_frontier(pool, cfg.section(UzumConfig), T0)
    before = await pool.fetch("SELECT product_id, next_due FROM uzum_schedule ORDER BY 1")
    # a writer that never commits: the process dies with the visits in its queue
    writer = Writer(pool, cfg.writer, [UzumSink()])
    async with Fetcher(uzum.policy(cfg), headers=uzum.headers(cfg)) as fetcher:
        scanner = AdaptiveScanner(
            cfg.section(UzumConfig), ScanDeps(pool, fetcher, writer), plan=ONE_SHOT
        )
        sixty = asyncio.Event()
        stats = scanner.stats
        stats.on_tick = lambda: sixty.set() if stats.found + stats.missing >= 60 else None
        task = asyncio.create_task(scanner.run())
        await asyncio.wait_for(sixty.wait(), 60)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert writer.depth >= 60
    after = await pool.fetch(
        "SELECT product_id, next_due, checked_at FROM uzum_schedule ORDER BY 1"
    )
    assert [(r["product_id"], r["next_due"]) for r in after] == [tuple(r) for r in before]
    assert all(r["checked_at"] is None for r in after)
    leased = await pool.fetchval("SELECT count(*) FROM uzum_schedule WHERE lease_until IS NOT NULL")
    # the claim being fetched and the next one waiting in the queue, plus the one the producer
    # may already be taking: at the 60th visit the first claim is done, a worker takes the
    # queued one and the producer refills the queue before the cancellation lands
    assert 60 <= leased <= 3 * 60
    # once the leases expire the same ids are due again, most overdue first
    uz = cfg.section(UzumConfig)
    later = datetime.now(UTC) + timedelta(seconds=uz.lease_s + 1)
    highest = await schedule.highest_known(pool)
    again = await claims.claim(pool, uz, 500, 60.0, later, highest=highest)
    assert len(again) == len(before)
