"""The bulk writer: bounded queue → batches → one transaction per batch.

Scanners `await writer.put(record)` (a full queue makes them wait: backpressure by
construction). The writer collects a batch by size or time, whichever comes first, hands each
sink the records of its types (sinks COPY into temp tables and `INSERT … ON CONFLICT`,
de-duplicated by key, last wins), writes dead letters, parse failures and scan cursors last —
all in ONE transaction — and then resolves the acknowledgements of that batch. A cursor mark
put after a set of records is therefore committed together with or after them, never before.

If PostgreSQL goes away the batch is kept and retried with backoff; what the writer holds (queue
and batch) stays bounded by items and by bytes, so scanners slow down instead of memory growing.
Whatever was taken off the queue belongs to the pending batch at once, so a cancelled `run()`
(shutdown) leaves it for `drain()` instead of dropping a half-collected batch. A record
PostgreSQL rejects (a poison value) is isolated by splitting the batch and turned into a dead
letter; the rest of the batch lands. A record that bundles several entities (a UZEX page of 100
lots) is split further by its sink (`Divisible`), so the dead letter names the one entity that
was refused.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import asyncpg

from marketplaced import commit_log, db, log
from marketplaced.checkpoint import CheckpointSink, CursorMark, DeadLetter
from marketplaced.config import WriterConfig
from marketplaced.holding import HoldingQueue

_log = log.get(__name__)

#: errors that mean "the database is (temporarily) not there": keep the batch and retry
_TRANSIENT = db.TRANSIENT_ERRORS

#: flush-latency histogram bucket bounds in seconds (Prometheus style)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


async def copy_rows(
    conn: asyncpg.Connection, table: str, cols: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """COPY rows into a (temp) table in binary format; nothing when there are none."""
    records = list(rows)
    if records:
        await conn.copy_records_to_table(table, records=records, columns=list(cols))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Sink(Protocol):
    """A platform's storage: writes the records of its types inside the writer's transaction."""

    types: tuple[type, ...]

    async def write(
        self, conn: asyncpg.Connection, groups: Mapping[type, list[Any]], now: datetime
    ) -> int:
        """Write the batch's records of `types`; return the number of rows touched."""
        ...

    def identify(self, item: Any) -> tuple[str, int]:
        """(scope, entity id) of a record, to dead-letter it if PostgreSQL rejects it."""
        ...


@runtime_checkable
class Divisible(Protocol):
    """A sink whose queue items bundle several entities, each of which can be written alone."""

    def split(self, item: Any) -> list[Any]:
        """`item` as one item per entity (without acknowledgement); `[item]` if it is one."""
        ...


@dataclass(slots=True)
class _Flush:
    """Marker: resolved when everything queued before it is committed."""

    done: asyncio.Future[None]


@dataclass(slots=True)
class WriterStats:
    batches: int = 0
    items: int = 0
    rows: int = 0
    retries: int = 0
    poison: int = 0
    last_commit_at: float | None = None  # wall clock (time.time())
    last_batch_items: int = 0
    last_batch_ms: float = 0.0
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum_s: float = 0.0
    db_down_since: float | None = None
    #: why the last write attempt failed while the database is away (None once a batch lands)
    last_error: str | None = None

    def observe(self, seconds: float) -> None:
        self.latency_sum_s += seconds
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.latency_buckets[i] += 1
                return
        self.latency_buckets[-1] += 1


class Writer:
    """One writer per process; `run()` is a supervised long-lived coroutine."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        cfg: WriterConfig,
        sinks: Sequence[Sink],
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._pool = pool
        #: what a batch is stamped with (observed_at, last_seen, the commit log): the wall clock,
        #: except for a backfill of simulated history (marketplaced.backfill), which writes
        #: observations of the past through this same path
        self._clock = clock or _utc_now
        self._cfg = cfg
        self._checkpoints = CheckpointSink()
        self._sinks: list[Any] = [*sinks, self._checkpoints]
        self._by_type: dict[type, Any] = {t: s for s in self._sinks for t in s.types}
        self._queue = HoldingQueue(cfg.queue_max, cfg.queue_max_mb * 1024 * 1024)
        #: the batch being collected or written: everything taken off the queue and not yet
        #: committed; kept across a cancelled or crashed run() so drain() or a restart writes it
        self._pending: list[Any] = []
        self.stats = WriterStats()

    # -- intake ---------------------------------------------------------------------------
    async def put(self, item: Any) -> None:
        if type(item) not in self._by_type:
            raise TypeError(f"no sink writes {type(item).__name__}")
        await self._queue.put(item)

    async def flush(self) -> None:
        """Wait until everything put before this call is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Flush(done), counted=False)
        await done

    @property
    def depth(self) -> int:
        """Records handed to the writer and not committed yet (queued or in the batch)."""
        return self._queue.held_items

    @property
    def in_batch(self) -> int:
        """Items of the batch being collected or written (records and markers)."""
        return len(self._pending)

    @property
    def held_bytes(self) -> int:
        """Estimated size of those records (see `marketplaced.holding`)."""
        return self._queue.held_bytes

    @property
    def capacity(self) -> int:
        return self._cfg.queue_max

    # -- the loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        """collect → write → acknowledge, forever."""
        while True:
            if not self._pending:
                await self._collect()
            await self._commit_pending()

    async def drain(self) -> None:
        """Write everything already handed over (shutdown stage 2), including a batch a
        cancelled `run()` was still collecting; the caller bounds the time."""
        while self._pending or not self._queue.empty():
            if not self._pending:
                self._take_ready()
            await self._commit_pending()

    async def _commit_pending(self) -> None:
        await self._write_with_retry(self._pending)
        self._acknowledge(self._pending)
        self._pending = []
        self._queue.release_taken()

    async def _collect(self) -> None:
        """Fill the pending batch: by size, or until the flush interval passes."""
        batch = self._pending
        batch.append(await self._queue.get())
        deadline = time.monotonic() + self._cfg.flush_interval_s
        while len(batch) < self._cfg.batch_max:
            if self._queue.empty():
                if isinstance(batch[-1], _Flush):
                    break  # somebody waits for this: do not sit out the flush interval
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the item and
                # drops a cancellation that lands in the loop turn the item arrives in, and
                # a stopping daemon's writer then collected (in an outage: retried) for ever
                try:
                    async with asyncio.timeout(remaining):
                        item = await self._queue.get()
                except TimeoutError:
                    break
                batch.append(item)
            else:
                batch.append(self._queue.get_nowait())

    def _take_ready(self) -> None:
        while len(self._pending) < self._cfg.batch_max and not self._queue.empty():
            self._pending.append(self._queue.get_nowait())

    async def _write_with_retry(self, batch: list[Any]) -> None:
        delay = 0.2
        while True:
            try:
                started = time.monotonic()
                rows = await self._write_isolating(batch)
            except _TRANSIENT as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # a stop that reached us as a connect timeout (asyncpg's timeout handling)
                    # must stop us, not be retried as an outage
                    raise asyncio.CancelledError from exc
                self.stats.retries += 1
                self.stats.last_error = str(exc) or type(exc).__name__
                if self.stats.db_down_since is None:
                    self.stats.db_down_since = time.time()
                _log.warning(
                    "batch_retrying",
                    items=len(batch),
                    error=str(exc) or type(exc).__name__,
                    retry_in_s=round(delay, 2),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._cfg.retry_max_s) * random.uniform(0.8, 1.0)
                continue
            elapsed = time.monotonic() - started
            self._record(batch, rows, elapsed)
            return

    def _record(self, batch: list[Any], rows: int, elapsed: float) -> None:
        st = self.stats
        if st.db_down_since is not None:
            _log.info("database_recovered", down_s=round(time.time() - st.db_down_since, 1))
            st.db_down_since = None
        st.last_error = None
        n = sum(1 for item in batch if not isinstance(item, _Flush))
        st.batches += 1
        st.items += n
        st.rows += rows
        st.last_commit_at = time.time()
        st.last_batch_items = n
        st.last_batch_ms = elapsed * 1000
        st.observe(elapsed)
        if n:
            _log.info(
                "batch_committed",
                items=n,
                rows=rows,
                ms=round(elapsed * 1000, 1),
                queue=self._queue.qsize(),
            )

    async def _write_isolating(self, batch: list[Any]) -> int:
        """Write the batch; if PostgreSQL rejects its data, split it to isolate the poison."""
        try:
            return await self._write_once(batch)
        except _TRANSIENT:
            raise
        except (asyncpg.PostgresError, ValueError, TypeError, OverflowError) as exc:
            # data the database refuses (out-of-range integer, bad encoding …)
            records = [i for i in batch if not isinstance(i, _Flush | CursorMark)]
            if len(records) == 1 and len(parts := self._split(records[0])) > 1:
                # in place of the bundle, so cursor marks still follow what they cover; the
                # bundle itself stays in the pending batch and is acknowledged with it
                at = batch.index(records[0])
                return await self._write_isolating([*batch[:at], *parts, *batch[at + 1 :]])
            if len(records) <= 1:
                return await self._write_poisoned(batch, records, exc)
            mid = len(batch) // 2
            return await self._write_isolating(batch[:mid]) + await self._write_isolating(
                batch[mid:]
            )

    def _split(self, item: Any) -> list[Any]:
        sink = self._by_type[type(item)]
        return sink.split(item) if isinstance(sink, Divisible) else [item]

    async def _write_poisoned(self, batch: list[Any], records: list[Any], exc: Exception) -> int:
        """Replace the one rejected record by a dead letter so the cursor can move on."""
        rejected = {id(r) for r in records}
        replaced = [i for i in batch if id(i) not in rejected]
        for item in records:
            sink = self._by_type[type(item)]
            scope, entity_id = sink.identify(item)
            self.stats.poison += 1
            _log.error(
                "record_rejected",
                scope=scope,
                entity_id=entity_id,
                error=str(exc)[:500],
                error_type=type(exc).__name__,
            )
            replaced.insert(0, DeadLetter(scope, entity_id, "write_failed", str(exc)[:1000]))
        return await self._write_once(replaced)

    async def _write_once(self, batch: list[Any]) -> int:
        groups: dict[type, list[Any]] = {}
        for item in batch:
            if not isinstance(item, _Flush):
                groups.setdefault(type(item), []).append(item)
        if not groups:
            return 0
        now = self._clock()
        rows = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for sink in self._sinks:
                mine = {t: groups[t] for t in sink.types if t in groups}
                if mine:
                    rows += await sink.write(conn, mine, now)
            # last: numbers the batch in commit order for the readers of history
            await commit_log.stamp(conn, now)
        return rows

    def _acknowledge(self, batch: list[Any]) -> None:
        for item in batch:
            fut = item.done if isinstance(item, _Flush) else getattr(item, "ack", None)
            if fut is not None and not fut.done():
                fut.set_result(None)
