"""The sales period every sales page reads first (web/sales_window.py `window`): the period's
and the previous period's coverage and whether the period is built come in one statement, and
say what reading each period's days on its own says — unobserved and missing days, the
longest gap, a live day, no rows at all, a build of that exact period or not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from marketplaced.web import sales_window as sw
from marketplaced.web.queries import sales
from marketplaced.web.queries.sales import Period

TODAY = date(2026, 11, 30)


class Counting:
    """A pool that counts the statements sent through it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.sent = pool, 0

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.sent += 1
        return await self.pool.fetch(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.sent += 1
        return await self.pool.fetchval(sql, *args)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Counting]:
        yield self


@pytest.fixture
async def days(pool: asyncpg.Pool) -> asyncpg.Pool:
    rows = []
    for i in range(1, 61):
        day = TODAY - timedelta(days=i)
        if i % 13 == 0:
            continue  # never computed: no row
        pct = 0 if i % 9 == 0 else 80 + i % 20  # observed not at all
        rows.append((day, pct, 5 * i, i > 2))  # the last two days not final yet
    rows.append((TODAY, 40, 17, False))
    await pool.executemany(
        "INSERT INTO sales_days (day, observed_pct, max_gap_min, complete, final) "
        "VALUES ($1, $2, $3, true, $4)",
        rows,
    )
    await pool.execute(
        "INSERT INTO sales_period_builds (days, last_day, built_at, build_ms) "
        "VALUES (7, $1, now(), 1)",
        TODAY - timedelta(days=1),
    )
    return pool


PERIODS = [
    Period(TODAY - timedelta(days=7), TODAY - timedelta(days=1)),  # built
    Period(TODAY - timedelta(days=8), TODAY - timedelta(days=2)),  # 7 days, not built
    Period(TODAY - timedelta(days=30), TODAY - timedelta(days=1)),
    Period(TODAY, TODAY),
    Period(TODAY - timedelta(days=1), TODAY - timedelta(days=1)),
    Period(date(2025, 1, 1), date(2025, 1, 31)),  # no day has a row
]


@pytest.mark.parametrize("period", PERIODS)
async def test_one_statement_says_what_each_periods_days_say(
    days: asyncpg.Pool, period: Period
) -> None:
    counting = Counting(days)
    w = await sw.window(counting, period)  # type: ignore[arg-type]
    assert counting.sent == 1
    async with days.acquire() as conn:
        cov = await sales.coverage(conn, period)
        prev = await sales.coverage(conn, period.previous())
        built = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM sales_period_builds WHERE days = $1 AND last_day = $2)",
            period.days,
            period.last,
        )
    assert w == sw.SalesWindow(
        period=period,
        previous=period.previous(),
        previous_known=not prev.unobserved,
        unobserved=cov.unobserved,
        observed_days=cov.observed_days,
        longest_gap_min=cov.longest_gap_min,
        precomputed=built,
    )
    assert w.precomputed == (period == PERIODS[0])
