"""Operator commands against real PostgreSQL: counts, dump/restore round trip, refusals."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketplaced import db, ops
from marketplaced.config import DatabaseConfig
from marketplaced.errors import MarketplacedError

from .conftest import base_config, env_for_tests


def cfg_for(database: DatabaseConfig):  # type: ignore[no-untyped-def]
    return dataclasses.replace(base_config(), database=database)


async def test_counts_exact_and_estimated(fresh_db: DatabaseConfig) -> None:
    conn = await db.connect(fresh_db)
    try:
        await conn.execute(
            "INSERT INTO categories (id, title) SELECT g, 't' || g FROM generate_series(1, 250) g"
        )
        rows = {name: (n, exact) for name, n, exact in await ops.counts(conn, exact=False)}
        assert rows["categories"] == (250, True)
        assert rows["products"] == (0, True)
        assert "price_history" in rows and "price_history_default" not in rows  # partitions fold in
        # a big table is estimated from statistics unless --exact
        await conn.execute(
            "INSERT INTO uzum_miss_forms (form, seen) "
            "SELECT 'f' || g, g FROM generate_series(1, 150000) g"
        )
        await conn.execute("ANALYZE uzum_miss_forms")
        est = {name: (n, exact) for name, n, exact in await ops.counts(conn, exact=False)}
        assert est["uzum_miss_forms"][1] is False
        assert abs(est["uzum_miss_forms"][0] - 150000) < 15000
        exact = {name: (n, e) for name, n, e in await ops.counts(conn, exact=True)}
        assert exact["uzum_miss_forms"] == (150000, True)
    finally:
        await conn.close()


def test_dump_and_restore_round_trip(
    fresh_db: DatabaseConfig, empty_db: DatabaseConfig, tmp_path: Path
) -> None:
    import asyncio

    async def seed() -> None:
        conn = await db.connect(fresh_db)
        try:
            await conn.execute(
                "INSERT INTO sellers (id, title) VALUES (1, 'Aeris.uz'), (2, 'Кирилл')"
            )
        finally:
            await conn.close()

    asyncio.run(seed())
    target = tmp_path / "backup.dump"
    out = io.StringIO()
    ops.dump(cfg_for(fresh_db), target, out)
    assert target.is_file() and target.stat().st_size > 0
    assert not (tmp_path / "backup.dump.partial").exists()
    assert "dump:" in out.getvalue()

    ops.restore(cfg_for(empty_db), target, force=False, out=io.StringIO())

    async def check() -> None:
        conn = await db.connect(empty_db)
        try:
            assert await conn.fetchval("SELECT title FROM sellers WHERE id = 2") == "Кирилл"
            assert await db.check_schema(conn) == db.expected_version()
        finally:
            await conn.close()

    asyncio.run(check())
    # the target is no longer empty: refused without --force, nothing touched
    with pytest.raises(MarketplacedError, match="not empty"):
        ops.restore(cfg_for(empty_db), target, force=False, out=io.StringIO())
    ops.restore(cfg_for(empty_db), target, force=True, out=io.StringIO())
    asyncio.run(check())


def test_restore_of_corrupt_file_is_refused_cleanly(
    empty_db: DatabaseConfig, tmp_path: Path
) -> None:
    bad = tmp_path / "corrupt.dump"
    bad.write_bytes(b"PGDMP" + os.urandom(200))
    with pytest.raises(MarketplacedError, match="not a readable pg_dump"):
        ops.restore(cfg_for(empty_db), bad, force=False, out=io.StringIO())
    with pytest.raises(MarketplacedError, match="no such file"):
        ops.restore(cfg_for(empty_db), tmp_path / "nope.dump", force=False, out=io.StringIO())


def test_counts_and_migrate_status_via_cli(fresh_db: DatabaseConfig) -> None:
    env = {
        **env_for_tests(),
        "DB_NAME": fresh_db.name,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "marketplaced.cli", "counts"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "products" in proc.stdout and "scan_cursors" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "marketplaced.cli", "migrate", "--status"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "001  applied" in proc.stdout and "PENDING" not in proc.stdout
