"""An unchanged visit costs a visit row: entity rows are written only when a stored value changed,
an unchanged body (by its fingerprint) is not parsed again, and the visits table stays bounded
over repeated unchanged passes. Real PostgreSQL, the recorded fixtures and the simulator."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import pytest
from aiohttp.test_utils import TestServer

from marketplaced.platforms.uzum.records import Missing, ProductSnapshot
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.platforms.uzum.visits import Fingerprinter, Revisit
from marketplaced.simulator.uzum import UzumCatalogue, UzumSimulator, build_uzum_app
from tests.helpers import recorded
from tests.helpers.uzum import expected_state, scan_config, scan_range, stored_state
from tests.helpers.writer import renumbered, run_writer, snapshot, with_price

ServerFactory = Callable[..., Awaitable[TestServer]]

_ROW_VERSIONS = """
SELECT (SELECT array_agg(xmin::text ORDER BY id) FROM products) AS products,
       (SELECT array_agg(xmin::text ORDER BY id) FROM skus) AS skus,
       (SELECT array_agg(xmin::text ORDER BY id) FROM sellers) AS sellers,
       (SELECT array_agg(xmin::text ORDER BY id) FROM categories) AS categories"""


async def test_an_unchanged_snapshot_rewrites_no_entity_row(pool: asyncpg.Pool) -> None:
    first = [snapshot(1772350), snapshot(2114919)]
    await run_writer(pool, first)
    before = await pool.fetchrow(_ROW_VERSIONS)
    seen_before = await pool.fetchval("SELECT now()")
    history = await pool.fetchval(
        "SELECT (SELECT count(*) FROM price_history) + (SELECT count(*) FROM product_stats_history)"
    )
    await run_writer(pool, [snapshot(1772350), snapshot(2114919)])
    # no product, SKU, seller or category row got a new version
    assert await pool.fetchrow(_ROW_VERSIONS) == before
    visits = await pool.fetch("SELECT outcome, last_seen FROM uzum_visits ORDER BY product_id")
    assert [v["outcome"] for v in visits] == ["reparsed", "reparsed"]
    assert all(v["last_seen"] > seen_before for v in visits)
    assert history == await pool.fetchval(
        "SELECT (SELECT count(*) FROM price_history) + (SELECT count(*) FROM product_stats_history)"
    )
    # one changed price rewrites that SKU row only, and adds its history row
    await run_writer(pool, [with_price(snapshot(2114919), 3, 12345), snapshot(1772350)])
    after = await pool.fetchrow(_ROW_VERSIONS)
    assert after["products"] == before["products"]
    assert sum(a != b for a, b in zip(after["skus"], before["skus"], strict=True)) == 1
    assert await pool.fetchval("SELECT outcome FROM uzum_visits WHERE product_id = 2114919") == (
        "changed"
    )


async def test_a_sku_that_drops_out_keeps_its_last_seen_and_comes_back(
    pool: asyncpg.Pool,
) -> None:
    full = snapshot(1772350)
    await run_writer(pool, [full])
    seen_with_sku = await pool.fetchval("SELECT last_seen FROM uzum_visits")
    gone = full.skus[0].id
    await run_writer(pool, [dataclasses.replace(full, skus=full.skus[1:])])
    assert await pool.fetchval("SELECT last_seen FROM skus WHERE id = $1", gone) == seen_with_sku
    assert await pool.fetchval("SELECT outcome FROM uzum_visits") == "changed"
    listed = await pool.fetchval(
        "SELECT count(*) FROM skus WHERE product_id = 1772350 AND last_seen IS NULL"
    )
    assert listed == len(full.skus) - 1
    await run_writer(pool, [full])
    assert await pool.fetchval("SELECT last_seen FROM skus WHERE id = $1", gone) is None


async def test_fingerprints_commit_with_their_rows_and_revisits_only_touch_visits(
    pool: asyncpg.Pool,
) -> None:
    body = recorded.uzum_text(1772350).encode()
    fp = Fingerprinter()(body)
    await run_writer(pool, [dataclasses.replace(snapshot(1772350), fingerprint=fp)])
    assert await pool.fetchval("SELECT fingerprint FROM uzum_visits") == fp
    before = await pool.fetchrow(_ROW_VERSIONS)
    await run_writer(pool, [Revisit(1772350, fp)])
    assert await pool.fetchrow(_ROW_VERSIONS) == before
    assert await pool.fetchval("SELECT outcome FROM uzum_visits") == "unchanged"
    # a revisit compared with a fingerprint that is no longer the stored one changes nothing
    # but the fingerprint, which is forgotten: the next visit parses the body
    await run_writer(pool, [Revisit(1772350, fp + 1)])
    assert await pool.fetchval("SELECT fingerprint FROM uzum_visits") is None
    # a miss of a known product records the visit and forgets the fingerprint
    await run_writer(pool, [dataclasses.replace(snapshot(1772350), fingerprint=fp)])
    await run_writer(pool, [Missing(1772350, "http_404")])
    row = await pool.fetchrow("SELECT outcome, fingerprint FROM uzum_visits")
    assert (row["outcome"], row["fingerprint"]) == ("missing", None)


async def test_a_failed_transaction_leaves_no_fingerprint(pool: asyncpg.Pool) -> None:
    """The fingerprint is written by the sink inside the batch's transaction: when the batch
    does not commit, neither the rows nor their fingerprint exist."""
    snap = dataclasses.replace(snapshot(1772350), fingerprint=42)
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await UzumSink().write(conn, {ProductSnapshot: [snap]}, datetime.now(UTC))
        assert await conn.fetchval("SELECT fingerprint FROM uzum_visits") == 42
        await tx.rollback()  # the process died before COMMIT
    assert await pool.fetchval("SELECT count(*) FROM uzum_visits") == 0
    assert await pool.fetchval("SELECT count(*) FROM products") == 0


def test_fingerprint_leaves_out_the_envelope_timestamp_only() -> None:
    fingerprint = Fingerprinter()
    body = recorded.uzum_text(1772350).encode()
    assert body.rstrip().endswith(b'"}') and b'"timestamp":"' in body[-64:]
    later = body.rstrip()[: body.rstrip().rfind(b'"timestamp":"')] + (
        b'"timestamp":"2026-01-01T00:00:00.000000001"}'
    )
    assert later != body and fingerprint(later) == fingerprint(body)
    assert fingerprint(body.replace(b'"purchasePrice":', b'"purchasePrice":1', 1)) != fingerprint(
        body
    )
    # the same bytes under another parser (another key) never count as stored
    assert Fingerprinter(seed=fingerprint.seed + 1)(body) != fingerprint(body)
    # a "timestamp" that is not the envelope's trailing member is part of the content
    inner = b'{"payload":{"data":{"id":1,"timestamp":"x"}}}'
    assert fingerprint(inner) != fingerprint(inner.replace(b'"x"', b'"y"'))


@pytest.fixture
async def sim_server(aiohttp_server: ServerFactory) -> tuple[UzumSimulator, str]:
    sim = UzumSimulator(UzumCatalogue(seed=7, n_ids=1500))
    server = await aiohttp_server(build_uzum_app(sim))
    return sim, str(server.make_url("")).rstrip("/")


class ProductDecodes:
    """Counts the product bodies JSON decoding builds (orjson is the fetcher's decoder); a
    body without a title is one of the simulator's "not found" forms, not a product."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = orjson.loads

        def loads(body: bytes | str) -> Any:
            data = real(body)
            payload = data.get("payload") if isinstance(data, dict) else None
            product = payload.get("data") if isinstance(payload, dict) else None
            if isinstance(product, dict) and "title" in product:
                self.count += 1
            return data

        monkeypatch.setattr(orjson, "loads", loads)


async def test_an_unchanged_body_is_not_decoded_or_parsed_and_a_changed_one_is(
    sim_server: tuple[UzumSimulator, str], pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, url = sim_server
    cfg = scan_config(url)
    ids = range(1, 401)
    decodes = ProductDecodes(monkeypatch)
    await scan_range(cfg, pool, 1, 400)
    assert decodes.count > 0
    decodes.count = 0
    found = await pool.fetchval("SELECT count(*) FROM products")
    assert found == await pool.fetchval(
        "SELECT count(*) FROM uzum_visits WHERE fingerprint IS NOT NULL AND outcome = 'changed'"
    )
    before = await pool.fetchrow(_ROW_VERSIONS)
    scanner = await scan_range(cfg, pool, 1, 400)
    assert scanner.stats.found == found
    # every body matched its stored fingerprint: no product parsed, no entity row rewritten
    outcomes = dict(await pool.fetch("SELECT outcome, count(*) FROM uzum_visits GROUP BY 1"))
    assert outcomes == {"unchanged": found}
    assert await pool.fetchrow(_ROW_VERSIONS) == before
    # nor decoded: the fingerprint is compared with the body's bytes
    assert decodes.count == 0
    # simulated time moves: changed bodies are decoded, parsed and stored, each once
    sim.advance(3)
    await scan_range(cfg, pool, 1, 400)
    assert await stored_state(pool, ids) == expected_state(sim.catalogue, ids, sim.tick)
    outcomes = dict(await pool.fetch("SELECT outcome, count(*) FROM uzum_visits GROUP BY 1"))
    assert outcomes.get("changed", 0) > 0 and sum(outcomes.values()) == found
    changed = outcomes["changed"] + outcomes.get("reparsed", 0)
    assert decodes.count == changed


async def test_ten_unchanged_passes_keep_the_tables_within_a_tenth(pool: asyncpg.Pool) -> None:
    """Bloat is bounded: the narrow visits rows are updated in place (HOT, fillfactor), the
    entity rows not at all."""
    templates = [snapshot(1772350), snapshot(2114919)]
    snaps = [renumbered(templates[i % 10 == 0], 10_000 + i) for i in range(300)]
    await run_writer(pool, snaps, batch_max=2000)
    size = """SELECT sum(coalesce(pg_total_relation_size(to_regclass(n)), 0))::bigint
        FROM unnest(ARRAY['products', 'skus', 'sellers', 'categories', 'uzum_visits']) AS n"""
    # the free-space and visibility maps a first vacuum adds (24 + 8 KiB per relation) are a
    # large share of so small tables: they exist before the measuring starts, whenever
    # autovacuum would have come
    for table in ("products", "skus", "sellers", "categories", "uzum_visits"):
        if await pool.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
            await pool.execute(f"VACUUM {table}")
    first = await pool.fetchval(size)
    for _ in range(10):
        await run_writer(pool, [renumbered(templates[i % 10 == 0], 10_000 + i) for i in range(300)])
    assert await pool.fetchval(size) <= first * 1.10
