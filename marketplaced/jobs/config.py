"""The configuration sections of the jobs layer: [jobs], [alerts], [health], [retention].

Declared with the loader's field helpers (`config_loader.option`) and composed into the root
`Config` by `marketplaced.config`, which imports this module, never the other way round. What
the sections check across fields — schedules that must parse as triggers, alert rules, Apprise
URLs — uses only the small parsing modules of this package (triggers, rules, apprise_urls), so
loading a configuration does not import the jobs service, the scheduler or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from marketplaced.config_loader import is_timezone, option
from marketplaced.jobs.apprise_urls import unparsable_urls
from marketplaced.jobs.rules import parse_rules
from marketplaced.jobs.triggers import trigger

#: a job schedule: a 5-field crontab ("0 3 * * *", day of week 0/7 = Sunday) or "every <n><s|m|h>"
_SCHEDULE = r"^(every \d+(\.\d+)?[smh]|\S+ \S+ \S+ \S+ \S+)$"
_SCHEDULE_HELP = "; 5-field cron or 'every <n>s|m|h'"


@dataclass(frozen=True, slots=True)
class JobsConfig:
    """The in-process scheduler: when each periodic job runs and how long it may take."""

    enabled: bool = option(True, "run the scheduled jobs (analytics, alerts, maintenance, health)")
    timezone: str = option(
        "Asia/Tashkent", "time zone of cron schedules and of analytics days", timezone=True
    )
    # 6 h: a daily job missed by a restart or a long outage still runs once, late, not twice
    misfire_grace_s: float = option(
        21600.0, "a slot missed by less than this still runs once", lo=1, hi=7 * 86400
    )
    analytics_schedule: str = option(
        "0 3 * * *", "daily analytics" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    # 1 h: the full day at 1.5 M products takes minutes; an hour means something is wrong
    analytics_budget_s: float = option(3600.0, "analytics run time budget", lo=1, hi=86400)
    analytics_backfill_days: int = option(
        3, "also compute up to this many earlier days that have no analytics yet", lo=0, hi=366
    )
    analytics_work_mem_mb: int = option(
        256, "work_mem of the analytics transaction (sorts/hashes in memory)", lo=4, hi=65536
    )
    # 2 h: cycle pauses and runs of missing ids leave short quiet stretches that are not gaps
    gap_minutes: int = option(
        120, "an unobserved stretch longer than this marks the days it touches", lo=5, hi=1440
    )
    price_bands: str = option(
        "50000,100000,250000,500000,1000000,5000000",
        "so'm boundaries of the category price bands (analytics and the category overview)",
        pattern=r"^\d+(,\d+)*$",
    )
    sales_schedule: str = option(
        "every 1m", "today's sales rollup (new batches only)" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    sales_budget_s: float = option(300.0, "sales rollup run time budget", lo=1, hi=86400)
    periods_schedule: str = option(
        "every 1m",
        "yesterday's, the 7- and 30-day sales sums, built when a day ends" + _SCHEDULE_HELP,
        pattern=_SCHEDULE,
    )
    # 1 h: a 30-day build at 1.5 M products sums tens of millions of day rows for minutes
    periods_budget_s: float = option(3600.0, "sales periods build run time budget", lo=1, hi=86400)
    # 8 h: a full Uzum cycle at the default 100 requests/s visits every product about this often
    sales_revisit_min: int = option(
        480,
        "longest a product goes unvisited while the scan runs (where a sale can have happened)",
        lo=1,
        hi=10080,
    )
    # 48 h: a delta is spread over at most two days before the observation that shows it
    sales_max_span_h: int = option(
        48, "a sale is never placed further back than this before it was seen", lo=1, hi=720
    )
    uzex_top_parties: int = option(
        100, "customers/providers kept per UZEX month ranking", lo=1, hi=100000
    )
    coverage_schedule: str = option(
        "every 5m", "scan-coverage sampling (gap detection)" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    coverage_budget_s: float = option(60.0, "coverage run time budget", lo=1, hi=86400)
    alerts_schedule: str = option(
        "every 15m", "alert evaluation and delivery" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    alerts_budget_s: float = option(600.0, "alerts run time budget", lo=1, hi=86400)
    health_schedule: str = option("every 1h", "health check" + _SCHEDULE_HELP, pattern=_SCHEDULE)
    health_budget_s: float = option(120.0, "health check run time budget", lo=1, hi=86400)
    vacuum_schedule: str = option(
        "0 4 * * *", "vacuum/analyze of the busy tables" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    vacuum_budget_s: float = option(7200.0, "vacuum run time budget", lo=1, hi=86400)
    retention_schedule: str = option(
        "30 4 * * *",
        "partitions ahead, retention, archive pruning" + _SCHEDULE_HELP,
        pattern=_SCHEDULE,
    )
    retention_budget_s: float = option(1800.0, "retention run time budget", lo=1, hi=86400)

    def problems(self) -> list[str]:
        return schedule_problems("jobs", self)


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """Price/stock alert rules, their hygiene, and delivery through Apprise."""

    enabled: bool = option(True, "evaluate alert rules (config and database) on new data")
    #: Apprise URLs (tgram://…, mailto://…, json://…), comma or space separated; they often hold
    #: tokens, so env MARKETPLACED_NOTIFY_URLS may carry them instead (it wins over the file)
    notify_urls: str = option(
        "",
        "Apprise URLs, comma separated (env MARKETPLACED_NOTIFY_URLS wins)",
        env="MARKETPLACED_NOTIFY_URLS",
        repr=False,
    )
    rules: str = option(
        "",
        "rules, ';' separated: KIND SCOPE[:ID] [pct=N] [price=N] [days=N] [cap=N] [rearm_h=N]",
    )
    # 24 h: once per change; a price that flaps around a threshold tells the user once a day
    rearm_h: float = option(
        24.0, "hours before a fired rule may fire again for the same item", lo=0, hi=8760
    )
    daily_cap: int = option(
        20, "alerts per rule per day at most (more are stored as capped)", lo=1, hi=100000
    )
    digest: bool = option(False, "collect alerts and send one digest per digest_schedule")
    digest_schedule: str = option(
        "0 9 * * *", "when the digest is sent" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    # alerts follow the commit order now, so nothing needs to settle; the key is still
    # accepted so that existing configuration files stay valid
    settle_s: float = option(
        60.0,
        "no longer used (alerts follow the commit order); accepted for old files",
        lo=0,
        hi=3600,
    )
    new_low_days: int = option(30, "default window of new_low rules", lo=1, hi=3650)
    fake_discount_pct: float = option(
        15.0, "default list-price raise that makes a discount suspect", lo=1, hi=1000
    )
    fake_discount_days: int = option(14, "default look-back of fake_discount rules", lo=1, hi=365)
    attempts: int = option(3, "delivery attempts per channel within one run", lo=1, hi=20)
    retry_backoff_s: float = option(
        2.0, "first pause between delivery attempts (doubles)", lo=0, hi=600
    )
    send_timeout_s: float = option(30.0, "time limit of one delivery attempt", lo=1, hi=600)
    redeliver_h: float = option(
        24.0, "failed deliveries are retried by later runs for this long", lo=0, hi=720
    )
    # 3 in a row: one failure is often a blip, three in a row a channel that is down; while
    # it is skipped its events wait (within redeliver_h) and the other channels go on
    circuit_failures: int = option(
        3, "failed deliveries in a row that make a channel skipped for a while", lo=1, hi=1000
    )
    # 15 min: about one alerts run, so a recovered channel is back within two runs
    circuit_cooldown_s: float = option(
        900.0, "how long a channel with too many failures is skipped", lo=0, hi=86400
    )

    def problems(self) -> list[str]:
        return schedule_problems("alerts", self) + _notify_url_problems(self.notify_urls)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """What the hourly health check demands; a failing check is recorded and notified."""

    # 1000/h: a 1.5 M catalogue rescanned daily touches ~60 000 products an hour
    min_products_per_hour: int = option(
        1000, "fewer products updated in the last hour is unhealthy (0: off)", lo=0, hi=10**9
    )
    # no longer read: a second limit made the health check and /healthz disagree about the
    # same scanner; the key stays valid so existing files keep loading
    heartbeat_max_age_s: float = option(
        600.0,
        "ignored: a scanner is stalled after its platform's max_stale_s ([uzum], [uzex])",
        lo=1,
        hi=86400,
    )
    writer_stuck_s: float = option(
        300.0, "a writer with queued items and no commit for this long is stuck", lo=1, hi=86400
    )
    disk_min_free_pct: float = option(
        5.0, "less free space on the storage directory's disk is unhealthy", lo=0, hi=100
    )
    notify: bool = option(True, "send a notification when health turns bad and when it recovers")


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long history, analytics and the job ledgers are kept (monthly partitions dropped)."""

    history_months: int = option(24, "price/stats history kept, in months", lo=1, hi=1200)
    analytics_months: int = option(36, "daily analytics kept, in months", lo=1, hi=1200)
    partitions_ahead_months: int = option(
        3, "monthly partitions created ahead of time", lo=1, hi=24
    )
    ledger_days: int = option(
        90, "job runs, health checks and coverage samples kept, in days", lo=1, hi=3650
    )
    alert_history_days: int = option(
        365, "alert events and deliveries kept, in days", lo=1, hi=3650
    )


def schedule_problems(section: str, obj: Any) -> list[str]:
    """Messages for every schedule or rule in a config section that does not parse (its time
    zone is checked with the field; an unknown one falls back to UTC here)."""
    problems: list[str] = []
    zone = getattr(obj, "timezone", "UTC")
    tz = ZoneInfo(zone if is_timezone(zone) else "UTC")
    for name in type(obj).__dataclass_fields__:
        if name.endswith("_schedule"):
            try:
                trigger(getattr(obj, name), tz)
            except ValueError as exc:
                problems.append(f"'{section}.{name}' = {getattr(obj, name)!r}: {exc}")
    if hasattr(obj, "rules"):
        try:
            parse_rules(obj.rules)
        except ValueError as exc:
            problems.append(f"'{section}.rules': {exc}")
    return problems


def _notify_url_problems(urls: str) -> list[str]:
    """Apprise URLs that Apprise cannot parse (checked offline: nothing is sent)."""
    return [
        f"'alerts.notify_urls' or MARKETPLACED_NOTIFY_URLS ({shown}) is not a URL "
        "Apprise can use (e.g. tgram://BOT_TOKEN/CHAT_ID, mailto://user:pass@example.com, "
        "json://host/path)"
        for shown in unparsable_urls(urls)
    ]
