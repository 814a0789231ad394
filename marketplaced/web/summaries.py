"""Summary tables behind rankings and overviews, refreshed by the web app in the background.

Ranking a million products by seller, or counting price bands per category, is a few seconds
of aggregation — too slow per page view, cheap every half hour. 005_web.sql defines these as
materialized views; `refresh` recomputes them CONCURRENTLY (readers are never blocked) in
dependency order and notes when, so pages can say "as of". The price drops are a table kept
incrementally instead (price_drops.py): recomputing the window whole took minutes at scale.
The category totals count price bands with the configured edges (`[jobs] price_bands`),
written before each refresh. `Refresher` is the background task (an aiohttp cleanup context)
that does it periodically; a failed refresh keeps the old data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import asyncpg
from aiohttp import web

from marketplaced import log
from marketplaced.web import price_drops

_log = log.get(__name__)

#: in dependency order: the per-product prices feed every other summary
SUMMARIES = (
    "web_product_prices",
    "web_seller_totals",
    "web_category_sellers",
    "web_category_totals",
    "web_price_drops",
)
#: 30 min: rankings move slowly (a scan cycle takes hours), and a full refresh costs a few
#: seconds of one core at 1 M products — about 0.3 % of the machine
REFRESH_INTERVAL_S = 1800.0
#: first refresh shortly after start, not at once: start-up has more urgent work
FIRST_REFRESH_DELAY_S = 60.0

_RECORD = """
INSERT INTO web_summary_refreshes (name, refreshed_at, duration_ms) VALUES ($1, now(), $2)
ON CONFLICT (name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at,
    duration_ms = EXCLUDED.duration_ms"""
_BAND_EDGES = """
INSERT INTO web_price_band_edges (only_row, edges) VALUES (true, $1)
ON CONFLICT (only_row) DO UPDATE SET edges = EXCLUDED.edges"""


async def refresh(pool: asyncpg.Pool, band_edges: Sequence[int] | None = None) -> dict[str, float]:
    """Recompute every summary, counting price bands with `band_edges` (None: the edges of the
    last refresh); returns seconds per summary."""
    took: dict[str, float] = {}
    async with pool.acquire() as conn:
        if band_edges is not None:
            await conn.execute(_BAND_EDGES, list(band_edges))
        for name in SUMMARIES:
            started = time.monotonic()
            if name == price_drops.NAME:
                await price_drops.refresh(conn)
            else:
                # identifiers come from the constant SUMMARIES tuple, never from input
                await conn.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {name}")
            took[name] = time.monotonic() - started
            await conn.execute(_RECORD, name, int(took[name] * 1000))
    return took


async def refreshed_at(pool: asyncpg.Pool, name: str) -> datetime | None:
    value = await pool.fetchval(
        "SELECT refreshed_at FROM web_summary_refreshes WHERE name = $1", name
    )
    return value if isinstance(value, datetime) else None


class Refresher:
    """Periodic `refresh` as an aiohttp cleanup context (started and stopped with the app)."""

    def __init__(
        self, pool: asyncpg.Pool, interval_s: float | None, band_edges: Sequence[int]
    ) -> None:
        self._pool = pool
        self._interval_s = interval_s
        self._band_edges = tuple(band_edges)

    async def ctx(self, app: web.Application) -> AsyncIterator[None]:
        if self._interval_s is None:
            yield
            return
        task = asyncio.create_task(self._loop(self._interval_s), name="web_summaries")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _loop(self, interval_s: float) -> None:
        await asyncio.sleep(min(FIRST_REFRESH_DELAY_S, interval_s))
        while True:
            try:
                took = await refresh(self._pool, self._band_edges)
                _log.info(
                    "web_summaries_refreshed", ms={k: round(v * 1000) for k, v in took.items()}
                )
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                _log.warning("web_summaries_refresh_failed", error=str(exc) or type(exc).__name__)
            await asyncio.sleep(interval_s)
