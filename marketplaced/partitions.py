"""Partition DDL that never stalls the writer: short lock timeout, retried, reported.

Creating or dropping a partition takes an ACCESS EXCLUSIVE lock on the partitioned parent.
Waiting for it behind a long reader (the analytics job, a vacuum, a dashboard query), the DDL
would sit in the lock queue, and every writer insert into that table would queue behind the
DDL: scanning stops for as long as the reader runs. So each statement here runs in its own
short transaction with `lock_timeout`; when the lock does not come, it gives up, lets the
writers through, and tries again a little later; after the last attempt it raises
`PartitionBusyError` and the caller reports it (retention runs again the next night, and the
partitions are created months ahead, so a deferred run costs nothing).

Before partitions are created, rows that landed in a table's DEFAULT partition are moved into
a partition of their own month (or deleted when that month is past retention): otherwise the
creation of their month fails on every run ("updated partition constraint for default
partition … would be violated").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

import asyncpg

from marketplaced import log
from marketplaced.errors import MarketplacedError

_log = log.get(__name__)

_SET_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', $1, true)"
_ENSURE = "SELECT marketplaced_ensure_partitions($1, 1, $2)"
_ENSURE_FOR = "SELECT marketplaced_ensure_partition_for($1, $2)"
_DROP = "SELECT * FROM marketplaced_drop_partitions_before($1, $2)"
_ADOPT = "SELECT * FROM marketplaced_adopt_default_rows($1, $2)"


class PartitionBusyError(MarketplacedError):
    """The table stayed locked by others through every attempt; nothing was changed."""


@dataclass(frozen=True, slots=True)
class LockPolicy:
    """How long partition DDL waits for its lock, and how often it tries."""

    # 0.5 s: the longest a writer insert may queue behind the DDL (a batch takes ~50 ms)
    lock_timeout_ms: int = 500
    # 6 attempts, 2 s doubling: about a minute of trying before the run reports the table busy
    attempts: int = 6
    retry_first_s: float = 2.0


DEFAULT_POLICY = LockPolicy()


async def _run(
    pool: asyncpg.Pool, what: str, parent: str, query: str, *args: object, policy: LockPolicy
) -> list[asyncpg.Record]:
    delay = policy.retry_first_s
    for attempt in range(1, policy.attempts + 1):
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(_SET_LOCK_TIMEOUT, f"{policy.lock_timeout_ms}ms")
                return list(await conn.fetch(query, *args))
        except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as exc:
            if attempt == policy.attempts:
                raise PartitionBusyError(
                    f"{parent}: {what} gave up after {attempt} attempts, the table stayed "
                    f"locked by other sessions ({exc})"
                ) from exc
            _log.warning(
                "partition_ddl_deferred",
                table=parent,
                step=what,
                attempt=attempt,
                retry_in_s=round(delay, 2),
                error=str(exc),
            )
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")


async def adopt_default_rows(
    pool: asyncpg.Pool, parent: str, keep_from: date, policy: LockPolicy = DEFAULT_POLICY
) -> int:
    """Empty `parent`'s DEFAULT partition into monthly ones; returns the rows moved/deleted."""
    rows = await _run(pool, "adopt_default_rows", parent, _ADOPT, parent, keep_from, policy=policy)
    for r in rows:
        _log.warning(
            "default_partition_rows_expired" if r["expired"] else "default_partition_rows_moved",
            table=parent,
            month=r["month"].isoformat(),
            rows=r["moved_rows"],
        )
    return sum(int(r["moved_rows"]) for r in rows)


async def ensure(
    pool: asyncpg.Pool, parent: str, months_ahead: int, policy: LockPolicy = DEFAULT_POLICY
) -> int:
    """Partitions from last month to `months_ahead`; returns how many were created."""
    rows = await _run(pool, "ensure", parent, _ENSURE, parent, months_ahead, policy=policy)
    return int(rows[0][0])


async def ensure_for(
    pool: asyncpg.Pool, parent: str, day: date, policy: LockPolicy = DEFAULT_POLICY
) -> bool:
    """The partition holding `day`; True when it had to be created."""
    rows = await _run(pool, "ensure_for", parent, _ENSURE_FOR, parent, day, policy=policy)
    return bool(rows[0][0])


async def drop_before(
    pool: asyncpg.Pool, parent: str, cutoff: date, policy: LockPolicy = DEFAULT_POLICY
) -> list[str]:
    """Drop the partitions that end on or before `cutoff`; returns their names."""
    rows = await _run(pool, "drop", parent, _DROP, parent, cutoff, policy=policy)
    return [r[0] for r in rows]
