"""`marketplaced download` and `process-raw` as a user runs them: subprocesses against the
simulator, real PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import asyncpg

from marketplaced.config import DatabaseConfig
from marketplaced.simulator.app import SimulatorOptions, build
from tests.helpers.cli import cli

from .conftest import env_for_tests


async def test_download_both_platforms_and_reprocess_the_archive(
    aiohttp_server: Any, fresh_db: DatabaseConfig, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    sims = build(SimulatorOptions(seed=5, n_ids=400, tick_seconds=0, uzex_deals=120))
    server = await aiohttp_server(sims.app)
    origin = str(server.make_url("")).rstrip("/")
    conf = tmp_path / "c.toml"
    conf.write_text("[uzum]\nrps = 0.0\n[uzex]\nrps = 0.0\n[archive]\nenabled = true\n")
    env = {
        **env_for_tests(),
        "PATH": os.environ.get("PATH", ""),
        "DB_NAME": fresh_db.name,
        "MARKETPLACED_CONFIG": str(conf),
        "UZUM_BASE_URL": origin,
        "UZEX_BASE_URL": origin,
        "STATE_DIRECTORY": str(tmp_path / "state"),
    }
    # the CLI's pool and the fixture's pool point at the same fresh database
    code, out, err = await cli(env, "download", "uzum", "--from", "1", "--to", "300")
    assert code == 0, err
    want = sum(1 for i in range(1, 301) if sims.uzum.catalogue.exists(i))
    assert f"found {want}," in out
    assert "300/300 ids" in err  # the progress line
    assert await pool.fetchval("SELECT count(*) FROM products") == want

    code, out, err = await cli(env, "download", "uzex", "--type", "shop", "--target", "50")
    assert code == 0, err
    assert await pool.fetchval("SELECT count(*) FROM uzex_lots WHERE lot_type = 'shop'") >= 50

    # raw responses were archived: wipe the products and rebuild them from the archive
    assert list((tmp_path / "state" / "raw" / "uzum" / "product").rglob("*.jsonl.gz"))
    await pool.execute("TRUNCATE products, skus")
    code, out, err = await cli(env, "process-raw", "uzum")
    assert code == 0, err
    assert f"re-parsed: {want} products" in out
    assert await pool.fetchval("SELECT count(*) FROM products") == want

    sims.uzex.faults = type(sims.uzex.faults)(auction_not_valid=True)
    code, out, err = await cli(env, "download", "uzex", "--type", "auction", "--target", "10")
    assert code == 1
    assert "blocked" in err


async def test_bad_arguments_are_clear(fresh_db: DatabaseConfig) -> None:
    env = {**env_for_tests(), "PATH": os.environ.get("PATH", ""), "DB_NAME": fresh_db.name}
    code, _, err = await cli(env, "download", "amazon")
    assert code == 2
    assert "invalid choice: 'amazon'" in err
    code, _, err = await cli(env, "download", "uzum", "--from", "abc")
    assert code == 2
    assert "invalid int value" in err
