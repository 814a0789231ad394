"""What every UZEX scanner shares: the run loop, upstream blocks, details per lot, bookkeeping.

There is one scanner per lot type and list (`completed.CompletedScanner`,
`active.ActiveScanner`) plus `reference.ReferenceScanner`. Each runs `fetch → archive → parse →
enqueue` per page and never writes to the database itself: pages go to the writer as `UzexPage`s
and the cursor follows them as a `CursorMark` in the same or a later transaction.

When the upstream refuses us on purpose — HTTP 500 "Not Valid" (the auction host's JavaScript
`Validation` gate, which we do not forge) or "Missing User-Agent header" — the scanner of that
lot type goes to state "blocked" with `stats.blocked_until`, waits (hours for "Not Valid", a
cycle pause for the User-Agent), and the other lot types keep running: each is its own scanner.
A one-shot run (download, tests) stops instead of waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marketplaced import log
from marketplaced.checkpoint import (
    Cursor,
    CursorMark,
    DeadLetter,
    ParseFailure,
    due_dead_letters,
    load_cursor,
)
from marketplaced.errors import FetchError, InvalidJsonError, ParseError, UpstreamBlockedError
from marketplaced.http import NOT_FOUND, JsonResponse
from marketplaced.platforms.base import PauseGate, ScanDeps, ScannerStats
from marketplaced.platforms.dbwait import patiently
from marketplaced.platforms.uzex.client import UserAgentRejectedError, UzexClient
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.parser import PageResult

#: answers that retrying cannot fix: the lot type waits (continuous) or stops (one-shot)
BLOCKS = (UpstreamBlockedError, UserAgentRejectedError)
#: longest single sleep while blocked: progress is refreshed at least this often so the
#: supervisor's stall detector sees a deliberate wait, not a hang
_BLOCKED_SLICE_S = 60.0
#: a rejected User-Agent is retried no faster than this (the operator has to fix the config)
_USER_AGENT_RETRY_S = 60.0


@dataclass(slots=True)
class UzexScannerStats(ScannerStats):
    """ScannerStats plus what UZEX adds: items stored and the upstream block."""

    items: int = 0
    #: per-lot detail requests answered (items, trade, lot): they move while a page's lots
    #: are being completed, long before the page's lots count
    detail_requests: int = 0
    #: wall-clock time (time.time()) until which the lot type waits; None when not blocked
    blocked_until: float | None = None
    #: error kind of the block: "blocked_by_upstream" or "user_agent_rejected"
    blocked_reason: str = ""

    def snapshot(self) -> dict[str, Any]:
        # explicit base call: zero-argument super() does not work in slotted dataclasses
        figures = ScannerStats.snapshot(self)
        figures.update(
            items=self.items, blocked_until=self.blocked_until, blocked_reason=self.blocked_reason
        )
        return figures


@dataclass(frozen=True, slots=True)
class UzexPlan:
    """Continuous by default; `continuous=False` runs one pass ("until idle") and returns."""

    continuous: bool = True
    #: stop once this many lots were stored
    target: int | None = None
    #: keep a cursor of its own (`uzex.<type>.download`) so a download never moves the daemon's
    own_cursor: bool = False


@dataclass(slots=True)
class Detail:
    """What one per-lot detail request yielded (None fields: nothing usable)."""

    lot_id: int
    result: PageResult | None


class UzexScanner:
    """Base of every UZEX scanner; subclasses provide `_restore`, `_cycle` and `_pause_s`."""

    def __init__(
        self,
        cfg: UzexConfig,
        deps: ScanDeps,
        *,
        name: str,
        scope: str,
        plan: UzexPlan | None = None,
    ) -> None:
        self.name = name
        #: dead-letter / parse-failure scope of this scanner's rows ("uzex.auction" …)
        self.scope = scope
        #: the daemon may swap this on SIGHUP; the client follows it
        self.cfg = cfg
        self.plan = plan or UzexPlan()
        self.stats = UzexScannerStats()
        self.gate = PauseGate(self.stats)
        self.archive = deps.archive
        self._pool = deps.pool
        self._fetcher = deps.fetcher
        self._writer = deps.writer
        self._client_for: tuple[UzexConfig, UzexClient] | None = None
        self._cycle_started_at = datetime.now(UTC)
        self._log = log.get(__name__, scanner=self.name, platform="uzex")

    def pause(self) -> None:
        self.gate.pause()

    def unpause(self) -> None:
        self.gate.resume()

    # -- the loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        """restore → (cycle → pause)… until cancelled, or one pass when one-shot."""
        try:
            await self._restore()
            while True:
                await self._wait_while_blocked()
                try:
                    await self._cycle()
                except BLOCKS as exc:
                    self._block(exc)
                    if not self.plan.continuous:
                        return
                    continue
                if not self.plan.continuous:
                    break
                self.stats.state = "idle"
                await asyncio.sleep(self._pause_s())
            await self._writer.flush()
            self.stats.state = "done"
        finally:
            if self.archive is not None:
                await self.archive.flush()

    async def _restore(self) -> None:
        raise NotImplementedError

    async def _cycle(self) -> None:
        raise NotImplementedError

    def _pause_s(self) -> float:
        return self.cfg.cycle_pause_s

    # -- upstream blocks ------------------------------------------------------------------------
    def _block(self, exc: FetchError) -> None:
        st = self.stats
        if isinstance(exc, UserAgentRejectedError):
            wait_s = max(self.cfg.cycle_pause_s, _USER_AGENT_RETRY_S)
        else:
            wait_s = self.cfg.blocked_backoff_h * 3600
        st.state = "blocked"
        st.blocked_until = time.time() + wait_s
        st.blocked_reason = exc.kind
        st.errors[exc.kind] += 1
        self._log.warning(
            "lot_type_blocked",
            scope=self.scope,
            reason=exc.kind,
            wait_s=round(wait_s, 1),
            url=exc.url,
            error=str(exc),
        )

    async def _wait_while_blocked(self) -> None:
        st = self.stats
        while st.blocked_until is not None and (left := st.blocked_until - time.time()) > 0:
            st.state = "blocked"
            st.progress_at = time.monotonic()
            await asyncio.sleep(min(left, _BLOCKED_SLICE_S))
        if st.blocked_until is not None:
            self._log.info("lot_type_unblocked", scope=self.scope, reason=st.blocked_reason)
            st.blocked_until, st.blocked_reason = None, ""
        st.state = "scanning"

    # -- helpers for subclasses -----------------------------------------------------------------
    async def _load_cursor(self) -> Cursor | None:
        """This scanner's cursor; waits while the database is unreachable."""
        return await patiently(
            "load_cursor", lambda: load_cursor(self._pool, self.name), self.stats, self._log
        )

    async def _due_dead_letters(self, where: str, limit: int) -> list[int]:
        """Dead-lettered ids of `where` due again; waits while the database is unreachable."""
        retry_s = self.cfg.dead_letter_retry_s
        return await patiently(
            "due_dead_letters",
            lambda: due_dead_letters(self._pool, where, retry_s, limit),
            self.stats,
            self._log,
        )

    @property
    def client(self) -> UzexClient:
        if self._client_for is None or self._client_for[0] is not self.cfg:
            self._client_for = (self.cfg, UzexClient(self.cfg, self._fetcher))
        return self._client_for[1]

    def _archive_add(self, key: str, resp: JsonResponse) -> str | None:
        return self.archive.add(key, resp.status, resp.body) if self.archive else None

    async def _undecodable(self, where: str, key: str, exc: FetchError) -> None:
        """A body that did not decode even after retries: keep it (marked) in the archive and
        record a parse failure, so `process-raw` can try again and the id is not lost."""
        ref = None
        if self.archive is not None and exc.body:
            status = exc.status if exc.status is not None else 200
            ref = self.archive.add(key, status, exc.body, undecodable=str(exc)[:500])
        if isinstance(exc, InvalidJsonError):
            await self._parse_failed(where, key, f"undecodable body: {exc}"[:1000], ref)

    def _target_reached(self) -> bool:
        return self.plan.target is not None and self.stats.found >= self.plan.target

    def _fetch_failed(self, exc: FetchError, what: str) -> None:
        self.stats.errors[exc.kind] += 1
        self.stats.tick()
        self._log.warning("fetch_failed", what=what, kind=exc.kind, url=exc.url, error=str(exc))

    async def _get_list(
        self, key: str, fetch: Callable[[], Awaitable[JsonResponse]]
    ) -> tuple[JsonResponse, str | None] | None:
        """One list request: the answer and its archive reference, or None when it failed."""
        await self.gate.wait()
        try:
            resp = await fetch()
        except BLOCKS:
            raise
        except FetchError as exc:
            self._fetch_failed(exc, key)
            await self._undecodable(self.scope, key, exc)
            return None
        ref = self._archive_add(key, resp)
        if resp.status != 200:
            self.stats.errors["http_status"] += 1
            self._log.warning("page_refused", what=key, status=resp.status, url=resp.url)
            return None
        return resp, ref

    async def _parse_list(
        self, key: str, ref: str | None, parse: Callable[[], PageResult]
    ) -> PageResult | None:
        """Parse a page; rows that fail become ParseFailures, a page that is no list fails."""
        try:
            result = parse()
        except Exception as exc:  # one page's problem whatever it raises, never the scanner's
            await self._parse_failed(self.scope, key, failure_reason(exc), ref)
            return None
        for row_key, reason in result.failures:
            await self._parse_failed(self.scope, row_key, reason, ref)
        return result

    async def _parse_failed(self, where: str, key: str, reason: str, ref: str | None) -> None:
        self.stats.parse_failures += 1
        self._log.warning("row_unparsable", scope=where, key=key, reason=reason, archive_ref=ref)
        await self._writer.put(ParseFailure(where, key, reason, ref))

    async def _details(
        self,
        lot_ids: Sequence[int],
        key: str,
        fetch: Callable[[int], Awaitable[JsonResponse]],
        parse: Callable[[int, object], PageResult],
        *,
        dead_letters: bool = True,
    ) -> list[Detail]:
        """Fetch one detail per lot, `concurrency` at a time; a block stops the rest.

        A lot whose request failed for good is dead-lettered (`<scope>.items`) to be retried
        later, unless `dead_letters` is False (active lots: the next cycle asks again anyway).
        """
        blocked: list[FetchError] = []
        slots = asyncio.Semaphore(self.cfg.concurrency)

        async def one(lot_id: int) -> Detail:
            async with slots:
                if blocked:  # the host said no: do not send the remaining requests
                    return Detail(lot_id, None)
                try:
                    result = await self._detail(lot_id, key, fetch, parse, dead_letters)
                    self.stats.detail_requests += 1
                    self.stats.tick(0)  # progress, though no lot is finished yet
                    return Detail(lot_id, result)
                except BLOCKS as exc:
                    blocked.append(exc)
                    return Detail(lot_id, None)

        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(one(lot_id)) for lot_id in lot_ids]
        if blocked:
            raise blocked[0]
        return [task.result() for task in tasks]

    async def _detail(
        self,
        lot_id: int,
        key: str,
        fetch: Callable[[int], Awaitable[JsonResponse]],
        parse: Callable[[int, object], PageResult],
        dead_letters: bool,
    ) -> PageResult | None:
        where = f"{self.scope}.items"
        await self.gate.wait()
        try:
            resp = await fetch(lot_id)
        except BLOCKS:
            raise
        except FetchError as exc:
            self._fetch_failed(exc, f"{key}:{lot_id}")
            await self._undecodable(where, str(lot_id), exc)
            if dead_letters:
                await self._writer.put(DeadLetter(where, lot_id, exc.kind, str(exc)[:1000]))
            return None
        ref = self._archive_add(f"{key}:{lot_id}", resp)
        if resp.status in NOT_FOUND:  # removed upstream: a fact, not a failure
            self.stats.missing += 1
            self.stats.miss_forms[f"http_{resp.status}"] += 1
            return None
        if resp.status != 200:
            self.stats.errors["http_status"] += 1
            if dead_letters:
                reason = f"HTTP {resp.status} from {resp.url}"
                await self._writer.put(DeadLetter(where, lot_id, "http_status", reason))
            return None
        try:
            return parse(lot_id, resp.data)
        except Exception as exc:  # one lot's problem whatever it raises
            await self._parse_failed(where, str(lot_id), failure_reason(exc), ref)
            return None

    def _count(self, lots: int, items: int, highest: int | None) -> None:
        st = self.stats
        st.found += lots
        st.items += items
        if highest is not None and highest > st.highest_seen:
            st.highest_seen = highest
        st.tick(max(lots, 1))

    async def _put_mark(self, position: int, frontier: int, state: dict[str, Any]) -> None:
        st = self.stats
        await self._writer.put(
            CursorMark(
                self.name,
                position,
                st.cycle,
                frontier,
                st.highest_seen,
                self._cycle_started_at,
                state,
            )
        )


def failure_reason(exc: Exception) -> str:
    """The parse-failure reason of anything a parser raised (ParseError by contract)."""
    if isinstance(exc, ParseError):
        return exc.reason
    return f"unexpected {type(exc).__name__}: {exc}"[:1000]
