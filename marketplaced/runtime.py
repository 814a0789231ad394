"""The resources of a one-shot command (`download`, `process-raw`), owned like the daemon's.

`one_shot(cfg)` opens pool → writer → fetcher and closes them in reverse; on the way out the
writer is flushed and drained, so everything the command queued is committed.

The writer runs as a task beside the command's body. If it dies (a record and then its dead
letter both refused by PostgreSQL, a bug), nothing would ever commit or acknowledge again and
the body would wait on a full queue or a flush forever; so its death cancels the body, like a
TaskGroup does, and the command ends with `WriterStoppedError` naming the cause.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from marketplaced import db
from marketplaced.config import Config
from marketplaced.errors import MarketplacedError
from marketplaced.http import Fetcher
from marketplaced.writer import Writer


@asynccontextmanager
async def one_shot(cfg: Config) -> AsyncIterator[tuple[asyncpg.Pool, Writer, Fetcher]]:
    from marketplaced import platforms  # platforms' one-shot commands import this module

    pool = await db.create_pool(cfg.database, wait_s=cfg.daemon.startup_wait_s)
    try:
        async with pool.acquire() as conn:
            await db.check_schema(conn)
        writer = Writer(pool, cfg.writer, platforms.sinks())
        writer_task = asyncio.create_task(writer.run())
        body = asyncio.current_task()
        assert body is not None
        writer_task.add_done_callback(lambda task: _cancel_on_death(task, body))
        try:
            async with platforms.new_fetcher(cfg) as fetcher:
                yield pool, writer, fetcher
            await writer.flush()
        except asyncio.CancelledError:
            cause = _death(writer_task)
            if cause is None:
                raise
            body.uncancel()  # our own cancel, turned into the error below
            raise WriterStoppedError(
                f"the database writer stopped ({type(cause).__name__}: {cause}); what it had "
                "committed stays committed, the rest was not stored"
            ) from cause
        finally:
            writer_task.cancel()
            await asyncio.gather(writer_task, return_exceptions=True)
            if _death(writer_task) is None:
                await writer.drain()
    finally:
        await pool.close()


class WriterStoppedError(MarketplacedError):
    """The writer of a one-shot command died; the command cannot store anything more."""


def _death(task: asyncio.Task[None]) -> BaseException | None:
    """The exception a finished writer task died of, None while it runs or when cancelled."""
    if not task.done() or task.cancelled():
        return None
    return task.exception()


def _cancel_on_death(writer_task: asyncio.Task[None], body: asyncio.Task[Any]) -> None:
    if _death(writer_task) is not None:
        body.cancel()
