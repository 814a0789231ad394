"""The completed-deals scanner of one lot type: backfill newest first, then catch up each cycle.

The first run walks the whole list from the top down to the oldest deal (recent data is useful
at once). Every `cycle_pause_s` — also between slices of a long backfill — a catch-up walk starts
at the top again and stops once it reaches the rows an earlier pass already covered and finds a
lot it already stored, or once a whole page is already known, but never before `recheck_pages`
pages (re-reading the newest deals is how later payment-status changes are seen). Both walks are
durable in the scan cursor (see `walk`), so a restart continues mid-page-list.

Auctions and e-tender deals get their items per lot (`GetCompletedDealProducts`, `GetTrade`)
before the page is enqueued, so a lot and its items commit together; lots already stored as
completed are not asked again. Shop and national rows are their own single item.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from marketplaced.http import JsonResponse
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.parser import (
    PageResult,
    parse_completed_deals,
    parse_deal_products,
    parse_etender_trade,
)
from marketplaced.platforms.uzex.records import LotItemRecord, LotType
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScanner
from marketplaced.platforms.uzex.storage import UzexPage, scope
from marketplaced.platforms.uzex.walk import CompletedWalks, Walk, reaches

#: dead-lettered lots retried per cycle at most: a long outage must not make one cycle endless
_DEAD_LETTER_BATCH = 1000
_KNOWN_COMPLETED = (
    "SELECT lot_id FROM uzex_lots WHERE lot_type = $1 AND lot_id = ANY($2::bigint[]) "
    "AND status = 'completed'"
)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a page told the walk: the list size (None: empty page) and what was known."""

    total: int | None
    all_known: bool = False
    any_known: bool = False


def _deal_products(lot_id: int, data: object) -> PageResult:
    return PageResult(items=parse_deal_products("auction", lot_id, data))


def _trade_items(lot_id: int, data: object) -> PageResult:
    return PageResult(items=parse_etender_trade(lot_id, data))


class CompletedScanner(UzexScanner):
    """Completed deals of one lot type (and their items)."""

    def __init__(
        self,
        cfg: UzexConfig,
        lot_type: LotType,
        deps: ScanDeps,
        *,
        plan: UzexPlan | None = None,
    ) -> None:
        self.lot_type = lot_type
        own_cursor = plan is not None and plan.own_cursor
        name = f"uzex.{lot_type}." + ("download" if own_cursor else "completed")
        super().__init__(
            cfg,
            deps,
            name=name,
            scope=scope(lot_type),
            plan=plan,
        )
        self.walks = CompletedWalks()
        #: lot ids of pages enqueued but not yet committed, with the writer's acknowledgement:
        #: they count as known, or a writer running behind would make us fetch items twice
        self._uncommitted: deque[tuple[asyncio.Future[None], frozenset[int]]] = deque()
        self._last_catchup = float("-inf")  # monotonic; -inf: a catch-up is due at start
        self._stalled = False  # the last page failed: pause before trying again

    # -- cycle --------------------------------------------------------------------------------
    async def _restore(self) -> None:
        cursor = await self._load_cursor()
        if cursor is None:
            return
        self.walks = CompletedWalks.from_state(cursor.state)
        self.stats.cycle, self.stats.highest_seen = cursor.cycle, cursor.highest_seen
        self._cycle_started_at = cursor.cycle_started_at
        if self.plan.own_cursor and self.walks.backfill.done:
            self.walks = CompletedWalks()  # the last download finished: a new one starts on top
        self.stats.position, self.stats.frontier = self.walks.backfilled, self.walks.total
        self._log.info("scanner_resumed", **self.walks.as_state())

    async def _cycle(self) -> None:
        self.stats.state = "scanning"
        due = time.monotonic() - self._last_catchup >= self.cfg.cycle_pause_s
        self._stalled = False
        if self.walks.synced is not None and (due or self.walks.catchup is not None):
            # a failed catch-up waits a cycle pause instead of being asked again at once
            self._stalled = not await self._catch_up()
        started = time.monotonic()
        while not self._stalled and not self.walks.backfill.done and not self._target_reached():
            if not await self._backfill_page():
                self._stalled = True
                return
            # continuous: give the catch-up its turn every cycle_pause_s of backfilling (after
            # at least one page, so a slow catch-up cannot starve the backfill)
            if self.plan.continuous and time.monotonic() - started >= self.cfg.cycle_pause_s:
                return

    def _pause_s(self) -> float:
        backfilling = not self.walks.backfill.done and not self._stalled
        return 0.0 if backfilling else self.cfg.cycle_pause_s

    # -- the two walks --------------------------------------------------------------------------
    async def _backfill_page(self) -> bool:
        """One page of the backfill; False when it could not be read (retry later)."""
        walks, walk = self.walks, self.walks.backfill
        first, last = walk.window(self.cfg.page_size, walks.total)
        outcome = await self._read_page(first, last)
        if outcome is None:
            return False
        if outcome.total is None:
            if walk.below is not None:
                # rows were expected here: an upstream hiccup, not the end of the list
                self._log.warning("page_empty_unexpectedly", first=first, last=last)
                return False
            walk.below, walk.top, walks.synced = 0, 0, 0  # the list is empty
        elif walk.below is not None and outcome.total < walks.total:
            walks.total = outcome.total  # rows were removed: ask that window again
            return True
        else:
            if walk.below is None:
                walks.synced = outcome.total  # everything up to here is the backfill's job
            walk.advance(outcome.total, last)
            walks.total = outcome.total
        await self._mark()
        if walk.done:
            self._log.info("backfill_finished", lots=walks.backfilled, pages=walk.pages)
        return True

    async def _catch_up(self) -> bool:
        """Walk from the top until caught up; False when a page failed (resumed next cycle)."""
        walks = self.walks
        if walks.catchup is None:
            walks.catchup = Walk()
            self.stats.cycle += 1
            self._cycle_started_at = datetime.now(UTC)
        walk = walks.catchup
        while True:
            first, last = walk.window(self.cfg.page_size, walks.total)
            outcome = await self._read_page(first, last)
            if outcome is None:
                return False  # stays in progress: the next cycle continues from here
            if outcome.total is None:
                if walk.below is not None:
                    self._log.warning("page_empty_unexpectedly", first=first, last=last)
                    return False
                break
            if walk.below is not None and outcome.total < walks.total:
                walks.total = outcome.total
                continue
            walk.advance(outcome.total, last)
            walks.total = outcome.total
            if self._caught_up(walk, outcome, last):
                break
            await self._mark()
        await self._finish_catch_up(walk)
        return True

    def _caught_up(self, walk: Walk, outcome: _Outcome, last: int) -> bool:
        assert outcome.total is not None
        if walk.done or self._target_reached():
            return True
        if walk.pages < self.cfg.recheck_pages:
            return False
        reached = reaches(outcome.total, last, self.walks.synced) and outcome.any_known
        return outcome.all_known or reached

    async def _finish_catch_up(self, walk: Walk) -> None:
        walks = self.walks
        if walk.top is not None:
            walks.synced = walk.top
        walks.catchup = None
        self._last_catchup = time.monotonic()
        await self._mark()
        await self._retry_dead_letters()
        self._log.info(
            "cycle_finished",
            cycle=self.stats.cycle,
            pages=walk.pages,
            total=walks.total,
            found=self.stats.found,
            items=self.stats.items,
        )

    async def _mark(self) -> None:
        walks = self.walks
        self.stats.position, self.stats.frontier = walks.backfilled, walks.total
        await self._put_mark(walks.backfilled, walks.total, walks.as_state())

    # -- one page -----------------------------------------------------------------------------
    async def _read_page(self, first: int, last: int) -> _Outcome | None:
        """fetch → archive → parse → items per new lot → enqueue; None when it failed."""
        lot_type, key = self.lot_type, f"completed:{first}-{last}"
        got = await self._get_list(key, lambda: self.client.completed_page(lot_type, first, last))
        if got is None:
            return None
        resp, ref = got
        result = await self._parse_list(
            key, ref, lambda: parse_completed_deals(lot_type, resp.data)
        )
        if result is None:
            return None
        if not result.lots and result.total_count is None and not result.failures:
            return _Outcome(None)
        ids = [lot.lot_id for lot in result.lots]
        known = await self._known(ids)
        items, complete = list(result.items), {item.lot_id for item in result.items}
        wanted = [i for i in ids if i not in known and i not in complete]
        fetched = await self._fetch_items(wanted)
        for lot_id, lot_items in fetched.items():
            items.extend(lot_items)
            complete.add(lot_id)
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lots = tuple(result.lots)
        await self._writer.put(
            UzexPage(lot_type, "completed", lots, tuple(items), tuple(complete), ack)
        )
        self._uncommitted.append((ack, frozenset(ids)))
        self._count(len(ids), len(items), max(ids, default=None))
        # a garbled total_count on every row: assume the list is at least as long as we know
        total = result.total_count or max(self.walks.total, first - 1 + len(ids))
        return _Outcome(total, all_known=bool(ids) and known >= set(ids), any_known=bool(known))

    async def _known(self, lot_ids: list[int]) -> set[int]:
        """Which of these lots are already stored as completed, or enqueued to be."""
        while self._uncommitted and self._uncommitted[0][0].done():
            self._uncommitted.popleft()  # committed: the query below sees them
        wanted = set(lot_ids)
        known = {i for _, ids in self._uncommitted for i in ids & wanted}
        try:
            rows = await self._pool.fetch(_KNOWN_COMPLETED, self.lot_type, lot_ids)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # the writer rides out a database outage; here "unknown" only costs extra requests
            self._log.warning("known_lookup_failed", error=str(exc) or type(exc).__name__)
            return known
        return known | {r["lot_id"] for r in rows}

    async def _fetch_items(self, lot_ids: list[int]) -> dict[int, list[LotItemRecord]]:
        """Items of each lot (auction, e-tender); lots that failed or 404 are left out."""
        fetch: Callable[[int], Awaitable[JsonResponse]]
        if self.lot_type == "auction":
            fetch, parse, key = self.client.deal_products, _deal_products, "items"
        elif self.lot_type == "etender":
            fetch, parse, key = self.client.trade, _trade_items, "trade"
        else:
            return {}
        details = await self._details(lot_ids, key, fetch, parse)
        return {d.lot_id: d.result.items for d in details if d.result is not None}

    async def _retry_dead_letters(self) -> None:
        """Lots whose items failed for good get another chance once old enough."""
        if self.lot_type not in ("auction", "etender"):
            return
        where = scope(self.lot_type, "items")
        ids = await self._due_dead_letters(where, _DEAD_LETTER_BATCH)
        if not ids:
            return
        self._log.info("dead_letters_retrying", count=len(ids))
        fetched = await self._fetch_items(ids)
        items = tuple(item for lot_items in fetched.values() for item in lot_items)
        if fetched:
            await self._writer.put(UzexPage(self.lot_type, "completed", (), items, tuple(fetched)))
            self._count(0, len(items), None)
