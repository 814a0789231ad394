"""Which days the daily analytics computes: a day nothing was observed on gets its row (marked
as a gap), a day with only price changes is computed, a late batch for a computed day makes it
recomputed, and `jobs run analytics --day/--since` recompute chosen days (a bad date: exit 2)."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from marketplaced.config import DatabaseConfig
from marketplaced.jobs import analytics
from tests.conftest import base_config, env_for_tests
from tests.helpers.cli import cli as run_cli
from tests.helpers.jobs import TZ, SimDriver

DAY0 = date(2026, 11, 2)

pytestmark = pytest.mark.timeout(120)


def settings(backfill_days: int = 3) -> analytics.AnalyticsSettings:
    s = analytics.AnalyticsSettings.from_config(base_config().jobs)
    return dataclasses.replace(s, backfill_days=backfill_days)


def at(day: int, hour: int) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), datetime.min.time(), TZ) + timedelta(
        hours=hour
    )


def cheaper(pid: int) -> Any:
    def edit(p: int, payload: dict[str, Any]) -> dict[str, Any]:
        if p == pid:
            sku = payload["payload"]["data"]["skuList"][0]
            sku["purchasePrice"] = sku["purchasePrice"] * 9 // 10
        return payload

    return edit


async def days(pool: asyncpg.Pool) -> dict[date, asyncpg.Record]:
    return {r["day"]: r for r in await pool.fetch("SELECT * FROM analytics_days")}


async def sku_day(pool: asyncpg.Pool, day: int, sku_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT * FROM analytics_sku_daily WHERE day = $1 AND sku_id = $2",
        DAY0 + timedelta(days=day),
        sku_id,
    )


async def test_empty_price_only_and_late_days(pool: asyncpg.Pool) -> None:
    drv = SimDriver(pool, seed=11, n_ids=30, day0=DAY0)
    p, p2 = drv.ids[:2]
    last0 = drv.ticks_of_day(0).stop - 1
    await drv.scan_ticks(range(last0 + 1))  # the evening before and all of day 0
    # day 1: one scan at noon in which only p's price moved (no stats row at all)
    await drv.scan(last0, at=at(1, 12), edit=cheaper(p))
    # day 2: nothing observed; day 3: observed all day
    await drv.scan_ticks(drv.ticks_of_day(3))
    await analytics.run(pool, settings(), at(4, 3))
    got = await days(pool)
    assert sorted(got) == [DAY0 + timedelta(days=d) for d in range(4)]
    empty = got[DAY0 + timedelta(days=2)]
    # (only the first minutes after midnight of day 3 fall into a sampling period)
    assert (empty["complete"], empty["products"]) == (False, 0) and empty["observed_pct"] < 5
    sku = drv.expected(p, last0).skus[0]
    row = await sku_day(pool, 1, sku.id)
    assert row is not None and row["price_min"] == sku.purchase_price * 9 // 10

    # a batch stamped on day 1 commits only now (it was held up): day 1 is computed again
    assert await sku_day(pool, 1, drv.expected(p2, last0).skus[0].id) is None
    await drv.scan(last0, [p2], at=at(1, 20), edit=cheaper(p2), sample=False)
    await analytics.run(pool, settings(), at(5, 3))
    late = await sku_day(pool, 1, drv.expected(p2, last0).skus[0].id)
    assert late is not None and late["observations"] == 1
    # the day after the last scan was observed by nobody: it has its row, as a gap
    assert (await days(pool))[DAY0 + timedelta(days=4)]["complete"] is False
    # nothing new: the next run leaves day 1 alone
    before = (await days(pool))[DAY0 + timedelta(days=1)]["computed_at"]
    await analytics.run(pool, settings(), at(5, 4))
    assert (await days(pool))[DAY0 + timedelta(days=1)]["computed_at"] == before


async def cli(db: DatabaseConfig, *args: str) -> tuple[int, str, str]:
    env = {**env_for_tests(), "PATH": os.environ.get("PATH", ""), "DB_NAME": db.name}
    env["MARKETPLACED_CONFIG"] = os.devnull
    return await run_cli(env, *args)


async def test_recompute_a_chosen_day_or_every_day_since(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool
) -> None:
    drv = SimDriver(pool, seed=11, n_ids=20, day0=DAY0)
    await drv.scan_ticks(range(drv.ticks_of_day(1).stop))
    for bad in ("2026-13-01", "yesterday", "2026-11-2x"):
        code, _, err = await cli(fresh_db, "jobs", "run", "analytics", "--day", bad)
        assert code == 2 and "is not a date (YYYY-MM-DD)" in err, err
    code, _, err = await cli(fresh_db, "jobs", "run", "analytics", "--since", "2999-01-01")
    assert code == 2 and "has not ended yet" in err
    code, _, err = await cli(fresh_db, "jobs", "run", "health", "--day", "2026-11-02")
    assert code == 2 and "only apply to analytics" in err
    assert await pool.fetchval("SELECT count(*) FROM analytics_days") == 0

    code, out, err = await cli(fresh_db, "jobs", "run", "analytics", "--day", "2026-11-03")
    assert code == 0, err
    assert out.startswith("analytics: ok")
    assert sorted(await days(pool)) == [date(2026, 11, 3)]
    assert (await days(pool))[date(2026, 11, 3)]["products"] > 0

    code, out, err = await cli(fresh_db, "jobs", "run", "analytics", "--since", "2026-11-01")
    assert code == 0, err
    yesterday = datetime.now(TZ).date() - timedelta(days=1)
    assert sorted(await days(pool)) == [
        date(2026, 11, 1) + timedelta(days=i)
        for i in range((yesterday - date(2026, 11, 1)).days + 1)
    ]
