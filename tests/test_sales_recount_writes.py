"""The nightly recount of a day writes only the sales rows that change: what the minute job
already counted right is left as it is, a late batch's product is rewritten, and the result
is the same as counting the day from nothing."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from marketplaced.jobs import analytics
from marketplaced.sales import intervals, rollup
from tests.conftest import base_config
from tests.helpers.sales_scenario import D0, D1, D2, D3, Scenario, at, three_products


async def build(pool: asyncpg.Pool) -> Scenario:
    return await three_products(pool, rollup.SalesSettings.from_config(base_config().jobs))


pytestmark = pytest.mark.timeout(90)

_TABLES = ("sales_product_daily", "sales_sku_daily", "sales_seller_daily", "sales_category_daily")


async def _rows(pool: asyncpg.Pool) -> dict[str, list[tuple[object, ...]]]:
    """Each table's rows with the transaction that last wrote them (xmin) at the end."""
    return {
        t: sorted(
            tuple(r)
            for r in await pool.fetch(f"SELECT *, xmin::text FROM {t}")  # noqa: S608
        )
        for t in _TABLES
    }


def _values(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(r[:-1] for r in v) for t, v in rows.items()}


async def test_the_nightly_recount_rewrites_only_what_changed(pool: asyncpg.Pool) -> None:
    sc = await build(pool)
    a_settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    counted = await _rows(pool)
    for day in (D0, D1, D2, D3):
        await analytics.compute_day(pool, day, a_settings)
    assert await _rows(pool) == counted  # the same rows, none of them written again
    # a late batch the minute job has not folded: product 3 sold 2 more on D1 at 11:00
    await sc.observe(at(D1, 11), 3, orders=10)
    await analytics.compute_day(pool, D1, a_settings)
    after = await _rows(pool)
    product_rows = {r[1]: r for r in after["sales_product_daily"] if r[0] == D1}
    before_rows = {r[1]: r for r in counted["sales_product_daily"] if r[0] == D1}
    assert product_rows[1] == before_rows[1]  # product 1 untouched
    assert product_rows[3][4] == 2 and product_rows[3][-1] != before_rows.get(3, (None,))[-1]
    # the same as counting D1 from nothing
    for t in _TABLES:
        await pool.execute(f"DELETE FROM {t} WHERE day = $1", D1)  # noqa: S608
    await analytics.compute_day(pool, D1, a_settings)
    assert _values(await _rows(pool)) == _values(after)


async def test_the_recount_lets_the_daemon_run_between_chunks_of_products(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counting is Python: a whole day's products counted in one go held the daemon's
    event loop for ≈ 20 s at full scale (scanner, writer, dashboard and watchdog waiting).
    Counted a chunk at a time, another task runs between two chunks, and the rows are the
    same."""
    await build(pool)
    counted = _values(await _rows(pool))
    monkeypatch.setattr(rollup, "RECOUNT_CHUNK", 1)
    ticks = 0
    seen: list[int] = []
    count = intervals.count

    def counting(*args: object, **kwargs: object) -> intervals.Result:
        seen.append(ticks)
        return count(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(intervals, "count", counting)
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(0)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        # D0: all three products have rows
        await rollup.compute_day(pool, D0, rollup.SalesSettings.from_config(base_config().jobs))
    finally:
        done.set()
        await task
    assert len(seen) == 3  # the scenario's three products, one chunk each
    assert seen == sorted(seen) and len(set(seen)) == 3, seen  # the loop ran between them
    assert _values(await _rows(pool)) == counted
