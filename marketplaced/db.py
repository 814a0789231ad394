"""PostgreSQL access: connecting with bounded patience, and the migration runner.

Migrations are the numbered files in `sql/` (`001_daemon.sql`, `002_uzum.sql` …), applied in
order, each inside its own transaction, recorded in `schema_migrations`, under a session
advisory lock so two processes cannot migrate at once. Landed files are never edited; the code
declares the version it needs (`EXPECTED_VERSION` = the highest file number) and refuses to run
on an older or newer schema.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from marketplaced import log
from marketplaced.config import DatabaseConfig
from marketplaced.errors import DatabaseError, SchemaError

#: arbitrary constant identifying "marketplaced migrations" among advisory locks
MIGRATION_LOCK_KEY = 0x6D61726B  # 'mark'

_MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

_log = log.get(__name__)

#: what a query function accepts: a plain connection or one borrowed from a pool
Conn: TypeAlias = asyncpg.Connection | PoolConnectionProxy


#: errors that mean "the database is (temporarily) not there": wait and try again
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


#: errors meaning PostgreSQL cannot answer a reader now (down, restarting, unreachable, out of
#: connections, too slow) — not a bug in a query, which stays an internal error. Narrower than
#: TRANSIENT_ERRORS: a page does not retry a deadlock, it reports it.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path


def sql_dir() -> Path:
    """Where the migrations are: $MARKETPLACED_SQL_DIR, the source tree, or the installed copy."""
    explicit = os.environ.get("MARKETPLACED_SQL_DIR")
    candidates = [Path(explicit)] if explicit else []
    candidates += [
        Path(__file__).resolve().parent.parent / "sql",
        Path(sys.prefix) / "share" / "marketplaced" / "sql",
    ]
    for cand in candidates:
        if cand.is_dir() and any(cand.glob("[0-9][0-9][0-9]_*.sql")):
            return cand
    raise DatabaseError(
        "cannot find the sql/ migration files; reinstall the package or set MARKETPLACED_SQL_DIR"
    )


def migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or sql_dir()
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_RE.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), path.stem, path))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise DatabaseError(
            f"migration files in {directory} are not numbered 001, 002, … without gaps"
        )
    return found


def expected_version() -> int:
    return len(migrations())


#: every session's pg_trgm settings. Search (web/search.py) filters with `<<%`, which compares
#: strict word similarity with this setting: pg_trgm's default 0.5 lets no wrong letter through
#: in a 7-letter word ("samsyng" is 0.45 from "samsung"); 0.4 does, and keeps "telefn" off
#: "televizor" (0.31) and "kol" off "kolbasa" (0.33)
#: jit off: the dashboard's statements run in milliseconds, and compiling one that the planner
#: costs high (a search over a common word) took longer (≈ 80 ms) than it saved; the batch
#: jobs' big statements are bound by reading and sorting, which JIT does not speed up
SERVER_SETTINGS = {"pg_trgm.strict_word_similarity_threshold": "0.4", "jit": "off"}


def connect_kwargs(cfg: DatabaseConfig) -> dict[str, Any]:
    return {
        "host": cfg.host,
        "port": cfg.port,
        "database": cfg.name,
        "user": cfg.user,
        "password": cfg.password or None,
        "server_settings": dict(SERVER_SETTINGS),
    }


def describe(cfg: DatabaseConfig) -> str:
    return f"postgresql://{cfg.user}@{cfg.host}:{cfg.port}/{cfg.name}"


async def connect(cfg: DatabaseConfig, *, wait_s: float = 0.0) -> asyncpg.Connection:
    """One connection, retrying with backoff for up to `wait_s` seconds."""
    conn = await _retrying(lambda: asyncpg.connect(**connect_kwargs(cfg), timeout=10), cfg, wait_s)
    return cast(asyncpg.Connection, conn)


async def create_pool(
    cfg: DatabaseConfig, *, wait_s: float = 0.0, min_size: int | None = None
) -> asyncpg.Pool:
    """A pool of `database.pool_min`..`pool_max` connections (`min_size` instead of the
    configured floor: a one-command pool keeps none, or asyncpg's floor keeper logs a trace
    for every reconnect attempt while the database is away)."""

    async def make() -> asyncpg.Pool:
        pool = await asyncpg.create_pool(
            **connect_kwargs(cfg),
            min_size=cfg.pool_min if min_size is None else min_size,
            max_size=cfg.pool_max,
            timeout=10,
            command_timeout=cfg.command_timeout_s,
        )
        assert pool is not None
        return pool

    return cast(asyncpg.Pool, await _retrying(make, cfg, wait_s))


async def _retrying(make: Callable[[], Any], cfg: DatabaseConfig, wait_s: float) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    delay = 0.5
    attempt = 0
    while True:
        attempt += 1
        try:
            return await make()
        except asyncpg.InvalidPasswordError as exc:
            raise DatabaseError(
                f"PostgreSQL rejected the credentials for {describe(cfg)}: {exc}. "
                "Check DB_USER/DB_PASSWORD in the environment file."
            ) from None
        except asyncpg.InvalidCatalogNameError:
            raise DatabaseError(
                f"database '{cfg.name}' does not exist on {cfg.host}:{cfg.port}; "
                "run install.sh or create it, then `marketplaced migrate`"
            ) from None
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise DatabaseError(
                    f"cannot connect to PostgreSQL at {describe(cfg)} after {attempt} attempt(s): "
                    f"{exc or type(exc).__name__}. Is the server running (pg_lsclusters / "
                    "systemctl status postgresql) and are DB_HOST/DB_PORT right?"
                ) from None
            _log.warning(
                "database_unreachable",
                target=describe(cfg),
                attempt=attempt,
                error=str(exc) or type(exc).__name__,
                retry_in_s=round(delay, 2),
            )
            await asyncio.sleep(min(delay, remaining))
            # jitter keeps several restarting instances from reconnecting in lock-step
            delay = min(delay * 2, 10.0) * random.uniform(0.8, 1.2)


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def applied_versions(conn: Conn) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    return {r["version"]: r["name"] for r in rows}


async def migrate(conn: asyncpg.Connection, *, lock_timeout_s: float = 0.0) -> list[Migration]:
    """Apply pending migrations; returns what was applied. Raises DatabaseError when another
    process holds the migration lock (after waiting `lock_timeout_s`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lock_timeout_s
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_KEY):
        if loop.time() >= deadline:
            raise DatabaseError(
                "another process is migrating this database right now "
                "(advisory lock held); wait for it to finish and try again"
            )
        await asyncio.sleep(0.2)
    try:
        await conn.execute(_CREATE_LEDGER)
        done = await applied_versions(conn)
        files = migrations()
        _check_not_newer(done, files)
        applied = []
        for mig in files:
            if mig.version in done:
                continue
            sql = mig.path.read_text(encoding="utf-8")
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    mig.version,
                    mig.name,
                )
            _log.info("migration_applied", version=mig.version, name=mig.name)
            applied.append(mig)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


def _check_not_newer(done: dict[int, str], files: list[Migration]) -> None:
    newest = max(done, default=0)
    if newest > len(files):
        raise SchemaError(
            f"the database is at schema version {newest}, newer than this code "
            f"knows ({len(files)}); upgrade marketplaced instead of running an "
            "older version against it"
        )


async def check_schema(conn: Conn) -> int:
    """Refuse to run on a schema other than the one the code expects."""
    done = await applied_versions(conn)
    files = migrations()
    _check_not_newer(done, files)
    missing = [m.version for m in files if m.version not in done]
    if missing:
        raise SchemaError(
            f"the database schema is at version {max(done, default=0)} but this code "
            f"needs {len(files)} (pending: {', '.join(map(str, missing))}); run "
            "`marketplaced migrate` first"
        )
    return len(files)
