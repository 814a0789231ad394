"""Simulated history for the demo: weeks of past observations before the live scan starts.

A fresh database has no past, so every period, trend and chart of the dashboard would stay
empty for days. The simulator's Uzum catalogue is a pure function of (seed, id, tick), one tick
one simulated hour, so its past can be computed instead of waited for: pass `k` renders every
backfilled product's body at tick `k × step`, parses it with the scanner's parser and hands it
to the normal writer and sink, whose batch is stamped `now − (last tick − tick)` hours (the
writer's clock). History therefore holds real change-based rows (price_history,
product_stats_history, uzum_visits) at past observation times, written by the same code as a
live scan; the last pass is tick `days × 24`, stamped now, and the live simulator continues from
that tick, so the live scan extends the same history instead of jumping back in time.

After each pass the scan coverage records the pass's period as observed (as the coverage job
does for a live scan: every backfilled product was looked at in it), so the analytics days are
complete, not marked as gaps. Then the analytics of every backfilled finished day is computed
(`analyse_days`, what `jobs run analytics --since` does), so every period has figures at once;
the demo runs it beside the starting daemon, as it takes about as long as the passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from marketplaced import log, partitions
from marketplaced.config import Config
from marketplaced.errors import ParseError
from marketplaced.jobs import analytics, coverage
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import ProductSnapshot
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.platforms.uzum.visits import Fingerprinter, Revisit
from marketplaced.simulator.uzum import UzumCatalogue
from marketplaced.writer import Writer

_log = log.get(__name__)

_HISTORY_TABLES = ("price_history", "product_stats_history")


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """How much past to compute.

    The default is sized for the demo on a small machine: a body costs 1–3 ms to render, parse
    and write (the writer's transaction dominates on a busy 2-core machine), so 150 products ×
    31 passes (30 days, one pass per simulated day) is about 4.7 k bodies, ≈ 10–30 s with the
    analytics of the 30 days. Every id of the demo catalogue at one pass per hour would be
    ~1.5 M bodies (tens of minutes); a daily pass keeps each day's sales (every order-counter
    growth is counted and priced between two passes) and a price point per day per SKU.
    """

    days: int = 30
    step_hours: int = 24
    #: the first this many existing ids of the catalogue are backfilled (0: all of them)
    products: int = 150

    def __post_init__(self) -> None:
        if self.days < 1 or self.step_hours < 1 or self.products < 0:
            raise ValueError(f"a backfill needs days ≥ 1, step_hours ≥ 1, products ≥ 0: {self}")

    @property
    def last_tick(self) -> int:
        return self.days * 24


@dataclass(frozen=True, slots=True)
class BackfillResult:
    products: int
    passes: int
    bodies: int
    seconds: float


class _Clock:
    """The writer's clock during a backfill: the observation time of the current pass."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def product_ids(catalogue: UzumCatalogue, limit: int) -> list[int]:
    """The first `limit` ids holding a product (all of them with 0)."""
    ids: list[int] = []
    for pid in range(1, catalogue.n_ids + 1):
        if catalogue.exists(pid):
            ids.append(pid)
            if len(ids) == limit:
                break
    return ids


async def backfill_history(
    pool: asyncpg.Pool,
    cfg: Config,
    catalogue: UzumCatalogue,
    plan: BackfillPlan,
    now: datetime | None = None,
) -> BackfillResult:
    """Write `plan.days` of simulated history ending at `now` (ticks 0..plan.last_tick); the
    caller starts the live simulator at `plan.last_tick` and computes the days' analytics
    (`analyse_days`)."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    first = now - timedelta(hours=plan.last_tick)
    settings = analytics.AnalyticsSettings.from_config(cfg.jobs)
    first_day = first.astimezone(settings.tz).date()
    for table in _HISTORY_TABLES:
        for day in analytics.days_between(first_day, now.astimezone(settings.tz).date()):
            if day.day == 1 or day == first_day:
                await partitions.ensure_for(pool, table, day)
    ids = product_ids(catalogue, plan.products)
    clock = _Clock(first)
    writer = Writer(pool, cfg.writer, [UzumSink()], clock=clock)
    task = asyncio.create_task(writer.run(), name="backfill-writer")
    fingerprint = Fingerprinter()
    stored: dict[int, int] = {}
    bodies = passes = 0
    period = timedelta(hours=plan.step_hours)
    try:
        for tick in range(0, plan.last_tick + 1, plan.step_hours):
            clock.at = now - timedelta(hours=plan.last_tick - tick)
            for pid in ids:
                await _visit(writer, catalogue, fingerprint, stored, pid, tick)
            bodies += len(ids)
            passes += 1
            await writer.flush()
            # this pass's period was observed: the coverage job's record, stamped as the pass
            await coverage.record(pool, clock.at + coverage.COMMIT_LAG, period)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await writer.drain()
    result = BackfillResult(len(ids), passes, bodies, time.monotonic() - started)
    _log.info(
        "backfill_done",
        products=result.products,
        passes=result.passes,
        bodies=result.bodies,
        seconds=round(result.seconds, 1),
    )
    return result


async def analyse_days(
    pool: asyncpg.Pool, cfg: Config, plan: BackfillPlan, now: datetime | None = None
) -> int:
    """The analytics of every finished day of the backfill window (what `jobs run analytics
    --since` does), newest first: the days a seller looks at first are there first. It may run
    beside the live daemon: a past day's rows are not written by the live scan. Returns the
    number of days computed."""
    now = now or datetime.now(UTC)
    settings = analytics.AnalyticsSettings.from_config(cfg.jobs)
    first_day = (now - timedelta(hours=plan.last_tick)).astimezone(settings.tz).date()
    last_day = now.astimezone(settings.tz).date() - timedelta(days=1)
    days = analytics.days_between(first_day, last_day)
    for day in reversed(days):
        await analytics.compute_day(pool, day, settings)
    _log.info("backfill_analysed", days=len(days), first=first_day.isoformat())
    return len(days)


async def _visit(
    writer: Writer,
    catalogue: UzumCatalogue,
    fingerprint: Fingerprinter,
    stored: dict[int, int],
    pid: int,
    tick: int,
) -> None:
    """What the scanner does with one body: unchanged → a revisit, else parse and store."""
    body = catalogue.product_bytes(pid, tick)
    if body is None:
        return
    fp = fingerprint(body)
    if stored.get(pid) == fp:
        await writer.put(Revisit(pid, fp))
        return
    try:
        record = parse_product(200, orjson.loads(body), pid)
    except (ParseError, orjson.JSONDecodeError) as exc:
        # the simulator's own bodies parse; if one ever does not, it is that product's problem
        _log.error("backfill_parse_failed", product_id=pid, tick=tick, error=str(exc)[:300])
        return
    if isinstance(record, ProductSnapshot):
        stored[pid] = fp
        await writer.put(replace(record, fingerprint=fp))
