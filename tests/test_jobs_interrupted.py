"""`marketplaced jobs run` as a user runs it (a subprocess) when its database connection is cut
mid-run: a proxy in front of the shared PostgreSQL is cut, the server itself is never touched.

The run is held on a statement (the test locks the table the coverage job reads first, over a
connection of its own that bypasses the proxy), the proxy is cut while it waits, and then
either comes back within the command's short wait — the command itself records the run as
interrupted — or stays away — the command says so in one line and the next run of any job
closes the row its process left behind."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import asyncpg
import pytest

from marketplaced.config import DatabaseConfig
from tests.helpers.cli import cli

from .conftest import env_for_tests
from .helpers.sockets import TcpProxy

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def proxy(fresh_db: DatabaseConfig) -> Iterator[TcpProxy]:
    p = TcpProxy(fresh_db.host, fresh_db.port)
    yield p
    p.close()


def _env(db: DatabaseConfig, proxy: TcpProxy) -> dict[str, str]:
    return {
        **env_for_tests(),
        "PATH": os.environ.get("PATH", ""),
        "DB_NAME": db.name,
        "DB_PORT": str(proxy.port),
    }


async def _blocked_on_lock(pool: asyncpg.Pool, db_name: str) -> None:
    """Until a session of `db_name` other than ours waits for a table lock (the job's query)."""
    for _ in range(600):
        waiting = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = "
            "'Lock' AND pid <> pg_backend_pid()",
            db_name,
        )
        if waiting:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the job never reached its query")


async def _run_cut(
    pool: asyncpg.Pool, fresh_db: DatabaseConfig, proxy: TcpProxy, *, back_after_s: float | None
) -> tuple[int, str, str]:
    """`jobs run coverage` with its connections cut while it waits on a locked table; the
    proxy listens again after `back_after_s` (never during the command when None)."""
    async with pool.acquire() as holder, holder.transaction():
        await holder.execute("LOCK TABLE scan_coverage IN ACCESS EXCLUSIVE MODE")
        command = asyncio.create_task(cli(_env(fresh_db, proxy), "jobs", "run", "coverage"))
        await _blocked_on_lock(pool, fresh_db.name)
        proxy.cut()
        if back_after_s is not None:
            await asyncio.sleep(back_after_s)
            proxy.restore()
        code, out, err = await command
    if back_after_s is None:
        proxy.restore()
    return code, out, err


async def test_a_run_whose_database_comes_back_soon_is_recorded_interrupted(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool, proxy: TcpProxy
) -> None:
    code, out, err = await _run_cut(pool, fresh_db, proxy, back_after_s=1.0)
    assert code == 1, out + err
    assert "Traceback" not in err, err
    (line,) = [x for x in out.splitlines() if x.startswith("coverage:")]
    assert "coverage: interrupted (run " in line and "database connection lost" in line, line
    rows = await pool.fetch("SELECT outcome, finished_at, error FROM job_runs")
    assert [r["outcome"] for r in rows] == ["interrupted"], rows
    assert rows[0]["finished_at"] is not None
    assert "database connection lost" in rows[0]["error"]


async def test_a_run_whose_database_stays_away_says_so_and_the_next_run_closes_it(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool, proxy: TcpProxy
) -> None:
    code, out, err = await _run_cut(pool, fresh_db, proxy, back_after_s=None)
    assert code == 1, out + err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("marketplaced jobs: run ") and "of coverage" in last, err
    assert "did not answer again within" in last and "stays 'running'" in last, last
    (run_id,) = [r["id"] for r in await pool.fetch("SELECT id FROM job_runs")]
    assert await pool.fetchval("SELECT outcome FROM job_runs WHERE id = $1", run_id) == "running"

    # the next run of another job finds the row without an owner (no process holds the
    # coverage lock any more) and closes it
    code, out, err = await cli(_env(fresh_db, proxy), "jobs", "run", "retention")
    assert code == 0, out + err
    row = await pool.fetchrow(
        "SELECT outcome, finished_at, error FROM job_runs WHERE id = $1", run_id
    )
    assert row["outcome"] == "interrupted" and row["finished_at"] is not None, row
    assert "the process running it ended" in row["error"]


async def test_a_running_row_whose_job_lock_is_held_is_left_alone(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool, proxy: TcpProxy
) -> None:
    """The sweep's other half: a run that is alive (its lock is held) is not an orphan."""
    live = await pool.fetchval("INSERT INTO job_runs (job) VALUES ('vacuum') RETURNING id")
    dead = await pool.fetchval("INSERT INTO job_runs (job) VALUES ('analytics') RETURNING id")
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(x'6a6f6273'::int, hashtext('vacuum'))")
        code, out, err = await cli(_env(fresh_db, proxy), "jobs", "run", "retention")
        await conn.execute("SELECT pg_advisory_unlock_all()")
    assert code == 0, out + err
    outcomes = dict(
        await pool.fetch("SELECT id, outcome FROM job_runs WHERE id = ANY($1)", [live, dead])
    )
    assert outcomes == {live: "running", dead: "interrupted"}
