"""The demo's simulated past: days of history written through the normal parser, writer and sink
at past observation times, what the simulator served at each tick, with its analytics."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from marketplaced.backfill import BackfillPlan, analyse_days, backfill_history, product_ids
from marketplaced.jobs.analytics import AnalyticsSettings
from marketplaced.simulator.uzum import UzumCatalogue

from .conftest import base_config


def test_a_plan_refuses_nonsense() -> None:
    for bad in ({"days": 0}, {"step_hours": 0}, {"products": -1}):
        with pytest.raises(ValueError, match="a backfill needs"):
            BackfillPlan(**bad)  # type: ignore[arg-type]


async def test_backfill_writes_the_simulated_past_at_its_observation_times(
    pool: asyncpg.Pool,
) -> None:
    catalogue = UzumCatalogue(1, 400)
    plan = BackfillPlan(days=3, step_hours=6, products=12)
    cfg = base_config()
    # the end of the backfill is an injected instant, not the wall clock: noon (local) of
    # yesterday, so that no day boundary falls near a pass whenever the test runs
    tz = AnalyticsSettings.from_config(cfg.jobs).tz
    yesterday = datetime.now(tz).date() - timedelta(days=1)
    now = datetime.combine(yesterday, time(12), tz).astimezone(UTC)
    done = await backfill_history(pool, cfg, catalogue, plan, now)
    ids = product_ids(catalogue, plan.products)
    assert done.products == len(ids) == 12
    assert done.passes == plan.last_tick // plan.step_hours + 1 == 13
    stamps = {
        r[0] for r in await pool.fetch("SELECT DISTINCT observed_at FROM product_stats_history")
    }
    # every pass at its own past instant, the last one at `now`
    assert stamps == {now - timedelta(hours=plan.last_tick - t) for t in range(0, 73, 6)}
    # each stored observation is what the simulator served at that pass's tick
    for pid in ids[:4]:
        rows = await pool.fetch(
            "SELECT observed_at, orders_amount, total_available FROM product_stats_history "
            "WHERE product_id = $1 ORDER BY observed_at",
            pid,
        )
        assert rows, pid
        for r in rows:
            tick = plan.last_tick - round((now - r["observed_at"]) / timedelta(hours=1))
            expected = catalogue.expected(pid, tick)
            assert expected is not None
            assert (r["orders_amount"], r["total_available"]) == (
                expected.orders,
                expected.total_available,
            )
        current = catalogue.expected(pid, plan.last_tick)
        assert current is not None
        skus = await pool.fetch(
            "SELECT id, purchase_price, available_amount FROM skus WHERE product_id = $1", pid
        )
        assert {(r[0], r[1], r[2]) for r in skus} == {
            (s.id, s.purchase_price, s.available_amount) for s in current.skus
        }
    # the visits say the last pass saw every product, with the body's fingerprint
    visits = await pool.fetch("SELECT last_seen, fingerprint FROM uzum_visits")
    assert len(visits) == 12
    assert all(v["last_seen"] == now and v["fingerprint"] is not None for v in visits)
    # every finished day of the window is computed, observed without gaps, and its sales are
    # plausible: never negative, revenue within units × the lowest and highest price seen
    analysed = await analyse_days(pool, cfg, plan, now)
    days = await pool.fetch("SELECT day, complete FROM analytics_days ORDER BY day")
    assert len(days) == analysed == 3  # the window's finished days
    assert all(d["complete"] for d in days[1:])  # the first day starts at noon
    sales = await pool.fetch(
        "SELECT d.product_id, d.units, d.revenue, p.lo, p.hi FROM sales_product_daily d "
        "JOIN (SELECT product_id, min(purchase_price) lo, max(purchase_price) hi "
        "      FROM price_history GROUP BY 1) p USING (product_id)"
    )
    assert sum(r["units"] for r in sales) > 0
    for r in sales:
        assert r["units"] >= 0 and r["revenue"] >= 0
        assert r["units"] * r["lo"] <= r["revenue"] <= r["units"] * r["hi"], dict(r)
