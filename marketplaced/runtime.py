"""The shared runner of one-shot commands (`download`, `process-raw`) of every platform.

`one_shot(cfg, platform=…, sinks=…, routes=…)` owns the resources like the daemon does: it
opens pool → writer → fetcher and closes them in reverse; on the way out the writer is flushed
and drained, so everything the command queued is committed. `scan_once` runs one scanner to its
end with the progress line redrawn as it ticks. A platform supplies only its own part: which
scanner, which sinks, what its line says.

The writer runs as a task beside the command's body. If it dies (a record and then its dead
letter both refused by PostgreSQL, a bug), nothing would ever commit or acknowledge again and
the body would wait on a full queue or a flush forever; so its death cancels the body, like a
TaskGroup does, and the command ends with `WriterStoppedError` naming the cause.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import asyncpg

from marketplaced import db, gc_policy
from marketplaced.config import Config
from marketplaced.errors import MarketplacedError
from marketplaced.http import Fetcher, HostPolicy, JsonFetcher, Route
from marketplaced.progress import ProgressLine
from marketplaced.writer import Sink, Writer


@asynccontextmanager
async def one_shot(
    cfg: Config,
    *,
    platform: str = "",
    sinks: Sequence[Sink] = (),
    routes: Mapping[str, Route] | None = None,
) -> AsyncIterator[tuple[asyncpg.Pool, Writer, JsonFetcher]]:
    """Pool, writer (with `sinks`, checkpoints always) and the fetcher as `platform` uses it
    (its `routes`: policies and headers of its hosts)."""
    pool = await db.create_pool(cfg.database, wait_s=cfg.daemon.startup_wait_s)
    try:
        async with pool.acquire() as conn:
            await db.check_schema(conn)
        writer = Writer(pool, cfg.writer, sinks)
        writer_task = asyncio.create_task(writer.run())
        body = asyncio.current_task()
        assert body is not None
        writer_task.add_done_callback(lambda task: _cancel_on_death(task, body))
        try:
            async with Fetcher(HostPolicy(), routes={platform: dict(routes or {})}) as fetcher:
                gc_policy.apply(cfg.daemon)  # what the command built exists; its work starts
                yield pool, writer, fetcher.for_platform(platform)
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


class _Ticking(Protocol):
    #: called on every unit of progress (`ScannerStats.on_tick`)
    on_tick: Callable[[], None] | None


async def scan_once(
    stats: _Ticking, run: Callable[[], Awaitable[None]], line: ProgressLine, text: Callable[[], str]
) -> None:
    """Await `run` (one pass of a scanner) with `line` showing `text()` as `stats` tick.

    Awaited directly, not as a task: when `one_shot` cancels the body (its writer died), the
    scan stops too. Every tick may redraw, but the text is only formatted when a redraw is due.
    """

    def draw(final: bool = False) -> None:
        if final or line.due():
            line.update(text(), final=final)

    stats.on_tick = draw
    draw()
    await run()
    draw(final=True)
