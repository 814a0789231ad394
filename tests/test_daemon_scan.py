"""The real daemon scanning the real simulator, both as subprocesses: SIGHUP changes the rate of a
running daemon; SIGKILL at random moments, restart, and in the end every id of the range was
observed and the database equals the simulator's catalogue — no gaps, no duplicates — in the
round-robin mode (resuming from its cursor) and in the adaptive one (the schedule's committed
next visits are its progress)."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.platforms.uzex.records import LOT_TYPES
from marketplaced.platforms.uzum.visits import Fingerprinter
from marketplaced.simulator.app import SimulatorOptions, build
from marketplaced.simulator.uzum import UzumCatalogue
from tests.helpers import daemon
from tests.helpers.daemon import N_IDS, SEED, DaemonProcess, config, query, sim_requests
from tests.helpers.uzex import assert_matches_catalogue
from tests.helpers.uzum import expected_state, missing_ids, stored_state

# the subprocess simulator fixture of tests/helpers/daemon.py, for this module's tests
simulator = daemon.simulator

pytestmark = pytest.mark.slow


def test_sighup_changes_the_rate_of_a_running_daemon(
    tmp_path: Path, fresh_db: DatabaseConfig, simulator: str
) -> None:
    d = DaemonProcess(
        tmp_path, fresh_db, config(rps=10, concurrency=8), {"UZUM_BASE_URL": simulator}
    )
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        time.sleep(1.0)
        a = sim_requests(simulator)
        time.sleep(2.0)
        slow = (sim_requests(simulator) - a) / 2.0
        d.config.write_text(config(rps=60, concurrency=8))
        d.signal(signal.SIGHUP)
        assert d.wait_log("config_reloaded", 10), d.log()
        time.sleep(1.0)
        a = sim_requests(simulator)
        time.sleep(2.0)
        fast = (sim_requests(simulator) - a) / 2.0
        assert 5 <= slow <= 14, slow
        assert fast >= 35, fast
        assert "uzum.rps" in d.log()
        # `marketplaced status` reads the running daemon's figures from Redis and PostgreSQL
        status = subprocess.run(
            [sys.executable, "-m", "marketplaced.cli", "status"],
            env=d.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert status.returncode == 0, status.stderr
        assert "uzum.products: scanning" in status.stdout, status.stdout
        assert "writer: queue" in status.stdout
        assert "cursor uzum.products: cycle 1 committed up to" in status.stdout
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()


def _wait_for_progress(cfg: DatabaseConfig, beyond: int, timeout_s: float = 60) -> int:
    """The committed cursor position of uzum.products once it is past `beyond`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = query(cfg, "SELECT position FROM scan_cursors WHERE scanner = 'uzum.products'")
        if row is not None and row["position"] > beyond:
            return int(row["position"])
        time.sleep(0.05)
    raise AssertionError(f"the scan committed nothing past {beyond} in {timeout_s} s")


def test_sigkill_at_random_moments_loses_nothing(
    tmp_path: Path, fresh_db: DatabaseConfig, simulator: str
) -> None:
    rng = random.Random(2024)
    catalogue = UzumCatalogue(SEED, N_IDS)
    highest = catalogue.highest_id
    uzex_catalogue = build(SimulatorOptions(seed=SEED, n_ids=N_IDS)).uzex.catalogue
    uzex_total = sum(len(uzex_catalogue.expected_lots(t)) for t in LOT_TYPES)
    frontier = highest + 300
    # ~7 s for the whole range at 400 ids/s. A round runs until one commit past the last
    # round's (checkpoints every 100 ids, flushes every 0.1 s) plus at most 0.6 s, so the four
    # rounds take at most ~1,300 ids and every kill lands mid-scan (at 800 ids/s a fast machine
    # once finished the scan before the fourth kill)
    d = DaemonProcess(
        tmp_path,
        fresh_db,
        config(rps=400, uzex=True),
        {"UZUM_BASE_URL": simulator, "UZEX_BASE_URL": simulator},
    )
    kills = 0
    try:
        committed = 0
        for _ in range(4):
            d.start()
            starts = kills + 1
            ready = d.notify.wait_for(lambda m, n=starts: m.count("READY=1") >= n, 30)
            assert ready, d.log()[-3000:]
            # each kill lands after this start committed some progress (so the next start has
            # a cursor to resume from, however slowly a loaded machine runs), at a random
            # instant of the scan after that
            committed = _wait_for_progress(fresh_db, committed)
            time.sleep(rng.uniform(0.0, 0.6))
            d.signal(signal.SIGKILL)
            d.wait(10)
            kills += 1
        d.start()
        assert d.notify.wait_for(lambda m: m.count("READY=1") > kills, 30), d.log()[-3000:]
        deadline = time.monotonic() + 120
        row = None
        while time.monotonic() < deadline:
            row = query(
                fresh_db,
                "SELECT position, frontier, cycle FROM scan_cursors "
                "WHERE scanner = 'uzum.products'",
            )
            lots = query(fresh_db, "SELECT count(*) AS n FROM uzex_lots")["n"]
            uzum_done = (
                row is not None and row["frontier"] == frontier and row["position"] >= frontier
            )
            if uzum_done and lots >= uzex_total:
                break
            time.sleep(0.3)
        assert row is not None and row["position"] >= frontier, (row, d.log()[-3000:])
        assert row["cycle"] == 1  # resumed, never restarted from scratch
        positions = [
            int(line.split('"position": ')[1].split(",")[0])
            for line in d.log().splitlines()
            if "scanner_resumed" in line and '"scanner": "uzum.products"' in line
        ]
        assert positions == sorted(positions) and 0 < positions[-1] < frontier, positions
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()
    assert d.log().count("scanner_resumed") >= 1

    async def compare() -> None:
        pool = await db.create_pool(fresh_db)
        try:
            await _assert_equals_catalogue(pool, catalogue, range(1, frontier + 1))
            # UZEX, killed mid-backfill as well: every lot and item exactly once, right values
            await assert_matches_catalogue(pool, uzex_catalogue)
        finally:
            await pool.close()

    asyncio.run(compare())


async def _assert_equals_catalogue(
    pool: asyncpg.Pool, catalogue: UzumCatalogue, ids: range
) -> None:
    """The stored products, SKUs and misses of `ids` are the catalogue's, and time stood
    still: exactly one history row per SKU and per product, however many times an id was
    fetched again after a kill; nothing dead-lettered."""
    expected = expected_state(catalogue, ids, 0)
    assert await stored_state(pool, ids) == expected
    assert await missing_ids(pool, ids) == set(ids) - set(expected)
    skus = await pool.fetchval("SELECT count(*) FROM skus")
    assert await pool.fetchval("SELECT count(*) FROM price_history") == skus
    assert await pool.fetchval("SELECT count(*) FROM product_stats_history") == len(expected)
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0


def _checked(cfg: DatabaseConfig) -> int:
    """Ids whose visit is committed (the schedule holds no id above the frontier window)."""
    row = query(cfg, "SELECT count(*) AS n FROM uzum_schedule WHERE checked_at IS NOT NULL")
    return int(row["n"]) if row is not None else 0


def test_sigkill_at_random_moments_loses_nothing_in_adaptive_mode(
    tmp_path: Path, fresh_db: DatabaseConfig, simulator: str
) -> None:
    rng = random.Random(2025)
    catalogue = UzumCatalogue(SEED, N_IDS)
    highest = catalogue.highest_id
    window = 300
    top = highest + window
    d = DaemonProcess(
        tmp_path,
        fresh_db,
        # short leases: a killed daemon's claim comes back within seconds, not lease_s's 10 min
        config(rps=800, mode="adaptive", extra=f"frontier_window = {window}\nlease_s = 3.0"),
        {"UZUM_BASE_URL": simulator},
    )
    kills = 0
    try:
        for _ in range(4):
            d.start()
            ready = d.notify.wait_for(lambda m, n=kills + 1: m.count("READY=1") >= n, 30)
            assert ready, d.log()[-3000:]
            # each kill lands after this start committed some visits, at a random instant after
            before = _checked(fresh_db)
            deadline = time.monotonic() + 60
            while _checked(fresh_db) <= before and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.6))
            d.signal(signal.SIGKILL)
            d.wait(10)
            kills += 1
        assert _checked(fresh_db) < top, "the kills all landed after the first pass"
        d.start()
        assert d.notify.wait_for(lambda m: m.count("READY=1") > kills, 30), d.log()[-3000:]
        # the leases of the killed daemons expire (lease_s) and their ids are visited again
        deadline = time.monotonic() + 180
        while _checked(fresh_db) < top and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _checked(fresh_db) == top, d.log()[-3000:]
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()

    async def compare() -> None:
        pool = await db.create_pool(fresh_db)
        try:
            await _assert_equals_catalogue(pool, catalogue, range(1, top + 1))
            # no committed visit is without its next one
            assert (
                await pool.fetchval(
                    "SELECT count(*) FROM uzum_schedule WHERE checked_at IS NOT NULL "
                    "AND next_due <= checked_at"
                )
                == 0
            )
        finally:
            await pool.close()

    asyncio.run(compare())


def test_sigkill_between_fetch_and_commit_leaves_no_fingerprint_without_its_rows(
    tmp_path: Path, fresh_db: DatabaseConfig, simulator: str
) -> None:
    """The writer is held inside its transaction (products written, fingerprints not yet) by a
    lock on the visits table, and the daemon is killed there: nothing of that batch exists
    afterwards, and after a restart every stored fingerprint is that of the body the stored
    rows equal."""
    catalogue = UzumCatalogue(SEED, N_IDS)
    frontier = catalogue.highest_id + 300

    async def hold_lock() -> asyncpg.Connection:
        conn = await db.connect(fresh_db)
        await conn.execute("BEGIN; LOCK TABLE uzum_visits IN SHARE MODE")
        return conn

    loop = asyncio.new_event_loop()
    locker = loop.run_until_complete(hold_lock())
    d = DaemonProcess(tmp_path, fresh_db, config(rps=800), {"UZUM_BASE_URL": simulator})
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()[-3000:]
        deadline = time.monotonic() + 30
        while sim_requests(simulator) < 400 and time.monotonic() < deadline:
            time.sleep(0.1)
        waiting = loop.run_until_complete(
            locker.fetchval(
                "SELECT count(*) FROM pg_locks WHERE relation = 'uzum_visits'::regclass "
                "AND NOT granted"
            )
        )
        assert waiting == 1, d.log()[-3000:]  # the writer, mid-transaction
        d.signal(signal.SIGKILL)
        d.wait(10)
        loop.run_until_complete(locker.execute("ROLLBACK"))
        for table in ("uzum_visits", "products", "skus"):
            assert query(fresh_db, f"SELECT count(*) AS n FROM {table}")["n"] == 0, table  # noqa: S608
        d.start()
        assert d.notify.wait_for(lambda m: m.count("READY=1") >= 2, 30), d.log()[-3000:]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = query(
                fresh_db, "SELECT position FROM scan_cursors WHERE scanner = 'uzum.products'"
            )
            if row is not None and row["position"] >= frontier:
                break
            time.sleep(0.3)
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()
        loop.run_until_complete(locker.close())

    async def compare() -> None:
        fingerprint = Fingerprinter()
        pool = await db.create_pool(fresh_db)
        try:
            ids = range(1, frontier + 1)
            expected = expected_state(catalogue, ids, 0)
            assert await stored_state(pool, ids) == expected
            stored = dict(await pool.fetch("SELECT product_id, fingerprint FROM uzum_visits"))
            assert set(stored) == set(expected)
            async with aiohttp.ClientSession() as session:
                for pid, fp in stored.items():
                    async with session.get(f"{simulator}/api/v2/product/{pid}") as resp:
                        assert fp == fingerprint(await resp.read()), pid
        finally:
            await pool.close()

    loop.run_until_complete(compare())
    loop.close()
