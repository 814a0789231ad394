"""Job settings in the configuration: schedules, time zone, alert rules, notification URLs;
and the UZEX monthly rollups."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from marketplaced import platforms
from marketplaced.errors import ConfigError
from marketplaced.jobs import analytics, triggers
from marketplaced.jobs.rules import parse_rules
from tests.conftest import base_config


def _problems(text: str, tmp_path: Path) -> str:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        platforms.load_config({}, path)
    return "\n".join(info.value.problems)


def test_bad_schedules_time_zone_and_rules_are_config_errors(tmp_path: Path) -> None:
    assert "'jobs.analytics_schedule' = '61 3 * * *'" in _problems(
        '[jobs]\nanalytics_schedule = "61 3 * * *"\n', tmp_path
    )
    assert "'jobs.alerts_schedule' = 'daily' does not match" in _problems(
        '[jobs]\nalerts_schedule = "daily"\n', tmp_path
    )
    assert "'jobs.timezone' = 'Mars/Olympus' is not a known time zone" in _problems(
        '[jobs]\ntimezone = "Mars/Olympus"\n', tmp_path
    )
    problem = _problems('[alerts]\nrules = "out_of_stock all; price_drop product:5"\n', tmp_path)
    assert "'alerts.rules'" in problem and "needs pct=N" in problem
    assert "unknown kind 'explode'" in _problems('[alerts]\nrules = "explode all"\n', tmp_path)


def test_crontab_weekdays_count_from_sunday() -> None:
    tz = ZoneInfo("Asia/Tashkent")
    monday = datetime(2026, 11, 23, 12, tzinfo=tz)
    weekdays = triggers.trigger("0 9 * * 1-5", tz).get_next_fire_time(None, monday)
    sunday = triggers.trigger("0 9 * * 0", tz).get_next_fire_time(None, monday)
    assert weekdays.strftime("%a %H:%M") == "Tue 09:00"
    assert sunday.strftime("%a %d") == "Sun 29"
    assert triggers.interval_s("every 15m") == 900
    assert triggers.first_due("every 1h", tz, monday) == datetime(2026, 11, 23, 13, tzinfo=tz)


def test_notify_urls_from_the_environment_are_kept_out_of_repr() -> None:
    cfg = platforms.load_config({"MARKETPLACED_NOTIFY_URLS": "tgram://123:secret/456"}, path=None)
    assert cfg.alerts.notify_urls == "tgram://123:secret/456"
    assert "secret" not in repr(cfg)


def test_rule_names_are_stable() -> None:
    specs = parse_rules("price_drop product:7 pct=10.0 rearm_h=2;new_low category:3 days=30")
    assert [s.name for s in specs] == [
        "config:price_drop product:7 pct=10 rearm_h=2",
        "config:new_low category:3 days=30",
    ]


async def test_uzex_monthly_rollups(pool: asyncpg.Pool) -> None:
    lots = [
        # lot, category, customer, provider, deal cost, deal date
        (1, "Oziq-ovqat", "200000001", "300000001", "100.00", "2026-10-03T10:00:00+05:00"),
        (2, "Oziq-ovqat", "200000001", "300000002", "300.00", "2026-10-20T10:00:00+05:00"),
        (3, "Qurilish", "200000002", "300000002", "50.00", "2026-10-31T23:30:00+05:00"),
        (4, "Qurilish", "200000002", "300000002", "70.00", "2026-11-01T00:30:00+05:00"),
    ]
    for lot_id, cat, cust, prov, cost, at in lots:
        await pool.execute(
            "INSERT INTO uzex_lots (lot_type, lot_id, status, deal_date, deal_cost, "
            "category_name, customer_inn, customer_name, provider_inn, provider_name) "
            "VALUES ('auction', $1, 'completed', $2, $3, $4, $5, 'C' || $5, $6, 'P' || $6)",
            lot_id,
            datetime.fromisoformat(at),
            Decimal(cost),
            cat,
            cust,
            prov,
        )
        for line, price in enumerate((Decimal(cost) / 10, Decimal(cost) / 5), start=1):
            await pool.execute(
                "INSERT INTO uzex_lot_items (lot_type, lot_id, line_no, name, quantity, "
                "unit_price, cost, priced_as) VALUES ('auction', $1, $2, $3, 1, $4, $4, "
                "'completed')",
                lot_id,
                line,
                " Un " if line == 1 else "Shakar",
                price,
            )
    settings = analytics.AnalyticsSettings.from_config(base_config().jobs)
    settings = dataclasses.replace(settings, top_parties=1)
    rows = await analytics.uzex_rollup(pool, settings, datetime(2026, 11, 26, tzinfo=UTC))
    assert rows > 0
    october = datetime(2026, 10, 1).date()
    cats = {
        r["category"]: (r["deals"], r["total_cost"])
        for r in await pool.fetch("SELECT * FROM uzex_category_monthly WHERE month = $1", october)
    }
    # lot 3 closed at 23:30 Tashkent on 31 October: October, although it is UTC 18:30 either way;
    # lot 4 at 00:30 on 1 November belongs to November
    assert cats == {"Oziq-ovqat": (2, Decimal("400.00")), "Qurilish": (1, Decimal("50.00"))}
    items = {
        (r["category"], r["item_name"]): (r["deals"], r["median_unit_price"])
        for r in await pool.fetch("SELECT * FROM uzex_item_monthly WHERE month = $1", october)
    }
    assert items[("Oziq-ovqat", "un")] == (2, Decimal(20))  # median of 10 and 30
    assert items[("Oziq-ovqat", "shakar")] == (2, Decimal(40))
    parties = await pool.fetch(
        "SELECT kind, inn, deals, total_cost, rank FROM uzex_party_monthly WHERE month = $1 "
        "ORDER BY kind",
        october,
    )
    assert [(p["kind"], p["inn"], p["deals"], p["rank"]) for p in parties] == [
        ("customer", "200000001", 2, 1),
        ("provider", "300000002", 2, 1),
    ]
