"""Drive the simulated Uzum catalogue through the parser and the writer's sink at chosen
simulated times, without HTTP, so job tests can build days of history in a second.

Tick t (one simulated hour) is observed at `time_of(t)`: day 0 starts `LEAD` ticks after tick
0, so every analytics day has a value in effect at its midnight. After each scan the coverage
sampler runs at the same simulated clock, as the scheduler would in the daemon.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from marketplaced import commit_log
from marketplaced.checkpoint import CheckpointSink, ParseFailure
from marketplaced.errors import ParseError
from marketplaced.jobs import coverage
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import ProductSnapshot
from marketplaced.platforms.uzum.storage import SCOPE, UzumSink
from marketplaced.simulator.uzum import ExpectedProduct, UzumCatalogue

TZ = ZoneInfo("Asia/Tashkent")
#: ticks observed before day 0 begins (the evening before)
LEAD = 3
#: the harness samples coverage once per simulated hour, so a period is at most an hour long
#: (the daemon samples every 5 min with periods capped at 10 min)
MAX_PERIOD = timedelta(hours=1)

Edit = Callable[[int, dict[str, Any]], dict[str, Any] | None]


class SimDriver:
    def __init__(self, pool: asyncpg.Pool, *, seed: int, n_ids: int, day0: date) -> None:
        self.pool = pool
        self.cat = UzumCatalogue(seed, n_ids)
        self.ids = [i for i in range(1, n_ids + 1) if self.cat.product_payload(i, 0) is not None]
        self.day0 = day0
        self.start = datetime.combine(day0, datetime.min.time(), TZ)
        self.sink = UzumSink()
        #: every tick scan_ticks() observed, in order
        self.observed: list[int] = []

    def time_of(self, tick: int) -> datetime:
        # half past the hour: well inside the hour the tick stands for
        return self.start + timedelta(hours=tick - LEAD, minutes=30)

    def ticks_of_day(self, day: int) -> range:
        """The ticks observed during analytics day `day` (0 = day0)."""
        return range(24 * day + LEAD, 24 * day + LEAD + 24)

    def expected(self, pid: int, tick: int) -> ExpectedProduct:
        exp = self.cat.expected(pid, tick)
        assert exp is not None
        return exp

    async def scan(
        self,
        tick: int,
        ids: Iterable[int] | None = None,
        *,
        edit: Edit | None = None,
        at: datetime | None = None,
        sample: bool = True,
    ) -> None:
        """One scan of `ids` (default: all) as of `tick`, committed like one writer batch.

        `edit(pid, payload)` may change a payload before parsing (a price, a broken field) or
        return None for a request that failed (nothing is stored for it, like a dead letter).
        A payload the parser rejects becomes a parse failure, as in the real scanner."""
        now = at or self.time_of(tick)
        snaps: list[ProductSnapshot] = []
        failures: list[ParseFailure] = []
        for pid in self.ids if ids is None else ids:
            payload = json.loads(json.dumps(self.cat.product_payload(pid, tick)))
            if edit is not None:
                payload = edit(pid, payload)
                if payload is None:
                    continue
            try:
                snap = parse_product(200, payload, pid)
            except ParseError as exc:
                failures.append(ParseFailure(SCOPE, str(pid), exc.reason))
                continue
            assert isinstance(snap, ProductSnapshot)
            snaps.append(snap)
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                await self.sink.write(conn, {ProductSnapshot: snaps}, now)
                if failures:
                    await CheckpointSink().write(conn, {ParseFailure: failures}, now)
                await commit_log.stamp(conn, now)  # as the writer ends every batch
            if sample:
                await coverage.record(conn, now + timedelta(minutes=10), MAX_PERIOD)

    async def scan_ticks(self, ticks: Iterable[int]) -> None:
        for tick in ticks:
            await self.scan(tick)
            self.observed.append(tick)
