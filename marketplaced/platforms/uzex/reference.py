"""The reference-data scanner: UZEX categories and regions, refreshed daily.

Both lists are small and change rarely, so one request each per `reference_interval_h` is
enough. The time of the last refresh is kept in the scan cursor, so a restart does not refresh
again before it is due. Only a refresh in which both lists arrived and parsed counts: after a
failed one the cursor stays where it was and the refresh is tried again after `cycle_pause_s`,
doubling per failure up to the refresh interval.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from marketplaced.http import JsonResponse
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.parser import ReferenceResult, parse_categories, parse_regions
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScanner, failure_reason

NAME = "uzex.reference"
SCOPE = "uzex.reference"


class ReferenceScanner(UzexScanner):
    """Categories and regions from the trade host."""

    def __init__(
        self,
        cfg: UzexConfig,
        deps: ScanDeps,
        *,
        plan: UzexPlan | None = None,
    ) -> None:
        super().__init__(
            cfg,
            deps,
            name=NAME,
            scope=SCOPE,
            plan=plan,
        )
        self.refreshed_at = 0.0  # wall clock of the last complete refresh
        #: failed refreshes in a row, and when the last one ended (wall clock)
        self.failures = 0
        self.failed_at = 0.0

    async def _restore(self) -> None:
        cursor = await self._load_cursor()
        if cursor is not None:
            self.stats.cycle = cursor.cycle
            self.refreshed_at = float(cursor.state.get("refreshed_at") or 0.0)

    def _pause_s(self) -> float:
        interval_s = float(self.cfg.reference_interval_h) * 3600
        if self.failures:
            # the lists are only a day old at worst: back off so a down host is asked a few
            # times an hour, not every few seconds, and never less often than the interval
            first_s = float(self.cfg.cycle_pause_s)
            backoff_s = min(first_s * 2.0 ** (self.failures - 1), interval_s)
            return max(0.0, self.failed_at + backoff_s - time.time())
        return max(0.0, self.refreshed_at + interval_s - time.time())

    async def _cycle(self) -> None:
        if self.plan.continuous and self._pause_s() > 0:
            return  # refreshed (or failed) recently, e.g. before a restart: wait
        st = self.stats
        st.state = "scanning"
        st.cycle += 1
        self._cycle_started_at = datetime.now(UTC)
        lists: Sequence[tuple[str, Callable[[], Awaitable[JsonResponse]], Any]] = (
            ("categories", self.client.categories, parse_categories),
            ("regions", self.client.regions, parse_regions),
        )
        failed = [key for key, fetch, parse in lists if not await self._refresh(key, fetch, parse)]
        if failed:
            self.failures += 1
            self.failed_at = time.time()
            self._log.warning(
                "reference_refresh_failed",
                lists=failed,
                failures=self.failures,
                retry_in_s=round(self._pause_s(), 1),
            )
            return
        self.failures = 0
        self.refreshed_at = time.time()
        await self._put_mark(st.cycle, st.found, {"refreshed_at": self.refreshed_at})
        self._log.info("reference_refreshed", found=st.found)

    async def _refresh(
        self,
        key: str,
        fetch: Callable[[], Awaitable[JsonResponse]],
        parse: Callable[[object], ReferenceResult[Any]],
    ) -> bool:
        """Fetch, parse and enqueue one list; False when it did not arrive as a list."""
        got = await self._get_list(key, fetch)
        if got is None:
            return False
        resp, ref = got
        try:
            result = parse(resp.data)
        except Exception as exc:  # the body is no list at all, or a parser bug: one failure
            await self._parse_failed(SCOPE, key, failure_reason(exc), ref)
            return False
        for row_key, reason in result.failures:
            await self._parse_failed(SCOPE, f"{key}:{row_key}", reason, ref)
        for record in result.records:
            await self._writer.put(record)
        self._count(len(result.records), 0, None)
        return True
