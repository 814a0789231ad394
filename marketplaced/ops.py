"""Operator commands on the database: counts, dump, restore, db-shell.

dump/restore wrap pg_dump/pg_restore (custom format) with the configured credentials, show
progress from their verbose output, and never leave half-done work: a dump is written to a
temporary file and renamed when complete; a restore is checked first (`pg_restore --list`) and
runs in a single transaction, refusing a non-empty database unless told.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

import asyncpg

from marketplaced import db
from marketplaced.config import Config, DatabaseConfig
from marketplaced.errors import MarketplacedError

#: below this many estimated rows an exact count(*) is cheap enough to do by default
EXACT_BELOW = 100_000

_TABLES_SQL = """
SELECT c.relname AS name, c.relkind,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT coalesce(sum(greatest(ch.reltuples, 0)), 0)::bigint FROM pg_inherits i
               JOIN pg_class ch ON ch.oid = i.inhrelid WHERE i.inhparent = c.oid)
            ELSE greatest(c.reltuples, 0)::bigint END AS estimate
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname"""


async def counts(conn: asyncpg.Connection, *, exact: bool) -> list[tuple[str, int, bool]]:
    """(table, rows, is_exact) for every table of the schema (partitions summed into parents)."""
    out = []
    for row in await conn.fetch(_TABLES_SQL):
        name, estimate = row["name"], row["estimate"]
        if exact or estimate < EXACT_BELOW:
            n = await conn.fetchval(f'SELECT count(*) FROM "{name}"')  # noqa: S608 - catalog name
            out.append((name, int(n), True))
        else:
            out.append((name, int(estimate), False))
    return out


def pg_env(cfg: DatabaseConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PGHOST=cfg.host, PGPORT=str(cfg.port), PGDATABASE=cfg.name, PGUSER=cfg.user)
    if cfg.password:
        env["PGPASSWORD"] = cfg.password
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MarketplacedError(
            f"{name} is not installed; install the PostgreSQL client "
            "(apt-get install postgresql-client)"
        )
    return path


def _run_with_progress(cmd: list[str], env: dict[str, str], out: TextIO, what: str) -> None:
    """Run a pg tool with --verbose, turning its stderr into a one-line progress display."""
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert proc.stderr is not None
    errors: list[str] = []
    for steps, raw in enumerate(proc.stderr, start=1):
        line = raw.rstrip()
        if "error" in line.lower() or "fatal" in line.lower():
            errors.append(line)
        out.write(f"\r{what}: {steps} steps, {time.monotonic() - started:.1f} s  {line[-60:]:<60}")
        out.flush()
    proc.stderr.close()
    rc = proc.wait()
    out.write("\n")
    if rc != 0:
        detail = "; ".join(errors[-3:]) or f"exit status {rc}"
        raise MarketplacedError(f"{what} failed: {detail}")


def dump(cfg: Config, target: Path, out: TextIO = sys.stderr) -> Path:
    tmp = target.with_name(target.name + ".partial")
    cmd = [_tool("pg_dump"), "--format=custom", "--verbose", f"--file={tmp}"]
    try:
        _run_with_progress(cmd, pg_env(cfg.database), out, "dump")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.rename(target)
    return target


async def _database_is_empty(cfg: DatabaseConfig) -> bool:
    conn = await db.connect(cfg)
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r','p')"
        )
        return int(n) == 0
    finally:
        await conn.close()


def restore(cfg: Config, source: Path, *, force: bool, out: TextIO = sys.stderr) -> None:
    if not source.is_file():
        raise MarketplacedError(f"{source}: no such file")
    check = subprocess.run(
        [_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise MarketplacedError(
            f"{source} is not a readable pg_dump custom-format archive "
            f"({check.stderr.strip()[:300]}); nothing was restored"
        )
    empty = asyncio.run(_database_is_empty(cfg.database))
    if empty:
        cmd = [
            _tool("pg_restore"),
            "--verbose",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            f"--dbname={cfg.database.name}",
            str(source),
        ]
        _run_with_progress(cmd, pg_env(cfg.database), out, "restore")
        return
    if not force:
        raise MarketplacedError(
            f"database '{cfg.database.name}' is not empty; restore refuses to "
            "mix data. Stop the daemon and use --force to replace its contents."
        )
    _replace_contents(cfg, source, out)


#: run before the restored objects, in the same transaction: replace, never mix
_REPLACE_PREAMBLE = b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n"


def _replace_contents(cfg: Config, source: Path, out: TextIO) -> None:
    """Drop the schema and restore, all in ONE transaction: on any error nothing changes.

    (`pg_restore --clean` cannot drop partitioned tables' inherited constraints in order, so
    the archive is rendered as SQL and replayed by psql after a schema drop.)"""
    env = pg_env(cfg.database)
    render = subprocess.Popen(
        [_tool("pg_restore"), "--no-owner", "--file=-", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    replay = subprocess.Popen(
        [
            _tool("psql"),
            "--quiet",
            "--no-psqlrc",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            "--output=/dev/null",
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert render.stdout is not None and replay.stdin is not None
    sent = 0
    try:
        replay.stdin.write(_REPLACE_PREAMBLE)
        while chunk := render.stdout.read(1 << 16):
            replay.stdin.write(chunk)
            sent += len(chunk)
            out.write(f"\rrestore: {sent / 1e6:.1f} MB replayed")
            out.flush()
        replay.stdin.close()
    except BrokenPipeError:
        pass  # psql stopped on an error; its message is read below
    render_err = render.communicate()[1]
    assert replay.stderr is not None
    replay_err = replay.stderr.read()
    replay.stderr.close()
    replay.wait()
    out.write("\n")
    if render.returncode != 0 or replay.returncode != 0:
        detail = (replay_err or render_err).decode(errors="replace").strip()[-500:]
        raise MarketplacedError(
            f"restore failed and was rolled back, the database is unchanged: {detail}"
        )


def db_shell(cfg: Config, args: list[str]) -> None:
    psql = _tool("psql")
    os.execvpe(psql, [psql, *args], pg_env(cfg.database))
