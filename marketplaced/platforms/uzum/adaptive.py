"""The Uzum product scanner in adaptive mode: visit the ids the shared schedule says are due.

Instead of cycles over 1..frontier, the scanner repeatedly claims a batch of due ids (most
overdue first, leased to it) from `uzum_schedule` and visits them with the same
fetch → archive → parse → enqueue path as the round-robin scanner; the sink sets each id's next
due time in the transaction that stores the visit (see `schedule` for the policy).

The request budget: a claim asks for at most `rps × claim_interval_s` ids (capped by
`claim_max`), about what the fetcher sends in one claim interval, so a daemon never holds more
leases than it can visit before they expire, and what it cannot afford stays due for the next
claim (or another daemon) instead of being fetched faster than allowed.

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
from marketplaced.platforms.uzum import schedule
from marketplaced.platforms.uzum.scanner import UzumScanner

T = TypeVar("T")

_FINGERPRINTS = """
SELECT product_id, fingerprint FROM uzum_visits
WHERE product_id = ANY($1::bigint[]) AND fingerprint IS NOT NULL"""


class AdaptiveScanner(UzumScanner):
    """`UzumScanner` driven by the revisit schedule (uzum.mode = "adaptive")."""

    def claim_size(self) -> int:
        """Ids per claim: what the configured rate fetches in one claim interval."""
        cfg = self.cfg
        if cfg.rps <= 0:
            return cfg.claim_max
        return max(1, min(cfg.claim_max, int(cfg.rps * cfg.claim_interval_s)))

    async def _run(self) -> None:
        st = self.stats
        st.cycle = 1
        await self._db("schedule_seed", self._seed)
        last_retry = time.monotonic()
        while True:
            ids = await self._claim()
            if not ids:
                # what was fetched may have moved the frontier once it is committed
                await self._writer.flush()
                ids = await self._claim()
            if not ids:
                if not self.plan.continuous:
                    break
                st.state = "idle"
                await asyncio.sleep(self.cfg.claim_interval_s)
                continue
            await self._visit(ids)
            if time.monotonic() - last_retry >= self.cfg.dead_letter_retry_s:
                await self._retry_dead_letters()
                last_retry = time.monotonic()
        await self._writer.flush()
        st.state = "done"

    async def _db(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        return await patiently(what, op, self.stats, self._log)

    async def _seed(self) -> None:
        now = datetime.now(UTC)
        await schedule.seed(self._pool, self.cfg, now)
        self.stats.highest_seen = max(
            self.stats.highest_seen, await schedule.highest_known(self._pool)
        )

    async def _claim(self) -> list[int]:
        schedule.use(schedule.Policy.of(self.cfg))  # the knobs are live: take them each claim

        async def claim() -> list[int]:
            now = datetime.now(UTC)
            self.stats.frontier = await schedule.open_frontier(self._pool, self.cfg, now)
            return await schedule.claim(
                self._pool, self.cfg, self.claim_size(), self.cfg.lease_s, now
            )

        return await self._db("schedule_claim", claim)

    async def _visit(self, ids: list[int]) -> None:
        self.stats.state = "scanning"

        async def stored() -> dict[int, int]:
            rows = await self._pool.fetch(_FINGERPRINTS, ids)
            return {r["product_id"]: r["fingerprint"] for r in rows}

        known = await self._db("load_fingerprints", stored)
        queue = list(reversed(ids))  # most overdue first

        async def worker() -> None:
            while queue:
                pid = queue.pop()
                await self._process(pid, known.get(pid))

        async with asyncio.TaskGroup() as tg:
            for _ in range(max(1, min(self.cfg.concurrency, len(ids)))):
                tg.create_task(worker())
