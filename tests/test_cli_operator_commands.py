"""Operator commands as a user runs them (subprocesses, real PostgreSQL): db-shell passes its
arguments to psql, `jobs` on an unmigrated database says what to do, `jobs list` shows every
time in the scheduler's zone and names it, `jobs run` prints what really happened."""

from __future__ import annotations

import os

import asyncpg
import pytest

from marketplaced.config import DatabaseConfig
from tests.helpers.cli import cli

from .conftest import env_for_tests

pytestmark = pytest.mark.timeout(120)


def _env(db: DatabaseConfig) -> dict[str, str]:
    # the shipped file, i.e. the defaults: min_products_per_hour 1000, Asia/Tashkent schedules
    return {**env_for_tests(), "PATH": os.environ.get("PATH", ""), "DB_NAME": db.name}


async def test_db_shell_passes_psql_options_through(fresh_db: DatabaseConfig) -> None:
    code, out, err = await cli(_env(fresh_db), "db-shell", "-Atc", "select 40 + 2")
    assert (code, out.strip()) == (0, "42"), err


async def test_jobs_on_an_unmigrated_database_say_what_to_do(empty_db: DatabaseConfig) -> None:
    for args in (("jobs", "list"), ("jobs", "run", "vacuum")):
        code, _, err = await cli(_env(empty_db), *args)
        assert code == 1, err
        assert "run `marketplaced migrate` first" in err
        assert "Traceback" not in err


async def test_jobs_list_and_run_print_what_happened(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool
) -> None:
    env = _env(fresh_db)
    # a coverage run stamped 2099-01-01 00:00 UTC: last 05:00 and next 05:05 in Tashkent
    await pool.execute(
        "INSERT INTO job_runs (job, started_at, finished_at, outcome, rows_touched) "
        "VALUES ('coverage', '2099-01-01 00:00+00', '2099-01-01 00:00:01+00', 'ok', 3)"
    )
    code, out, err = await cli(env, "jobs", "list")
    assert code == 0, err
    assert out.splitlines()[0] == "times in Asia/Tashkent"
    (line,) = [x for x in out.splitlines() if x.startswith("coverage")]
    assert "next 2099-01-01 05:05" in line and "last 2099-01-01 05:00 ok rows=3" in line

    # the job is held elsewhere: skipped, said without a meaningless "rows None"
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(x'6a6f6273'::int, hashtext('vacuum'))")
        code, out, err = await cli(env, "jobs", "run", "vacuum")
        await conn.execute("SELECT pg_advisory_unlock_all()")
    assert code == 1, err
    assert "vacuum: skipped" in out and "None" not in out

    # an empty database: the products-per-hour floor fails, so health is not "ok"
    code, out, err = await cli(env, "jobs", "run", "health", "--commit")
    assert code == 1, out + err
    assert "health: FAILING" in out
    assert "products_updated  FAILING" in out
