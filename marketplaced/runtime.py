"""The resources of a one-shot command (`download`, `process-raw`), owned like the daemon's.

`one_shot(cfg)` opens pool → writer → fetcher and closes them in reverse; on the way out the
writer is flushed and drained, so everything the command queued is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from marketplaced import db
from marketplaced.config import Config
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
        try:
            async with platforms.new_fetcher(cfg) as fetcher:
                yield pool, writer, fetcher
            await writer.flush()
        finally:
            writer_task.cancel()
            await asyncio.gather(writer_task, return_exceptions=True)
            await writer.drain()
    finally:
        await pool.close()
