"""`marketplaced jobs run alerts|health` from the command line, with another configuration than
the daemon's: a dry run by default that changes none of the daemon's rules or state; `--commit`
runs the job for real."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from marketplaced.config import DatabaseConfig
from marketplaced.jobs import alerts
from marketplaced.jobs.commands import run_command
from marketplaced.jobs.rules import parse_rules
from tests.conftest import base_config
from tests.helpers.jobs import SimDriver

_STATE = """
SELECT name, value::text FROM job_state ORDER BY name"""
_RULES = "SELECT name, enabled FROM alert_rules ORDER BY name"


async def snapshot(pool: asyncpg.Pool) -> dict[str, Any]:
    return {
        "state": [tuple(r) for r in await pool.fetch(_STATE)],
        "rules": [tuple(r) for r in await pool.fetch(_RULES)],
        "events": await pool.fetchval("SELECT count(*) FROM alert_events"),
        "runs": await pool.fetchval("SELECT count(*) FROM job_runs"),
        "checks": await pool.fetchval("SELECT count(*) FROM health_checks"),
    }


def cheaper(pid: int, by: int = 2) -> Any:
    def edit(p: int, payload: dict[str, Any]) -> dict[str, Any]:
        if p == pid:
            sku = payload["payload"]["data"]["skuList"][0]
            sku["purchasePrice"] = sku["purchasePrice"] // by
        return payload

    return edit


async def test_a_one_off_alerts_run_leaves_the_daemons_rules_and_watermark_alone(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool
) -> None:
    now = datetime.now(UTC)
    drv = SimDriver(pool, seed=5, n_ids=20, day0=now.date())
    p = drv.ids[0]
    # the daemon's rules and its first run over the first sightings
    daemon = base_config(alerts={"rules": f"price_drop product:{p} pct=10 rearm_h=0"})
    await alerts.sync_config_rules(pool, parse_rules(daemon.alerts.rules))
    s = alerts.AlertSettings.from_config(daemon.alerts, UTC)
    await drv.scan(0, at=now - timedelta(minutes=30))
    await alerts.evaluate(pool, s, now - timedelta(minutes=25))
    await drv.scan(0, at=now - timedelta(minutes=10), edit=cheaper(p))  # a 50 % drop
    before = await snapshot(pool)

    # an operator runs the job with another file (other rules, no notification URLs)
    other = base_config(database=dataclasses.asdict(fresh_db), alerts={"rules": "out_of_stock all"})
    out = io.StringIO()
    assert await run_command(other, "alerts", out) == 0
    assert await snapshot(pool) == before
    text = out.getvalue()
    assert "dry run" in text and "1 new event(s)" in text and "Price drop: " in text

    # so the daemon's next run still has the drop
    fired = await alerts.evaluate(pool, s, now)
    kinds = await pool.fetch("SELECT kind, item FROM alert_events WHERE id = ANY($1)", fired)
    assert [(r["kind"], r["item"]) for r in kinds] == [("price_drop", f"product:{p}")]

    # --commit runs it for real (with the stored rules, still not this file's)
    await drv.scan(0, at=now, edit=cheaper(p, by=4))  # halved once more
    out = io.StringIO()
    assert await run_command(other, "alerts", out, commit=True) == 0
    assert out.getvalue().startswith("alerts: ok (run ")
    assert [tuple(r) for r in await pool.fetch(_RULES)] == before["rules"]
    assert await pool.fetchval("SELECT count(*) FROM alert_events") == 2


async def test_a_one_off_health_run_does_not_consume_the_change(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool
) -> None:
    # the daemon's last verdict: all well
    await pool.execute(
        "INSERT INTO job_state (name, value) VALUES ('health', $1::jsonb)",
        json.dumps({"failing": []}),
    )
    # no scanner heartbeats, nothing updated: this run finds checks failing
    cfg = base_config(database=dataclasses.asdict(fresh_db))
    before = await snapshot(pool)
    out = io.StringIO()
    assert await run_command(cfg, "health", out) == 1
    assert await snapshot(pool) == before
    text = out.getvalue()
    assert "dry run" in text and "FAILING" in text
    assert "a change the daemon's next check notifies: marketplaced: " in text

    out = io.StringIO()
    await run_command(cfg, "health", out, commit=True)
    after = await snapshot(pool)
    assert after["checks"] == 1 and after["runs"] == 1
    state = dict(after["state"])
    assert json.loads(state["health"])["failing"] != []
