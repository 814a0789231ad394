"""The UZEX test bench: the simulator on `aiohttp_server` recording every request, the real
config loader with fast settings, and a runtime (writer + fetcher) over a module database.
Test modules take the fixtures `pool`, `sim` and `upstream` by assigning them at module level."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from marketplaced import db, platforms
from marketplaced.archive import Archive
from marketplaced.config import DatabaseConfig, WriterConfig
from marketplaced.http import Fetcher, HostPolicy
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex.active import ActiveScanner
from marketplaced.platforms.uzex.client import host_policies
from marketplaced.platforms.uzex.completed import CompletedScanner
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.records import LOT_TYPES, LotType
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScanner
from marketplaced.platforms.uzex.storage import UzexSink
from marketplaced.simulator.uzex import (
    UzexCatalogue,
    UzexSimulator,
    add_uzex_routes,
)
from marketplaced.writer import Writer

ONE_SHOT = UzexPlan(continuous=False)
ACTIVE_TYPES: tuple[LotType, ...] = ("auction", "shop", "national")


#: every table a UZEX test writes; emptied before each test of this module's shared database
UZEX_TABLES = (
    "uzex_lots, uzex_lot_items, uzex_parties, uzex_products, uzex_categories, uzex_regions, "
    "uzex_lot_status_history, scan_cursors, dead_letters, parse_failures"
)


@pytest.fixture
async def pool(module_db: DatabaseConfig) -> AsyncIterator[asyncpg.Pool]:
    """One migrated database per module (creating one per test costs seconds), emptied per test."""
    p = await db.create_pool(module_db)
    await p.execute(f"TRUNCATE {UZEX_TABLES}")
    yield p
    await p.close()


@dataclasses.dataclass
class Upstream:
    sim: UzexSimulator
    origin: str
    #: (path, from) of every list request and the path of every detail request, in order
    seen: list[tuple[str, int | None]]
    #: (path, JSON body or None, headers) of every request
    requests: list[tuple[str, Any, dict[str, str]]] = dataclasses.field(default_factory=list)

    def windows(self, path_end: str) -> list[int]:
        return [first for path, first in self.seen if path.endswith(path_end) and first]

    def details(self, marker: str) -> Counter[str]:
        return Counter(path for path, first in self.seen if marker in path)


@pytest.fixture
def sim() -> UzexSimulator:
    catalogue = UzexCatalogue(
        seed=11, n_auction=47, n_shop=33, n_national=12, n_etender=9, n_active=7
    )
    return UzexSimulator(catalogue)


@pytest.fixture
async def upstream(aiohttp_server: Any, sim: UzexSimulator) -> Upstream:
    seen: list[tuple[str, int | None]] = []
    requests: list[tuple[str, Any, dict[str, str]]] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        first, body = None, None
        if request.method == "POST":
            body = await request.json()
            first = body.get("from", body.get("From"))
        seen.append((request.path, first))
        requests.append((request.path, body, dict(request.headers)))
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[record])
    add_uzex_routes(app, sim)
    server = await aiohttp_server(app)
    return Upstream(sim, str(server.make_url("")).rstrip("/"), seen, requests)


def uzex_config(origin: str, **overrides: Any) -> UzexConfig:
    """The real loader with UZEX_BASE_URL, then tiny pages and pauses so tests run fast."""
    loaded = platforms.load_config({"UZEX_BASE_URL": origin}, path=None).section(UzexConfig)
    fast = {
        "rps": 0.0,
        "page_size": 10,
        "recheck_pages": 1,
        "cycle_pause_s": 0.01,
        "timeout_s": 5.0,
        "max_retries": 0,
        **overrides,
    }
    return dataclasses.replace(loaded, **fast)


@dataclasses.dataclass
class Runtime:
    pool: asyncpg.Pool
    writer: Writer
    fetcher: Fetcher
    cfg: UzexConfig

    def completed(
        self, lot_type: LotType, plan: UzexPlan = ONE_SHOT, archive: Archive | None = None
    ) -> CompletedScanner:
        deps = ScanDeps(self.pool, self.fetcher, self.writer, archive)
        return CompletedScanner(self.cfg, lot_type, deps, plan=plan)

    def active(self, lot_type: LotType, plan: UzexPlan = ONE_SHOT) -> ActiveScanner:
        deps = ScanDeps(self.pool, self.fetcher, self.writer)
        return ActiveScanner(self.cfg, lot_type, deps, plan=plan)

    async def scan_everything(self) -> list[UzexScanner]:
        """One pass ("until idle") of every completed and active scanner, daemon cursors."""
        scanners: list[UzexScanner] = [self.completed(t) for t in LOT_TYPES]
        scanners += [self.active(t) for t in ACTIVE_TYPES]
        await asyncio.gather(*(s.run() for s in scanners))
        await self.writer.flush()
        return scanners


@asynccontextmanager
async def runtime(pool: asyncpg.Pool, cfg: UzexConfig) -> AsyncIterator[Runtime]:
    writer = Writer(pool, WriterConfig(flush_interval_s=0.01), [UzexSink()])
    task = asyncio.create_task(writer.run())
    try:
        default = HostPolicy(rps=0, max_retries=0, backoff_base_s=0.01)
        async with Fetcher(default, host_policies(cfg)) as fetcher:
            yield Runtime(pool, writer, fetcher, cfg)
        await writer.flush()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(check: Callable[[], Awaitable[bool] | bool], timeout_s: float = 10.0) -> None:
    """Poll `check` (sync or async) until it holds; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def assert_matches_catalogue(pool: asyncpg.Pool, catalogue: UzexCatalogue) -> None:
    """The database holds exactly the simulator's lots and items, with the right values."""
    for lot_type in LOT_TYPES:
        want = catalogue.expected_lots(lot_type)
        rows = await pool.fetch("SELECT * FROM uzex_lots WHERE lot_type = $1", lot_type)
        got = {r["lot_id"]: r for r in rows}
        assert set(got) == set(want), lot_type
        for lot_id, lot in want.items():
            row = got[lot_id]
            assert (row["status"], row["deal_id"], row["deal_cost"]) == (
                lot.status,
                lot.deal_id,
                lot.deal_cost,
            ), (lot_type, lot_id)
            assert (row["customer_inn"], row["provider_inn"]) == (
                lot.customer_inn,
                lot.provider_inn,
            ), (lot_type, lot_id)
        want_items = catalogue.expected_items(lot_type)
        rows = await pool.fetch("SELECT * FROM uzex_lot_items WHERE lot_type = $1", lot_type)
        got_items = {(r["lot_id"], r["line_no"]): r for r in rows}
        assert set(got_items) == set(want_items), lot_type
        for key, item in want_items.items():
            row = got_items[key]
            assert (row["quantity"], row["unit"], row["unit_price"], row["cost"]) == (
                item.quantity,
                item.unit,
                item.unit_price,
                item.cost,
            ), (lot_type, key)
    parties = {
        (r["inn"], r["kind"]): r["name"] for r in await pool.fetch("SELECT * FROM uzex_parties")
    }
    for key, name in catalogue.expected_parties().items():
        assert parties.get(key) == name, key
