"""UZEX scanners end to end: the simulator on aiohttp_server → fetcher → writer → PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from marketplaced import platforms
from marketplaced.archive import Archive
from marketplaced.checkpoint import load_cursor
from marketplaced.config import DatabaseConfig
from marketplaced.errors import UpstreamBlockedError
from marketplaced.platforms import uzex
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex.client import UserAgentRejectedError, classify
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.records import LOT_TYPES
from marketplaced.platforms.uzex.reference import ReferenceScanner
from marketplaced.platforms.uzex.scanner import UzexPlan
from marketplaced.simulator.uzex import (
    CATEGORIES,
    REGIONS,
    UzexFaults,
)
from tests.conftest import base_config
from tests.helpers import uzex as bench
from tests.helpers.uzex import (
    ACTIVE_TYPES,
    ONE_SHOT,
    Upstream,
    assert_matches_catalogue,
    runtime,
    until,
    uzex_config,
)

pool = bench.pool
sim = bench.sim
upstream = bench.upstream


async def test_a_scan_of_each_type_stores_exactly_the_simulator_catalogue(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    async with runtime(pool, uzex_config(upstream.origin)) as rt:
        scanners = await rt.scan_everything()

    await assert_matches_catalogue(pool, upstream.sim.catalogue)
    assert {s.stats.state for s in scanners} == {"done"}
    auction = scanners[0]
    assert auction.stats.found == 47 and auction.stats.items > 47
    # windows are inclusive, 1-based and consecutive: 1, 11, 21, … (page size 10)
    assert upstream.windows("/auction/Common/GetCompletedDeals")[:5] == [1, 11, 21, 31, 41]
    assert upstream.windows("/etender/api/common/DealsList") == [1]
    # items of every completed auction and e-tender deal, each asked once
    products = upstream.details("GetCompletedDealProducts")
    assert len(products) == 47 and set(products.values()) == {1}
    assert len(upstream.details("GetTrade")) == 9
    cursor = await load_cursor(pool, "uzex.auction.completed")
    assert cursor is not None and cursor.state["backfill"]["below"] == 0
    assert cursor.frontier == 47


async def test_requests_carry_the_upstream_shapes_and_browser_headers(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    cfg = uzex_config(upstream.origin, page_size=100)
    async with runtime(pool, cfg) as rt:
        await asyncio.gather(*(rt.completed(t).run() for t in LOT_TYPES))

    bodies = {path: body for path, body, _ in upstream.requests if body is not None}
    window = {"from": 1, "to": 100}
    assert bodies["/auction/Common/GetCompletedDeals"] == {"region_ids": [], **window}
    assert bodies["/etender/api/common/DealsList"] == {"From": 1, "To": 100, "System_Id": 0}
    shop_switches = sorted(
        (body["display_on_shop"], body["display_on_national"])
        for path, body, _ in upstream.requests
        if path == "/shop/Common/GetCompletedDeals"
    )
    assert shop_switches == [(0, 1), (1, 0)]  # national and e-shop, same host
    for path, _, headers in upstream.requests:
        assert headers["User-Agent"] == cfg.user_agent, path
        assert (headers["Origin"], headers["Referer"]) == (cfg.origin, cfg.referer), path
    assert {urlsplit(url).path for url in (cfg.auction_url, cfg.etender_url, cfg.trade_url)} == {
        "/auction",
        "/etender/api",
        "/trade",
    }


def test_refusals_are_recognised_and_other_errors_are_not() -> None:
    not_valid = json.dumps({"status": 500, "message": "Приложение : Not Valid"}).encode()
    blocked = classify(500, {}, not_valid)
    assert isinstance(blocked, UpstreamBlockedError) and "Validation header" in str(blocked)
    missing_ua = {"status": 500, "message": "Приложение : Missing User-Agent header"}
    ua = classify(500, {}, json.dumps(missing_ua, ensure_ascii=False).encode())
    assert isinstance(ua, UserAgentRejectedError) and "uzex.user_agent" in str(ua)
    assert classify(500, {}, b"Internal Server Error") is None  # retried like any 5xx
    assert classify(200, {}, not_valid) is None


async def test_a_later_cycle_records_status_changes_and_new_deals(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    catalogue = upstream.sim.catalogue
    active_before = set(catalogue.expected_lots("auction")) - set(
        lot_id
        for lot_id, lot in catalogue.expected_lots("auction").items()
        if lot.status == "completed"
    )
    async with runtime(pool, uzex_config(upstream.origin)) as rt:
        await rt.scan_everything()
        before = len(upstream.seen)
        upstream.sim.advance(3)  # per type: 3 active lots close, 6 brand-new deals
        await rt.scan_everything()

    await assert_matches_catalogue(pool, catalogue)
    closed = {
        lot_id
        for lot_id in active_before
        if catalogue.expected_lots("auction")[lot_id].status == "completed"
    }
    assert len(closed) == 3
    for lot_id in closed:
        rows = await pool.fetch(
            "SELECT status, deal_cost FROM uzex_lot_status_history "
            "WHERE lot_type = 'auction' AND lot_id = $1 ORDER BY observed_at",
            lot_id,
        )
        assert [r["status"] for r in rows] == ["active", "completed"]
        assert rows[0]["deal_cost"] is None and rows[1]["deal_cost"] is not None
    # unchanged lots got no second history row
    assert await pool.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM uzex_lot_status_history "
        "GROUP BY lot_type, lot_id HAVING count(*) > 1) t"
    ) == 3 * len(ACTIVE_TYPES)
    # the catch-up read only the top of each list, not the whole history again
    later = upstream.seen[before:]
    auction_pages = [p for p, first in later if p.endswith("/auction/Common/GetCompletedDeals")]
    assert len(auction_pages) <= 2


async def test_not_valid_blocks_only_the_auction_scanners(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    upstream.sim.faults = UzexFaults(auction_not_valid=True)
    cfg = platforms.load_config({"UZEX_BASE_URL": upstream.origin}, path=None)
    cfg = cfg.with_section(uzex_config(upstream.origin, blocked_backoff_h=2.0))
    async with runtime(pool, cfg.section(UzexConfig)) as rt:
        scanners = uzex.build_scanners(cfg, ScanDeps(pool, rt.fetcher, rt.writer), None)
        by_name = {s.name: s for s in scanners}
        assert set(by_name) == {
            *(f"uzex.{t}.completed" for t in LOT_TYPES),
            *(f"uzex.{t}.active" for t in ACTIVE_TYPES),
            "uzex.reference",
        }
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(s.run()) for s in scanners]

            async def shop_stored_and_auction_blocked() -> bool:
                count = await pool.fetchval(
                    "SELECT count(*) FROM uzex_lots "
                    "WHERE lot_type = 'shop' AND status = 'completed'"
                )
                blocked = all(
                    by_name[n].stats.state == "blocked"
                    for n in ("uzex.auction.completed", "uzex.auction.active")
                )
                return bool(count == 33 and blocked)

            await until(shop_stored_and_auction_blocked)
            for task in tasks:
                task.cancel()

    for name in ("uzex.auction.completed", "uzex.auction.active"):
        stats = by_name[name].stats
        assert stats.blocked_reason == "blocked_by_upstream"
        assert stats.blocked_until is not None
        assert stats.blocked_until - time.time() > 1.9 * 3600  # hours, as configured
        assert stats.snapshot()["state"] == "blocked"
    assert by_name["uzex.shop.completed"].stats.state != "blocked"
    assert by_name["uzex.etender.completed"].stats.blocked_until is None
    assert await pool.fetchval("SELECT count(*) FROM uzex_lots WHERE lot_type = 'auction'") == 0
    # each auction scanner asked once and then stopped asking (no retry storm)
    assert upstream.sim.requests["auction"] == 2
    assert await pool.fetchval("SELECT count(*) FROM uzex_categories") == len(CATEGORIES)


async def test_resume_after_stopping_mid_backfill_stores_everything_once(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    cfg = uzex_config(upstream.origin, page_size=5)
    continuous = UzexPlan(continuous=True)
    # slow answers, so the first run is surely stopped somewhere in the middle (like a crash)
    upstream.sim.faults = UzexFaults(delay_s=0.01)
    async with runtime(pool, cfg) as rt:
        first = rt.completed("auction", continuous)
        task = asyncio.create_task(first.run())

        async def three_pages_committed() -> bool:
            cursor = await load_cursor(pool, first.name)
            return cursor is not None and cursor.position >= 15

        await until(three_pages_committed)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await rt.writer.flush()
        stopped_at = await load_cursor(pool, first.name)
        assert stopped_at is not None and stopped_at.state["backfill"]["below"] > 0
        pages_before = len(upstream.windows("/auction/Common/GetCompletedDeals"))
        upstream.sim.faults = UzexFaults()

        second = rt.completed("auction", continuous)
        task = asyncio.create_task(second.run())
        await until(lambda: second.walks.backfill.done)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    catalogue = upstream.sim.catalogue
    completed = {
        i for i, lot in catalogue.expected_lots("auction").items() if lot.status == "completed"
    }
    lots = await pool.fetch("SELECT lot_id FROM uzex_lots WHERE lot_type = 'auction'")
    assert {r["lot_id"] for r in lots} == completed
    items = await pool.fetchval("SELECT count(*) FROM uzex_lot_items WHERE lot_type = 'auction'")
    assert items == sum(
        1 for lot_id, _ in catalogue.expected_items("auction") if lot_id in completed
    )
    once = "SELECT count(*) FROM uzex_lot_status_history GROUP BY lot_id HAVING count(*) > 1"
    assert await pool.fetch(once) == []
    # the second run went on from the stored position: no window of the first run again
    resumed = upstream.windows("/auction/Common/GetCompletedDeals")[pages_before:]
    backfill_windows = [w for w in resumed if w != 1]  # 1 = its catch-up's look at the top
    assert min(backfill_windows) > 10
    fetched = upstream.details("GetCompletedDealProducts")
    assert sum(fetched.values()) <= 47 + 5  # at most the interrupted page's lots twice


async def test_a_malformed_row_is_a_parse_failure_and_the_rest_is_stored(
    pool: asyncpg.Pool, upstream: Upstream, tmp_path: Path
) -> None:
    catalogue = upstream.sim.catalogue
    original = catalogue.page
    broken: list[int] = []

    def page_with_garbage(*args: Any) -> list[dict[str, object]]:
        rows = original(*args)
        for row in rows:
            if row["rn"] == 4 and args[:2] == ("shop", "completed"):
                row["deal_cost"] = "twelve million"
                broken.append(int(str(row["lot_id"])))
        return rows

    catalogue.page = page_with_garbage  # type: ignore[method-assign]
    archive = Archive(tmp_path, "uzex", "shop", batch_records=100, max_bytes=10**8)
    async with runtime(pool, uzex_config(upstream.origin)) as rt:
        scanner = rt.completed("shop", archive=archive)
        await scanner.run()

    (bad,) = broken
    stored = {r["lot_id"] for r in await pool.fetch("SELECT lot_id FROM uzex_lots")}
    completed = {
        i for i, lot in catalogue.expected_lots("shop").items() if lot.status == "completed"
    }
    assert stored == completed - {bad}
    failure = await pool.fetchrow("SELECT * FROM parse_failures")
    assert (failure["scope"], failure["entity_id"]) == ("uzex.shop", str(bad))
    assert "deal_cost" in failure["reason"]
    assert failure["archive_ref"].startswith("uzex/shop/")
    assert scanner.stats.parse_failures == 1
    assert list((tmp_path / "uzex" / "shop").rglob("*.jsonl.gz"))  # the raw page was kept


async def test_removed_lot_keeps_the_lot_and_counts_a_miss(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    gone = max(upstream.sim.catalogue.expected_lots("etender"))
    upstream.sim.faults = UzexFaults(removed_lots=frozenset({("etender", gone)}))
    async with runtime(pool, uzex_config(upstream.origin)) as rt:
        scanner = rt.completed("etender")
        await scanner.run()

    assert await pool.fetchval("SELECT count(*) FROM uzex_lots") == 9
    assert await pool.fetchval("SELECT count(*) FROM uzex_lot_items WHERE lot_id = $1", gone) == 0
    assert scanner.stats.missing == 1 and scanner.stats.miss_forms == {"http_404": 1}
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0


async def test_a_non_browser_user_agent_is_a_clear_configuration_error(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    async with runtime(pool, uzex_config(upstream.origin, user_agent="python-requests/2.31")) as rt:
        scanner = rt.completed("shop")
        await scanner.run()
    assert scanner.stats.state == "blocked"
    assert scanner.stats.blocked_reason == "user_agent_rejected"
    assert await pool.fetchval("SELECT count(*) FROM uzex_lots") == 0


async def test_reference_lists_are_refreshed_once_per_interval(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    async with runtime(pool, uzex_config(upstream.origin)) as rt:
        deps = ScanDeps(pool, rt.fetcher, rt.writer)
        await ReferenceScanner(rt.cfg, deps, plan=ONE_SHOT).run()
        assert await pool.fetchval("SELECT count(*) FROM uzex_regions") == len(REGIONS)
        assert await pool.fetchval("SELECT count(*) FROM uzex_categories") == len(CATEGORIES)
        # a restarted daemon does not ask again before the interval is over
        again = ReferenceScanner(rt.cfg, deps)
        task = asyncio.create_task(again.run())
        await until(lambda: again.stats.state == "idle")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert upstream.sim.requests["trade"] == 2
    assert again.refreshed_at > 0 and again.stats.cycle == 1


async def test_a_failed_reference_refresh_is_retried_not_recorded_as_done(
    pool: asyncpg.Pool, upstream: Upstream
) -> None:
    sim = upstream.sim
    sim.faults = dataclasses.replace(sim.faults, down_hosts=frozenset({"trade"}))
    async with runtime(pool, uzex_config(upstream.origin, cycle_pause_s=0.05)) as rt:
        deps = ScanDeps(pool, rt.fetcher, rt.writer)
        scanner = ReferenceScanner(rt.cfg, deps)
        task = asyncio.create_task(scanner.run())
        try:
            # both lists failed: asked again (with backoff), not 24 h later
            # (a round's requests are counted as they are served, its failure after both:
            # wait for the failures, then check the requests behind them)
            await until(lambda: scanner.failures >= 3)
            assert sim.requests["trade"] >= 6 and scanner.refreshed_at == 0
            assert scanner.stats.errors["http_status"] >= 6
            await rt.writer.flush()
            assert await load_cursor(pool, "uzex.reference") is None  # nothing claimed done
            sim.faults = dataclasses.replace(sim.faults, down_hosts=frozenset())
            await until(lambda: scanner.refreshed_at > 0)
            await rt.writer.flush()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert scanner.failures == 0
    assert await pool.fetchval("SELECT count(*) FROM uzex_regions") == len(REGIONS)
    assert await pool.fetchval("SELECT count(*) FROM uzex_categories") == len(CATEGORIES)
    cursor = await load_cursor(pool, "uzex.reference")
    assert cursor is not None and cursor.state["refreshed_at"] == scanner.refreshed_at


async def test_download_then_process_raw_rebuilds_the_same_lots(
    pool: asyncpg.Pool, module_db: DatabaseConfig, upstream: Upstream, tmp_path: Path
) -> None:
    cfg = base_config(
        database=dataclasses.asdict(module_db),
        archive={"enabled": True, "dir": str(tmp_path)},
        writer={"flush_interval_s": 0.01},
    )
    cfg = cfg.with_section(uzex_config(upstream.origin))
    out = io.StringIO()

    result = await uzex.download(cfg, "auction", target=20, out=out)

    assert 20 <= result.lots < 47 and result.items > result.lots and not result.blocked
    assert "lots/s" in out.getvalue() and out.getvalue().endswith("\n")
    cursor = await load_cursor(pool, "uzex.auction.download")
    assert cursor is not None and await load_cursor(pool, "uzex.auction.completed") is None
    stored = await pool.fetch("SELECT lot_id, deal_cost FROM uzex_lots ORDER BY lot_id")
    items = await pool.fetchval("SELECT count(*) FROM uzex_lot_items")
    assert list((tmp_path / "uzex" / "auction").rglob("*.jsonl.gz"))

    await pool.execute("TRUNCATE uzex_lots, uzex_lot_items, uzex_parties, uzex_products")
    replayed = await uzex.process_raw(cfg, out=io.StringIO())

    assert replayed.lots == len(stored) and replayed.parse_failures == 0
    assert await pool.fetch("SELECT lot_id, deal_cost FROM uzex_lots ORDER BY lot_id") == stored
    assert await pool.fetchval("SELECT count(*) FROM uzex_lot_items") == items
