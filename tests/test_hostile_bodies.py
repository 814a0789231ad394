"""Hostile upstream bodies through the real pipeline: simulator → fetcher → archive → parser →
writer → PostgreSQL. One bad body costs one id (a parse failure or a dead letter, never the
scanner); undecodable bodies are archived and `process-raw` retries them; empty answers are
asked again and never turn a known product into a miss; failures that heal are resolved."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
import structlog
from aiohttp.test_utils import TestServer

from marketplaced import archive as archive_mod
from marketplaced.archive import Archive
from marketplaced.config import Config, DatabaseConfig
from marketplaced.http import decode_json
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.oneshot import download_uzum, process_raw_uzum
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.simulator.faults import DEEPNEST_LEVELS, FaultProfile
from marketplaced.simulator.uzum import UzumCatalogue, UzumSimulator, build_uzum_app
from tests.helpers.uzum import expected_state, missing_ids, pipeline, scan_config, stored_state

from .conftest import base_config

ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def sim_server(aiohttp_server: ServerFactory) -> tuple[UzumSimulator, str]:
    sim = UzumSimulator(UzumCatalogue(seed=11, n_ids=400))
    server = await aiohttp_server(build_uzum_app(sim))
    return sim, str(server.make_url("")).rstrip("/")


def fast(url: str, **uzum: object) -> Config:
    # retries without long backoff: the faults below are deliberate, not blips
    cfg = scan_config(url, max_retries=2, **uzum)
    return cfg


async def scan(
    cfg: Config,
    pool: asyncpg.Pool,
    start: int | None,
    stop: int | None,
    archive: Archive | None = None,
) -> UzumScanner:
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(
            cfg.section(UzumConfig),
            ScanDeps(pool, fetcher, writer, archive),
            plan=ScanPlan(start_id=start, stop_id=stop, continuous=False),
        )
        await scanner.run()
    return scanner


def archive_at(root: Path) -> Archive:
    return Archive(root, "uzum", "product", batch_records=10, max_bytes=10**9)


def present(sim: UzumSimulator, ids: range, n: int) -> list[int]:
    found = [i for i in ids if sim.catalogue.exists(i)]
    assert len(found) >= n
    return found[:n]


# -- item 5: any exception from decoding or parsing is one id's parse failure -----------------


def test_decode_json_turns_deep_nesting_into_value_error() -> None:
    body = b"[" * DEEPNEST_LEVELS + b"]" * DEEPNEST_LEVELS
    with pytest.raises(ValueError, match="nested too deep"):
        decode_json(body)


async def test_deeply_nested_body_is_a_parse_failure_and_the_scan_goes_on(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool, tmp_path: Path
) -> None:
    sim, url = sim_server
    bad = present(sim, range(20, 60), 1)[0]
    sim.faults = FaultProfile.parse(f"deepnest@{bad}")
    scanner = await scan(fast(url), pool, 1, 60, archive_at(tmp_path))

    assert scanner.stats.parse_failures == 1 and scanner.stats.state == "done"
    row = await pool.fetchrow("SELECT entity_id, reason, archive_ref FROM parse_failures")
    assert row is not None and row["entity_id"] == str(bad)
    assert "undecodable body" in row["reason"] and "nested too deep" in row["reason"]
    kept = dict(archive_mod.iter_records(tmp_path, "uzum", "product"))[row["archive_ref"]]
    assert kept.key == str(bad) and kept.undecodable is not None
    assert kept.body.count('{"parent":') == DEEPNEST_LEVELS
    want = {
        k: v for k, v in expected_state(sim.catalogue, range(1, 61), sim.tick).items() if k != bad
    }
    assert await stored_state(pool, range(1, 61)) == want


# -- item 8: undecodable bodies are archived and process-raw retries them ---------------------


def raw_config(db_cfg: DatabaseConfig, root: Path) -> Config:
    return base_config(
        database=dataclasses.asdict(db_cfg),
        archive={"enabled": True, "dir": str(root), "batch_records": 10},
        writer={"flush_interval_s": 0.01},
    )


async def test_undecodable_bodies_are_archived_and_process_raw_reports_them(
    sim_server: tuple[UzumSimulator, str],
    pool: asyncpg.Pool,
    fresh_db: DatabaseConfig,
    tmp_path: Path,
) -> None:
    sim, url = sim_server
    truncated, html = present(sim, range(60, 100), 2)
    sim.faults = FaultProfile.parse(f"truncated@{truncated};html@{html}")
    await scan(fast(url), pool, 60, 100, archive_at(tmp_path))

    kept = {rec.key: rec for _, rec in archive_mod.iter_records(tmp_path, "uzum", "product")}
    assert kept[str(truncated)].undecodable and "invalid JSON" in kept[str(truncated)].undecodable
    assert kept[str(html)].undecodable and "HTML" in kept[str(html)].undecodable
    assert "<html" in kept[str(html)].body
    whole = sim.catalogue.product_bytes(truncated, sim.tick)
    assert whole is not None and whole.decode().startswith(kept[str(truncated)].body)
    # the truncated body is the body's fault (a parse failure), the block page the host's
    assert await pool.fetchval("SELECT kind FROM dead_letters WHERE entity_id = $1", html)
    assert await pool.fetchval(
        "SELECT archive_ref FROM parse_failures WHERE entity_id = $1", str(truncated)
    )

    out = io.StringIO()
    result = await process_raw_uzum(raw_config(fresh_db, tmp_path), out=out)
    assert result.undecodable == 2 and result.parse_failures == 2
    reasons = {
        r["entity_id"]: r["reason"] for r in await pool.fetch("SELECT * FROM parse_failures")
    }
    assert "undecodable when received" in reasons[str(html)]
    assert "undecodable when received" in reasons[str(truncated)]


async def test_process_raw_recovers_an_undecodable_entry_that_decodes_now(
    sim_server: tuple[UzumSimulator, str],
    pool: asyncpg.Pool,
    fresh_db: DatabaseConfig,
    tmp_path: Path,
) -> None:
    sim, _ = sim_server
    pid = present(sim, range(100, 140), 1)[0]
    body = sim.catalogue.product_bytes(pid, sim.tick)
    assert body is not None
    # as if a decoder of an older version had refused it when it arrived
    archive = archive_at(tmp_path)
    archive.add(str(pid), 200, body, undecodable="invalid JSON (older decoder)")
    await archive.flush()
    result = await process_raw_uzum(raw_config(fresh_db, tmp_path), out=io.StringIO())
    assert (result.found, result.undecodable, result.parse_failures) == (1, 0, 0)
    assert await stored_state(pool, range(pid, pid + 1)) == expected_state(
        sim.catalogue, range(pid, pid + 1), sim.tick
    )


# -- item 6: negative prices are rejected, string prices coerced and counted ------------------


async def test_negative_price_is_a_parse_failure_and_string_price_is_counted(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    negative, string = present(sim, range(140, 180), 2)
    sim.faults = FaultProfile.parse(f"negprice@{negative};strprice@{string}")
    scanner = await scan(fast(url), pool, 140, 180)

    reason = await pool.fetchval(
        "SELECT reason FROM parse_failures WHERE entity_id = $1", str(negative)
    )
    assert reason is not None and "fullPrice" in reason and "-5 is negative" in reason
    assert not await pool.fetchval("SELECT count(*) FROM skus WHERE full_price < 0")
    assert await pool.fetchval("SELECT count(*) FROM products WHERE id = $1", negative) == 0
    # the string price was stored as the number it spells, and counted
    assert scanner.stats.coerced == 1 and scanner.stats.snapshot()["coerced"] == 1
    want = expected_state(sim.catalogue, range(string, string + 1), sim.tick)
    assert await stored_state(pool, range(string, string + 1)) == want


# -- item 7: empty answers are asked again; a known product never flips to missing -------------


async def test_one_empty_answer_is_retried_and_the_product_stored(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    pid = present(sim, range(180, 220), 1)[0]
    sim.faults = FaultProfile.parse(f"empty@{pid}*2")
    await scan(fast(url), pool, pid, pid)
    assert await pool.fetchval("SELECT count(*) FROM products WHERE id = $1", pid) == 1
    assert await missing_ids(pool, range(pid, pid + 1)) == set()


async def test_known_product_answering_empty_is_dead_lettered_not_missing(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    pid = present(sim, range(220, 260), 1)[0]
    cfg = fast(url)
    await scan(cfg, pool, pid, pid)
    before = await stored_state(pool, range(pid, pid + 1))
    assert before

    sim.faults = FaultProfile.parse(f"empty@{pid}")  # every answer empty from now on
    await scan(cfg, pool, pid, pid)

    assert await missing_ids(pool, range(pid, pid + 1)) == set()
    assert await stored_state(pool, range(pid, pid + 1)) == before
    letter = await pool.fetchrow("SELECT kind, reason FROM dead_letters WHERE entity_id = $1", pid)
    assert letter is not None and letter["kind"] == "empty_body"
    assert not await pool.fetchval("SELECT count(*) FROM uzum_miss_forms WHERE form = 'empty_body'")


async def test_unknown_id_answering_empty_stays_a_miss(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    gone = next(i for i in range(260, 300) if not sim.catalogue.exists(i))
    sim.faults = FaultProfile.parse(f"empty@{gone}")
    await scan(fast(url), pool, gone, gone)
    assert await missing_ids(pool, range(gone, gone + 1)) == {gone}
    assert await pool.fetchval("SELECT seen FROM uzum_miss_forms WHERE form = 'empty_body'") == 1
    assert sim.injector.requests_by_faulted_key[gone] == 3  # asked three times before believed


# -- item 9: healed parse failures are resolved; cycle figures are per cycle ----------------


async def test_parse_failure_is_resolved_when_the_id_parses_again(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    pid = present(sim, range(300, 340), 1)[0]
    sim.faults = FaultProfile.parse(f"badshape@{pid}*1")
    cfg = fast(url)
    await scan(cfg, pool, pid, pid)
    assert await pool.fetchval("SELECT count(*) FROM parse_failures") == 1
    await scan(cfg, pool, pid, pid)
    assert await pool.fetchval("SELECT count(*) FROM parse_failures") == 0
    assert await pool.fetchval("SELECT count(*) FROM products WHERE id = $1", pid) == 1


async def test_cycle_finished_logs_each_cycles_own_figures(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    sim, url = sim_server
    cfg = fast(url, first_id=1, max_id=50, frontier_misses=100)  # frontier = max_id
    found = len([i for i in range(1, 51) if sim.catalogue.exists(i)])
    async with pipeline(cfg, pool) as (fetcher, writer):
        scanner = UzumScanner(cfg.section(UzumConfig), ScanDeps(pool, fetcher, writer))
        with structlog.testing.capture_logs() as logs:
            await _until_cycle(scanner, 3)
    cycles = [e for e in logs if e["event"] == "cycle_finished"]
    assert [e["cycle"] for e in cycles][:2] == [1, 2]
    assert [(e["found"], e["missing"]) for e in cycles[:2]] == [(found, 50 - found)] * 2
    assert scanner.stats.found >= 2 * found  # the totals stay in the stats


async def _until_cycle(scanner: UzumScanner, cycle: int) -> None:
    import asyncio

    task = asyncio.create_task(scanner.run())
    try:
        for _ in range(600):
            if scanner.stats.cycle >= cycle:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"cycle {cycle} not reached: {scanner.stats.snapshot()}")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- item 4: the frontier starts from first_id ------------------------------------------------


async def test_first_id_above_frontier_misses_still_scans(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool
) -> None:
    _, url = sim_server
    cfg = fast(url, first_id=200, max_id=400, frontier_misses=20)
    scanner = await scan(cfg, pool, None, None)
    assert scanner.stats.found > 0 and scanner.stats.position >= 219
    low = await pool.fetchval("SELECT min(id) FROM products")
    assert low is not None and low >= 200


async def test_frequent_empty_answers_lose_no_product_over_two_passes(
    aiohttp_server: ServerFactory, pool: asyncpg.Pool
) -> None:
    # 5 % of all answers empty (five times the hostile preset's rate), plus other body faults
    faults = FaultProfile.parse("empty=0.05,truncated=0.01,html=0.01,seed=3")
    sim = UzumSimulator(UzumCatalogue(seed=5, n_ids=1200), faults)
    server = await aiohttp_server(build_uzum_app(sim))
    cfg = fast(str(server.make_url("")).rstrip("/"))
    ids = range(1, 1201)
    existing = {i for i in ids if sim.catalogue.exists(i)}

    await scan(cfg, pool, 1, 1200)
    assert sim.injector.injected["empty"] > 50  # the fault really hit many answers
    # an id never seen before is believed missing only after three empty answers in a row
    # (0.05³ per product here: at most one of these ~850); one empty answer each cost ~5 %
    lost = await missing_ids(pool, ids) & existing
    assert len(lost) <= 1
    stored = {r["id"] for r in await pool.fetch("SELECT id FROM products")}

    await scan(cfg, pool, 1, 1200)
    # the next pass finds what the first lost, and no stored product turned into a miss
    assert await missing_ids(pool, ids) & existing == set()
    assert stored | lost <= {r["id"] for r in await pool.fetch("SELECT id FROM products")}


async def test_download_survives_a_deeply_nested_body_and_commits_the_rest(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool, fresh_db: DatabaseConfig
) -> None:
    sim, url = sim_server
    bad = present(sim, range(340, 380), 1)[0]
    sim.faults = FaultProfile.parse(f"deepnest@{bad}")
    cfg = dataclasses.replace(
        raw_config(fresh_db, Path("unused")).with_section(fast(url).section(UzumConfig)),
        archive=dataclasses.replace(base_config().archive, enabled=False),
    )
    out = io.StringIO()
    result = await download_uzum(cfg, start=340, stop=380, target=None, out=out)
    assert result.parse_failures == 1 and out.getvalue().endswith("\n")
    want = {
        k: v
        for k, v in expected_state(sim.catalogue, range(340, 381), sim.tick).items()
        if k != bad
    }
    assert await stored_state(pool, range(340, 381)) == want
    assert await pool.fetchval("SELECT entity_id FROM parse_failures") == str(bad)
