"""Keeping the job-run ledger true when a run's process or its database goes away.

A run holds its job's advisory lock (scheduler.py) from before it starts until its outcome is
known, on a session of its own, and PostgreSQL releases a session's locks when the session
ends — with its process, or when the connection is cut. So a `running` row whose job lock
nobody holds has no owner left: `close_orphans` marks it `interrupted`. That test is exact
where an age limit (started longer ago than the job's budget) is only a guess, which either
waits long after a crash or closes a slow run that is still alive. It runs wherever a run
starts (under that job's lock: any other `running` row of the same job is an orphan too) and
when the daemon's scheduler starts, so a command killed mid-run, or one that lost its
database, is accounted for by the next run of any job, from the daemon or the command line.

`finish_patiently` writes a run's outcome when the database blinked under it: a restart of
PostgreSQL takes seconds, so the outcome is tried again for a short, bounded time rather than
left `running`; when the database stays away longer the orphan sweep closes the row later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from marketplaced import db
from marketplaced.errors import DatabaseError

T = TypeVar("T")

#: errors that say the connection failed, not the job: the run is `interrupted`, not `failed`
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)

#: seconds a run's outcome is retried after the database went away: a restarting server is
#: back within this; longer, and the command should say so rather than keep its user waiting
RECORD_WAIT_S = 10.0
#: first pause between those retries and its cap (0.25 s, 0.5 s, 1 s, 2 s, 2 s …)
_RETRY_FIRST_S = 0.25
_RETRY_MAX_S = 2.0

_ORPHAN_ERROR = "interrupted: the process running it ended or lost its database"
# a two-key advisory lock shows in pg_locks as classid = key 1, objid = key 2, objsubid = 2
_CLOSE_ORPHANS = """
UPDATE job_runs r SET outcome = 'interrupted', finished_at = now(), error = $4
WHERE r.outcome = 'running' AND r.id IS DISTINCT FROM $3::bigint
  AND (r.job = $2::text OR NOT EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1::int4::oid AND l.objid = hashtext(r.job)::oid))
RETURNING r.id, r.job"""


class RunNotRecordedError(DatabaseError):
    """A run's outcome could not be written: the database did not come back in time."""


async def close_orphans(
    conn: db.Conn | asyncpg.Pool, lock_class: int, job: str | None = None, run_id: int | None = None
) -> list[tuple[int, str]]:
    """Mark `interrupted` every `running` row whose job lock is free, and — called under
    `job`'s lock by its run `run_id` — every other `running` row of `job`; (id, job) of each.

    A row inserted by a run that has not taken its lock yet (a few milliseconds) may be
    closed too; that run then writes its own outcome over it (skipped, or how it ended)."""
    rows = await conn.fetch(_CLOSE_ORPHANS, lock_class, job, run_id, _ORPHAN_ERROR)
    return [(r["id"], r["job"]) for r in rows]


async def finish_patiently(
    write: Callable[[], Awaitable[T]], what: str, wait_s: float = RECORD_WAIT_S
) -> T:
    """`await write()`, tried again for up to `wait_s` while the database is unreachable;
    RunNotRecordedError (naming `what`) after that."""
    deadline = time.monotonic() + wait_s
    delay = _RETRY_FIRST_S
    while True:
        try:
            return await write()
        except db.TRANSIENT_ERRORS as exc:
            raise_if_cancelling(exc)
            if time.monotonic() + delay > deadline:
                raise RunNotRecordedError(
                    f"{what}: PostgreSQL did not answer again within {wait_s:g} s to record "
                    f"its outcome ({describe(exc)}); it stays 'running' until the next run of "
                    "a job or the daemon's next start marks it interrupted"
                ) from exc
        await asyncio.sleep(delay)
        delay = min(delay * 2, _RETRY_MAX_S)


def raise_if_cancelling(exc: BaseException) -> None:
    """Inside `except <transient error>`: a stop that cancelled us mid-connect can reach us as
    that error (asyncpg's connect timeout turns the cancellation into a TimeoutError); the
    cancellation must go on, not be mistaken for an outage and swallowed."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
