"""The Uzum product scanner in adaptive mode: visit the ids the shared schedule says are due.

Instead of cycles over 1..frontier, the scanner repeatedly claims a batch of due ids (the
frontier's reserved share first, then the most valuable, see `claims`; leased to it) from
`uzum_schedule` and visits them with the same fetch → archive → parse → enqueue path as the
round-robin scanner; the sink sets each id's next due time in the transaction that stores the
visit (see `schedule` for the policy).

The request budget: a claim asks for at most `rps × claim_interval_s` ids (capped by
`claim_max`), about what the fetcher sends in one claim interval, so a daemon never holds more
leases than it can visit before they expire, and what it cannot afford stays due for the next
claim (or another daemon) instead of being fetched faster than allowed. A continuous scan with a
budget never leaves it idle while the schedule has ids: a claim that finds less due is filled
with the ids of highest change rate (`visit_ahead`, see `claims`); a one-shot scan (it ends
when nothing is due) and an unlimited rate (it would fetch the same ids as fast as the host
answers) do not.

No cursor is kept: the schedule is the durable progress. Shard settings are ignored — daemons
sharing a database divide the due ids by their leases.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from marketplaced.platforms.dbwait import patiently
from marketplaced.platforms.uzum import claims, schedule
from marketplaced.platforms.uzum.scanner import UzumScanner

T = TypeVar("T")

_FINGERPRINTS = """
SELECT product_id, fingerprint FROM uzum_visits
WHERE product_id = ANY($1::bigint[]) AND fingerprint IS NOT NULL"""


class AdaptiveScanner(UzumScanner):
    """`UzumScanner` driven by the revisit schedule (uzum.mode = "adaptive")."""

    #: the frontier window whose schedule rows this scanner last made (None: not yet)
    _window: tuple[int, int] | None = None
    #: the leveling rate (ids/s, `claims.load_ahead`), when it was counted (monotonic), and the
    #: fraction of an id the claims so far owe to it
    _level_rate: float = 0.0
    _level_at: float | None = None
    _level_owed: float = 0.0

    def claim_size(self) -> int:
        """Ids per claim: what the configured rate fetches in one claim interval."""
        cfg = self.cfg
        if cfg.rps <= 0:
            return cfg.claim_max
        return max(1, min(cfg.claim_max, int(cfg.rps * cfg.claim_interval_s)))

    async def _run(self) -> None:
        self.stats.cycle = 1
        await self._db("schedule_seed", self._seed)
        # a standing pool of workers fed from a queue rather than one claim at a time: waiting
        # for a claim's slowest fetches before the next claim cost up to half the budget; the
        # queue holds at most one claim, so at most two claims are leased and not yet fetched
        queue: asyncio.Queue[tuple[int, int | None] | None] = asyncio.Queue(self.claim_size())
        workers = max(1, self.cfg.concurrency)

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                try:
                    await self._process(*item)
                finally:
                    queue.task_done()
            queue.task_done()

        async with asyncio.TaskGroup() as tg:
            for _ in range(workers):
                tg.create_task(worker())
            # an error or a cancel leaves the block and the task group cancels the workers
            await self._feed(queue)
            for _ in range(workers):
                await queue.put(None)
        await self._writer.flush()
        self.stats.state = "done"

    async def _feed(self, queue: asyncio.Queue[tuple[int, int | None] | None]) -> None:
        """Claim due ids into the queue until nothing is due (one-shot) or forever."""
        st = self.stats
        last_retry = time.monotonic()
        while True:
            batch = await self._claim()
            if not batch:
                # what is in flight may move the frontier once it is committed
                await queue.join()
                await self._writer.flush()
                batch = await self._claim()
            if not batch:
                if not self.plan.continuous:
                    return
                st.state = "idle"
                await asyncio.sleep(self.cfg.claim_interval_s)
                continue
            st.state = "scanning"
            for item in batch:
                await queue.put(item)
            if time.monotonic() - last_retry >= self.cfg.dead_letter_retry_s:
                await self._retry_dead_letters()
                last_retry = time.monotonic()

    def _ahead(self) -> bool:
        cfg = self.cfg
        return cfg.visit_ahead and self.plan.continuous and cfg.rps > 0

    async def _db(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        return await patiently(what, op, self.stats, self._log)

    async def _seed(self) -> None:
        now = datetime.now(UTC)
        await schedule.seed(self._pool, self.cfg, now)
        self.stats.highest_seen = max(
            self.stats.highest_seen, await schedule.highest_known(self._pool)
        )

    async def _oldest(self, n: int, now: datetime) -> int:
        """How many of a claim of `n` go to the ids checked longest ago (claims step 1b): the
        leveling rate's share of this daemon's budget, recounted every half bucket (at most a
        minute), a fraction carried to the next claim."""
        cfg = self.cfg
        width = claims.level_width_s(cfg)
        if width <= 0 or cfg.rps <= 0:
            return 0
        mono = time.monotonic()
        if self._level_at is None or mono - self._level_at >= min(60.0, width / 2):
            self._level_rate = await claims.load_ahead(self._pool, cfg, now)
            self._level_at = mono
        self._level_owed += n * min(1.0, self._level_rate / cfg.rps)
        k = int(self._level_owed)
        self._level_owed -= k
        return k

    async def _claim(self) -> list[tuple[int, int | None]]:
        """The next claim's ids, each with the fingerprint of its stored body (or None)."""
        schedule.use(schedule.Policy.of(self.cfg))  # the knobs are live: take them each claim

        async def claim() -> list[int]:
            now = datetime.now(UTC)
            highest = await schedule.highest_known(self._pool)
            window = schedule.frontier_window(self.cfg, highest)
            # rows once made stay, so the window needs making only when it moved: a claim
            # every claim_interval_s then costs its claims and no insert of existing rows
            if window != self._window:
                await schedule.open_frontier(self._pool, self.cfg, now, highest)
                self._window = window
            self.stats.frontier = window[1]
            self.stats.highest_seen = max(self.stats.highest_seen, highest)
            n = self.claim_size()
            return await claims.claim(
                self._pool,
                self.cfg,
                n,
                self.cfg.lease_s,
                now,
                highest=highest,
                ahead=self._ahead(),
                oldest=await self._oldest(n, now),
            )

        ids = await self._db("schedule_claim", claim)

        async def stored() -> dict[int, int]:
            rows = await self._pool.fetch(_FINGERPRINTS, ids)
            return {r["product_id"]: r["fingerprint"] for r in rows}

        known = await self._db("load_fingerprints", stored) if ids else {}
        return [(pid, known.get(pid)) for pid in ids]
