"""The Uzum product scanner: continuous cycles over product ids 1..frontier.

Workers (as many as the host's concurrency) take ids in increasing order from one generator and
run `fetch → archive → parse → enqueue` for each. The durable cursor is the low watermark — the
highest id below which every id of this cycle is finished — and travels to the writer as a
`CursorMark` behind the records it covers, so after any crash the next start repeats at most the
ids after the last committed mark (upserts make that harmless).

The frontier is discovered, not configured: a cycle ends after `frontier_misses` ids above the
highest id that ever returned a product, or above `first_id - 1` while none did (capped by
`max_id`). Shard `k/n` visits only ids with `id % n == k - 1`, so several hosts can split the id
space against one database.

One body never stops the scan: whatever decoding or parsing it raises becomes a parse failure
for that id (its raw body archived, marked undecodable when it did not decode). A 200 answer
with an empty body is asked again before it counts as a miss; the writer keeps a product it has
seen before from turning into a miss on such an answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from marketplaced import log
from marketplaced.archive import Archive
from marketplaced.checkpoint import (
    CursorMark,
    DeadLetter,
    ParseFailure,
    due_dead_letters,
    load_cursor,
)
from marketplaced.errors import FetchError, InvalidJsonError, ParseError
from marketplaced.http import Decode, JsonResponse
from marketplaced.platforms.base import PauseGate, ScanDeps, ScannerStats
from marketplaced.platforms.dbwait import patiently
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.coverage import first_shard_id
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import ProductSnapshot
from marketplaced.platforms.uzum.storage import SCOPE
from marketplaced.platforms.uzum.visits import (
    LOAD_SPAN,
    Fingerprinter,
    Revisit,
    Unchanged,
    load_fingerprints,
)

#: answers to one request for an id whose 200 answers are empty: an empty body for a live
#: product is a transient fault (upstream hiccup, stale session) that a fresh request usually
#: cures, while a missing id that really answers empty costs two extra requests per cycle
EMPTY_BODY_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """What one run covers. Continuous by default; `stop_id`/`target` make it one-shot."""

    start_id: int | None = None  # None: resume from the cursor
    stop_id: int | None = None  # inclusive; None: discover the frontier
    target: int | None = None  # stop after this many products found
    continuous: bool = True


class UzumScanner:
    def __init__(
        self,
        cfg: UzumConfig,
        deps: ScanDeps,
        *,
        plan: ScanPlan | None = None,
        shard: tuple[int, int] = (1, 1),
    ) -> None:
        self.cfg = cfg
        self._pool = deps.pool
        self._fetcher = deps.fetcher
        self._writer = deps.writer
        self._archive = deps.archive
        self.plan = plan or ScanPlan()
        self._k, self._n = shard
        # a one-shot download keeps its own cursor so it never moves the daemon's
        base = "uzum.products" if self.plan.continuous else "uzum.download"
        self.name = base + (f"#{self._k}/{self._n}" if self._n > 1 else "")
        self.stats = ScannerStats()
        self.gate = PauseGate(self.stats)
        self._log = log.get(__name__, scanner=self.name)
        self._pending: set[int] = set()
        #: set whenever an id in flight finishes (its result may have moved the frontier)
        self._settled = asyncio.Event()
        self._cycle_started_at = datetime.now(UTC)
        #: the counters when this cycle started (or was resumed), for per-cycle figures
        self._cycle_base = _Figures.of(self.stats)
        self._fingerprint = Fingerprinter()

    # -- public ---------------------------------------------------------------------------
    @property
    def archive(self) -> Archive | None:
        """The raw archive this scanner writes to (its counters go on the status)."""
        return self._archive

    def pause(self) -> None:
        self.gate.pause()

    def unpause(self) -> None:
        self.gate.resume()

    def url(self, product_id: int) -> str:
        return f"{self.cfg.base_url.rstrip('/')}/api/v2/product/{product_id}"

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            if self._archive is not None:
                # the partial batch of raw responses is written even when we are cancelled
                await self._archive.flush()

    async def _run(self) -> None:
        await self._restore()
        while True:
            await self._scan_cycle()
            if not self.plan.continuous or self._target_reached():
                break
            await self._retry_dead_letters()
            self.stats.state = "idle"
            self._log_cycle_finished()
            await asyncio.sleep(self.cfg.cycle_pause_s)
            self._start_cycle(self.stats.cycle + 1)
            await self._put_mark(self.stats.position)
        await self._writer.flush()
        self.stats.state = "done"

    def _log_cycle_finished(self) -> None:
        """The cycle's own figures (dead-letter retries after it included); totals since
        start-up are in `stats` and on the status page."""
        st = self.stats
        cycle = _Figures.of(st).minus(self._cycle_base)
        self._log.info(
            "cycle_finished",
            cycle=st.cycle,
            found=cycle.found,
            missing=cycle.missing,
            parse_failures=cycle.parse_failures,
            errors=cycle.errors,
            frontier=st.frontier,
        )

    # -- cycle ----------------------------------------------------------------------------
    async def _restore(self) -> None:
        st = self.stats
        cur = None
        if self.plan.start_id is None:
            cur = await patiently(
                "load_cursor", lambda: load_cursor(self._pool, self.name), st, self._log
            )
        if cur is None:
            self._start_cycle(1)
            if self.plan.start_id is not None:
                st.position = self._align(self.plan.start_id) - self._n
        else:
            st.cycle, st.position, st.highest_seen = cur.cycle, cur.position, cur.highest_seen
            self._cycle_started_at = cur.cycle_started_at
            self._log.info(
                "scanner_resumed",
                cycle=st.cycle,
                position=st.position,
                highest_seen=st.highest_seen,
            )
        st.last_commit_position = st.position

    def _start_cycle(self, cycle: int) -> None:
        st = self.stats
        st.cycle = cycle
        st.position = st.last_commit_position = self._align(self.cfg.first_id) - self._n
        self._cycle_started_at = datetime.now(UTC)
        self._cycle_base = _Figures.of(st)

    def _align(self, product_id: int) -> int:
        """The first id >= product_id that belongs to this shard."""
        return first_shard_id(product_id, (self._k, self._n))

    def _frontier(self) -> int:
        if self.plan.stop_id is not None:
            return self.plan.stop_id
        # probing starts at first_id: a highest id seen below it (none yet, or first_id was
        # raised) must not put the frontier under the first id, or nothing is ever scanned
        base = max(self.stats.highest_seen, self.cfg.first_id - 1)
        return min(self.cfg.max_id, base + self.cfg.frontier_misses)

    def _target_reached(self) -> bool:
        return self.plan.target is not None and self.stats.found >= self.plan.target

    async def _ids(self) -> AsyncIterator[tuple[int, int | None]]:
        """The cycle's ids, each with the committed fingerprint of its stored body (or None),
        read from the database one span of ids at a time."""
        next_id = self.stats.position + self._n
        known: dict[int, int] = {}
        loaded_to = next_id - 1
        while not self._target_reached():
            if next_id > self._frontier():
                # past the frontier as it stands, but the ids still in flight may find a product
                # and move it (always so while workers ≥ frontier_misses): the cycle ends only
                # when none is left that could
                if not self._pending:
                    break
                self._settled.clear()
                await self._settled.wait()
                continue
            self.stats.state = "scanning"
            if next_id > loaded_to:
                loaded_to = next_id + LOAD_SPAN * self._n - 1
                known = await self._stored_fingerprints(next_id, loaded_to)
            self._pending.add(next_id)
            yield next_id, known.get(next_id)
            next_id += self._n

    async def _stored_fingerprints(self, first: int, last: int) -> dict[int, int]:
        return await patiently(
            "load_fingerprints",
            lambda: load_fingerprints(self._pool, first, last),
            self.stats,
            self._log,
        )

    async def _scan_cycle(self) -> None:
        self.stats.state = "scanning"
        ids = self._ids()
        lock = asyncio.Lock()
        since_mark = 0

        async def worker() -> None:
            nonlocal since_mark
            while True:
                async with lock:  # async generators must not be advanced concurrently
                    try:
                        pid, stored = await anext(ids)
                    except StopAsyncIteration:
                        return
                await self._process(pid, stored)
                self._pending.discard(pid)
                self._settled.set()
                since_mark += 1
                if since_mark >= self.cfg.checkpoint_every:
                    since_mark = 0
                    await self._mark(self._watermark())

        async with asyncio.TaskGroup() as tg:
            for _ in range(max(1, self.cfg.concurrency)):
                tg.create_task(worker())
        self.stats.frontier = self._frontier()
        await self._mark(max(self.stats.position, self._watermark()))

    def _watermark(self) -> int:
        """Highest id such that every id of this cycle up to it is finished."""
        if self._pending:
            return min(self._pending) - self._n
        return self.stats.position if self.stats.position > 0 else 0

    async def _mark(self, position: int) -> None:
        st = self.stats
        st.frontier = self._frontier()
        if position <= st.last_commit_position:
            return
        st.last_commit_position = position
        await self._put_mark(position)

    async def _put_mark(self, position: int) -> None:
        st = self.stats
        await self._writer.put(
            CursorMark(
                self.name,
                position,
                st.cycle,
                self._frontier(),
                st.highest_seen,
                self._cycle_started_at,
            )
        )

    # -- one id -----------------------------------------------------------------------------
    async def _process(self, pid: int, stored: int | None = None) -> None:
        """fetch → archive → parse → enqueue for one product id; a body with the fingerprint
        `stored` (that of the rows committed for it) is not parsed: only the visit is."""
        st = self.stats
        await self.gate.wait()  # scan and dead-letter retries alike
        try:
            resp = await self._fetch(pid, self._fingerprint.reader(stored))
        except InvalidJsonError as exc:
            # retries gave the same undecodable body: the body is what is wrong, not the host
            ref = self._archive_undecodable(pid, exc)
            await self._parse_failed(pid, f"undecodable body: {exc}", ref)
            return
        except FetchError as exc:
            st.errors[exc.kind] += 1
            st.tick()
            self._archive_undecodable(pid, exc)  # a block page, when that is what came back
            await self._writer.put(DeadLetter(SCOPE, pid, exc.kind, str(exc)[:1000]))
            return
        ref = self._archive.add(str(pid), resp.status, resp.body) if self._archive else None
        if isinstance(resp.data, Unchanged):
            self._found(pid)
            await self._writer.put(Revisit(pid, resp.data.fingerprint))
            return
        fingerprint = self._fingerprint(resp.body) if resp.status == 200 else None
        try:
            record = parse_product(resp.status, resp.data, pid)
        except Exception as exc:
            # parse_product raises only ParseError by contract; anything else is still one
            # product's problem, never the scan's
            reason = exc.reason if isinstance(exc, ParseError) else _unexpected(exc)
            await self._parse_failed(pid, reason, ref)
            return
        if isinstance(record, ProductSnapshot):
            if record.coerced:
                st.coerced += len(record.coerced)
                self._log.debug("product_coerced", product_id=pid, fields=list(record.coerced))
            self._found(pid)
            await self._writer.put(replace(record, fingerprint=fingerprint))
            return
        st.missing += 1
        st.miss_forms[record.form] += 1
        self._advance(pid)
        await self._writer.put(record)

    def _found(self, pid: int) -> None:
        st = self.stats
        st.found += 1
        if pid > st.highest_seen:
            st.highest_seen = pid
        self._advance(pid)

    def _advance(self, pid: int) -> None:
        st = self.stats
        if pid > st.position:
            st.position = pid
        st.tick()

    async def _fetch(self, pid: int, decode: Decode) -> JsonResponse:
        """GET one product; a 200 with an empty body is asked again before it is believed."""
        for _ in range(EMPTY_BODY_ATTEMPTS - 1):
            resp = await self._fetcher.get_json(self.url(pid), decode=decode)
            if resp.status != 200 or resp.body.strip():
                return resp
        resp = await self._fetcher.get_json(self.url(pid), decode=decode)
        if resp.status == 200 and not resp.body.strip():
            self._log.info("empty_body_persisted", product_id=pid, attempts=EMPTY_BODY_ATTEMPTS)
        return resp

    def _archive_undecodable(self, pid: int, exc: FetchError) -> str | None:
        """Keep what was received although it did not decode, so process-raw can retry."""
        if self._archive is None or not exc.body:
            return None
        status = exc.status if exc.status is not None else 200
        return self._archive.add(str(pid), status, exc.body, undecodable=str(exc)[:500])

    async def _parse_failed(self, pid: int, reason: str, ref: str | None) -> None:
        st = self.stats
        st.parse_failures += 1
        st.tick()
        self._log.warning("product_unparsable", product_id=pid, reason=reason, archive_ref=ref)
        await self._writer.put(ParseFailure(SCOPE, str(pid), reason, ref))

    async def _retry_dead_letters(self) -> None:
        """Ids that failed for good get another chance once they are old enough."""
        retry_s = self.cfg.dead_letter_retry_s
        ids = await patiently(
            "due_dead_letters",
            lambda: due_dead_letters(self._pool, SCOPE, retry_s, limit=5000),
            self.stats,
            self._log,
        )
        ids = [i for i in ids if i % self._n == self._k - 1]
        if not ids:
            return
        self._log.info("dead_letters_retrying", count=len(ids))
        sem = asyncio.Semaphore(max(1, self.cfg.concurrency))

        async def one(pid: int) -> None:
            async with sem:
                await self._process(pid)

        async with asyncio.TaskGroup() as tg:
            for pid in ids:
                tg.create_task(one(pid))


def _unexpected(exc: Exception) -> str:
    return f"unexpected {type(exc).__name__}: {exc}"[:1000]


@dataclass(frozen=True, slots=True)
class _Figures:
    """The scanner's cumulative counters at one moment."""

    found: int
    missing: int
    parse_failures: int
    errors: int

    @classmethod
    def of(cls, st: ScannerStats) -> _Figures:
        return cls(st.found, st.missing, st.parse_failures, sum(st.errors.values()))

    def minus(self, base: _Figures) -> _Figures:
        return _Figures(
            self.found - base.found,
            self.missing - base.missing,
            self.parse_failures - base.parse_failures,
            self.errors - base.errors,
        )
