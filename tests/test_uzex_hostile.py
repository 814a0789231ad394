"""Hostile UZEX bodies: one that does not decode (nested too deep) costs its lot only, is
archived marked undecodable and recorded as a parse failure; negative sums are refused."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from marketplaced import archive as archive_mod
from marketplaced.errors import ParseError
from marketplaced.platforms.uzex import parser
from tests.helpers import recorded
from tests.helpers import uzex as base

# the shared module database, simulator and upstream of the scanner tests, for this module too
pool = base.pool
sim = base.sim
upstream = base.upstream


async def test_deeply_nested_detail_is_a_parse_failure_and_the_scan_goes_on(
    pool: asyncpg.Pool, upstream: base.Upstream, tmp_path: Path
) -> None:
    lots = upstream.sim.catalogue.expected_lots("auction")
    completed = sorted(i for i, lot in lots.items() if lot.status == "completed")
    bad = completed[5]
    upstream.sim.faults = dataclasses.replace(
        upstream.sim.faults, deep_nested_lots=frozenset({("auction", bad)})
    )
    archive = archive_mod.Archive(tmp_path, "uzex", "auction", batch_records=10, max_bytes=10**9)
    async with base.runtime(pool, base.uzex_config(upstream.origin)) as rt:
        scanner = rt.completed("auction", archive=archive)
        await scanner.run()
        await rt.writer.flush()

    assert scanner.stats.state == "done" and scanner.stats.found == 47
    row = await pool.fetchrow("SELECT * FROM parse_failures")
    assert row is not None and (row["scope"], row["entity_id"]) == ("uzex.auction.items", str(bad))
    assert "nested too deep" in row["reason"]
    kept = dict(archive_mod.iter_records(tmp_path, "uzex", "auction"))[row["archive_ref"]]
    assert kept.undecodable is not None and kept.body.startswith("[[[[")
    items = {r["lot_id"] for r in await pool.fetch("SELECT DISTINCT lot_id FROM uzex_lot_items")}
    want = {i.lot_id for i in upstream.sim.catalogue.expected_items("auction").values()}
    assert items == (want & set(completed)) - {bad}


def test_negative_deal_cost_fails_that_lot_only() -> None:
    rows: list[dict[str, Any]] = copy.deepcopy(
        recorded.uzex_json("auction_GetCompletedDeals.capture.json")
    )
    rows[0]["deal_cost"] = -1
    result = parser.parse_completed_deals("auction", rows)
    assert len(result.lots) == len(rows) - 1
    [(key, reason)] = result.failures
    assert key == str(rows[0]["lot_id"]) and "deal_cost: negative amount" in reason


def test_negative_item_cost_is_refused() -> None:
    rows: list[dict[str, Any]] = copy.deepcopy(
        recorded.uzex_json("auction_GetCompletedDealProducts_379514.json")
    )
    rows[0]["cost"] = -100
    with pytest.raises(ParseError, match="negative amount"):
        parser.parse_deal_products("auction", 379514, rows)


async def test_parse_failure_of_a_lot_is_resolved_when_its_items_are_stored(
    pool: asyncpg.Pool, upstream: base.Upstream
) -> None:
    lots = upstream.sim.catalogue.expected_lots("auction")
    bad = sorted(i for i, lot in lots.items() if lot.status == "completed")[3]
    upstream.sim.faults = dataclasses.replace(
        upstream.sim.faults, deep_nested_lots=frozenset({("auction", bad)})
    )
    async with base.runtime(pool, base.uzex_config(upstream.origin)) as rt:
        await rt.completed("auction").run()
        await rt.writer.flush()
        assert await pool.fetchval("SELECT entity_id FROM parse_failures") == str(bad)

        upstream.sim.faults = dataclasses.replace(upstream.sim.faults, deep_nested_lots=frozenset())
        await pool.execute("UPDATE dead_letters SET last_failed_at = now() - interval '2 days'")
        await rt.completed("auction")._retry_dead_letters()
        await rt.writer.flush()

    assert await pool.fetchval("SELECT count(*) FROM parse_failures") == 0
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0
    assert await pool.fetchval("SELECT count(*) FROM uzex_lot_items WHERE lot_id = $1", bad) > 0
