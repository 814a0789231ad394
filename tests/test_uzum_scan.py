"""Uzum scanning end to end in-process: simulator on aiohttp_server → fetcher → parser → writer →
real PostgreSQL, compared with the simulator's own catalogue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.simulator.faults import FaultProfile
from marketplaced.simulator.uzum import UzumCatalogue, UzumSimulator, build_uzum_app
from tests.helpers.uzum import (
    expected_state,
    missing_ids,
    pipeline,
    scan_config,
    scan_range,
    scan_range_with_stats,
    stored_state,
)

ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def sim_server(aiohttp_server: ServerFactory) -> tuple[UzumSimulator, str]:
    sim = UzumSimulator(UzumCatalogue(seed=7, n_ids=1500))
    server = await aiohttp_server(build_uzum_app(sim))
    return sim, str(server.make_url("")).rstrip("/")


async def test_range_scan_equals_catalogue_and_second_pass_writes_only_changes(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    cfg = scan_config(url)
    ids = range(1, 601)
    scanner = await scan_range(cfg, pool, 1, 600)
    expected = expected_state(sim.catalogue, ids, sim.tick)
    assert await stored_state(pool, ids) == expected
    assert await missing_ids(pool, ids) == set(ids) - set(expected)
    assert scanner.stats.found == len(expected)
    assert scanner.stats.missing == 600 - len(expected)
    assert 0.6 < len(expected) / 600 < 0.8
    sellers = {sim.catalogue.expected(p, sim.tick).seller_id for p in expected}  # type: ignore[union-attr]
    assert {r["id"] for r in await pool.fetch("SELECT id FROM sellers")} == sellers
    history_before = await pool.fetchval("SELECT count(*) FROM price_history")
    assert history_before == sum(len(v[-1]) for v in expected.values())  # type: ignore[arg-type]

    sim.advance(3)
    await scan_range(cfg, pool, 1, 600)
    later = expected_state(sim.catalogue, ids, sim.tick)
    assert await stored_state(pool, ids) == later
    changed = 0
    for pid, state in later.items():
        old = {s[0]: s[1:4] for s in expected[pid][-1]}  # type: ignore[attr-defined]
        changed += sum(1 for s in state[-1] if old.get(s[0]) != s[1:4])  # type: ignore[attr-defined]
    assert changed > 0
    assert await pool.fetchval("SELECT count(*) FROM price_history") == history_before + changed
    stats_changed = sum(1 for pid in later if later[pid][5:8] != expected[pid][5:8])
    assert (
        await pool.fetchval("SELECT count(*) FROM product_stats_history")
        == len(expected) + stats_changed
    )


@pytest.mark.parametrize(
    "kind",
    [
        "429",
        "429noretry",
        "500",
        "502",
        "503",
        "403",
        "reset",
        "truncated",
        "html",
        "empty",
        "slow",
        "ctrlchars",
    ],
)
async def test_each_fault_kind_is_survived_and_counted(
    kind: str, sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    # ids 101..110 fail once each, then heal: every id must still be stored correctly
    # aiohttp silently re-sends a GET once on a dropped keep-alive connection, so a reset must
    # happen twice in a row before the fetcher itself sees it
    times = 2 if kind == "reset" else 1
    sim.faults = FaultProfile.parse(f"{kind}@101-110*{times}")
    # "slow" answers after 2 s: a 1 s timeout turns it into a retried transport error
    cfg = scan_config(url, timeout_s=1.0, breaker_cooldown_s=0.5)
    ids = range(95, 116)
    scanner, host = await scan_range_with_stats(cfg, pool, 95, 115)
    expected = expected_state(sim.catalogue, ids, sim.tick)
    if kind == "empty":
        # an empty 200 body is asked again before it is believed: the one empty answer each
        # id got is no miss, and the products are stored in this very pass
        assert scanner.stats.miss_forms["empty_body"] == 0
        assert await missing_ids(pool, ids) == set(ids) - set(expected)
    assert await stored_state(pool, ids) == expected
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0
    counted = {
        "429": "rate_limited",
        "429noretry": "rate_limited",
        "500": "http_5xx",
        "502": "http_5xx",
        "503": "http_5xx",
        "403": "block_page",
        "reset": "transport",
        "truncated": "invalid_json",
        "html": "block_page",
        "slow": "timeout",
    }
    if kind in counted:
        # a 403 comes with an nginx HTML page: the fetcher counts it as a block page
        assert host.outcomes.get(counted[kind], 0) >= 1, host.outcomes
        assert host.retries >= 1


async def test_persistent_failures_go_to_dead_letters_and_scan_goes_on(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    sim.faults = FaultProfile.parse("500@20-24")
    cfg = scan_config(url, max_retries=1, breaker_cooldown_s=0.5)
    scanner = await scan_range(cfg, pool, 1, 60)
    dead = {
        r["entity_id"]: r["kind"]
        for r in await pool.fetch("SELECT entity_id, kind FROM dead_letters")
    }
    assert dead == dict.fromkeys(range(20, 25), "http_status")
    assert scanner.stats.errors["http_status"] == 5
    ids = [i for i in range(1, 61) if not 20 <= i <= 24]
    expected = {
        k: v for k, v in expected_state(sim.catalogue, range(1, 61), sim.tick).items() if k in ids
    }
    assert await stored_state(pool, range(1, 61)) == expected
    cur = await pool.fetchval("SELECT position FROM scan_cursors WHERE scanner = 'uzum.download'")
    assert cur == 60  # the cursor passed the dead letters


async def test_rate_limiting_429_slows_the_fetcher(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    sim.faults = FaultProfile.parse("429noretry@1-400*1")
    cfg = scan_config(url, rps=200.0, concurrency=8)
    _, host = await scan_range_with_stats(cfg, pool, 1, 40)
    assert host.outcomes["rate_limited"] >= 1
    assert host.rate_current < 200.0  # multiplicative decrease happened
    assert await pool.fetchval("SELECT count(*) FROM products") == len(
        expected_state(sim.catalogue, range(1, 41), sim.tick)
    )


async def test_continuous_scanner_discovers_frontier_and_resumes(
    aiohttp_server: ServerFactory, pool: asyncpg.Pool
) -> None:
    sim = UzumSimulator(UzumCatalogue(seed=3, n_ids=700))
    server = await aiohttp_server(build_uzum_app(sim))
    url = str(server.make_url("")).rstrip("/")
    cfg = scan_config(url, frontier_misses=200, max_id=100_000, cycle_pause_s=30.0)
    highest = sim.catalogue.highest_id
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(cfg.section(UzumConfig), ScanDeps(pool, fetcher, writer))
        import asyncio

        task = asyncio.create_task(scanner.run())
        for _ in range(400):
            await asyncio.sleep(0.05)
            if scanner.stats.state == "idle":
                break
        assert scanner.stats.state == "idle"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    row: Any = await pool.fetchrow("SELECT * FROM scan_cursors WHERE scanner = 'uzum.products'")
    assert row["highest_seen"] == highest
    assert row["frontier"] == highest + 200
    assert row["cycle"] == 1 and row["position"] == highest + 200
    assert await pool.fetchval("SELECT count(*) FROM products") == len(
        expected_state(sim.catalogue, range(1, highest + 1), sim.tick)
    )


async def test_a_cycle_with_more_workers_than_frontier_misses_reaches_the_frontier(
    aiohttp_server: ServerFactory, pool: asyncpg.Pool
) -> None:
    """With uzum.concurrency ≥ frontier_misses every id up to the frontier is handed out before
    any result raises the highest id seen; the cycle used to end there (after 5 ids here)
    instead of waiting for the ids in flight and following the frontier they move."""
    sim = UzumSimulator(UzumCatalogue(seed=3, n_ids=300))
    server = await aiohttp_server(build_uzum_app(sim))
    url = str(server.make_url("")).rstrip("/")
    cfg = scan_config(url, mode="roundrobin", frontier_misses=5, concurrency=16, max_id=10_000)
    products = set(expected_state(sim.catalogue, range(1, 301), sim.tick))
    # where an id-by-id scan stops: the last product before the first run of 5 misses
    highest = 0
    pid = 1
    while pid <= highest + 5:
        highest = pid if pid in products else highest
        pid += 1
    assert highest > 20  # the catalogue has products past the first window
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(
            cfg.section(UzumConfig),
            ScanDeps(pool, fetcher, writer),
            plan=ScanPlan(continuous=False),
        )
        await scanner.run()
    assert scanner.stats.highest_seen == highest
    # the frontier follows the last run of misses: ids up to 5 above the last product seen
    ids = range(1, highest + 1)
    expected = expected_state(sim.catalogue, ids, sim.tick)
    assert await stored_state(pool, ids) == expected
    assert await missing_ids(pool, range(highest + 1, highest + 6)) == set(
        range(highest + 1, highest + 6)
    )


async def test_two_shards_split_the_id_space_against_one_database(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    import asyncio

    sim, url = sim_server
    cfg = scan_config(url)
    ids = range(1, 301)

    async def shard(k: int) -> UzumScanner:
        async with pipeline(cfg, pool) as (fetcher, writer):
            scanner = UzumScanner(
                cfg.section(UzumConfig),
                ScanDeps(pool, fetcher, writer),
                plan=ScanPlan(start_id=1, stop_id=300, continuous=False),
                shard=(k, 2),
            )
            await scanner.run()
        return scanner

    first, second = await asyncio.gather(shard(1), shard(2))
    assert (first.name, second.name) == ("uzum.download#1/2", "uzum.download#2/2")
    # each id fetched by exactly one shard, together all of them
    assert first.stats.done + second.stats.done == 300
    # one request per id; an id answering with an empty body is asked three times
    empty = [
        i for i in ids if not sim.catalogue.exists(i) and sim.injector.missing_form(i) == "empty"
    ]
    assert empty and sim.requests["product"] == 300 + 2 * len(empty)
    assert await stored_state(pool, ids) == expected_state(sim.catalogue, ids, sim.tick)
    cursors = dict(await pool.fetch("SELECT scanner, position FROM scan_cursors"))
    # shard k/n takes ids with id % n == k - 1: 1/2 the even ids (up to 300), 2/2 the odd
    assert cursors == {"uzum.download#1/2": 300, "uzum.download#2/2": 299}


async def test_dead_letters_are_retried_later_and_resolved(
    aiohttp_server: ServerFactory, pool: asyncpg.Pool
) -> None:
    import asyncio

    sim = UzumSimulator(UzumCatalogue(seed=3, n_ids=200), FaultProfile.parse("500@5-7"))
    server = await aiohttp_server(build_uzum_app(sim))
    url = str(server.make_url("")).rstrip("/")
    cfg = scan_config(
        url, frontier_misses=50, max_retries=0, cycle_pause_s=0.0, breaker_cooldown_s=0.2
    )

    async def until(sql: str, want: int) -> None:
        for _ in range(200):
            if await pool.fetchval(sql) == want:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{sql} never became {want}")

    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(cfg.section(UzumConfig), ScanDeps(pool, fetcher, writer))
        task = asyncio.create_task(scanner.run())
        try:
            await until("SELECT count(*) FROM dead_letters", 3)
            sim.faults = FaultProfile.parse("none")  # the upstream heals
            # an hour passes: the dead letters become due for their retry
            await pool.execute("UPDATE dead_letters SET last_failed_at = now() - interval '1 hour'")
            await until("SELECT count(*) FROM dead_letters", 0)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    want = {i for i in (5, 6, 7) if sim.catalogue.exists(i)}
    got = {r["id"] for r in await pool.fetch("SELECT id FROM products WHERE id BETWEEN 5 AND 7")}
    assert got == want


async def test_unparsable_payload_is_kept_and_recorded_scan_goes_on(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool, tmp_path: Any
) -> None:
    from marketplaced import archive as archive_mod

    sim, url = sim_server
    sim.faults = FaultProfile.parse("badshape@30-32")
    cfg = scan_config(url)
    archive = archive_mod.Archive(tmp_path, "uzum", "product", batch_records=10, max_bytes=10**9)
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(
            cfg.section(UzumConfig),
            ScanDeps(pool, fetcher, writer, archive),
            plan=ScanPlan(start_id=1, stop_id=60, continuous=False),
        )
        await scanner.run()
    assert scanner.stats.parse_failures == 3
    rows = await pool.fetch(
        "SELECT entity_id, reason, archive_ref FROM parse_failures ORDER BY entity_id"
    )
    assert [r["entity_id"] for r in rows] == ["30", "31", "32"]
    assert all("payload.data.id" in r["reason"] for r in rows), rows
    # the raw body the parser could not read is in the archive, where the reference points
    kept = dict(archive_mod.iter_records(tmp_path, "uzum", "product"))
    assert '"skuList":"oops"' in kept[rows[0]["archive_ref"]].body.replace(" ", "")
    # everything else of the range was stored
    others = [i for i in range(1, 61) if not 30 <= i <= 32]
    want = {
        k: v
        for k, v in expected_state(sim.catalogue, range(1, 61), sim.tick).items()
        if k in others
    }
    assert await stored_state(pool, range(1, 61)) == want
