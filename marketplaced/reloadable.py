"""Which settings SIGHUP applies to the running daemon, and which wait for a restart.

Every key of the core and job sections is in exactly one of `LIVE` and `RESTART` (a test walks
the config dataclasses and fails on a key in neither, so a new key cannot be forgotten). A
platform's section says it itself: its `RESTART_KEYS`, every other key of it live (a running
scanner is handed its new section on reload). On reload
the daemon runs with `effective(running, new)`: the new file's live keys and the running
values of the restart-only ones. Nothing is half-applied (a scanner enabled by the reload gets
the same archive and writer settings as the ones already running), and the keys that differ
from the running process are reported as "restart needed" (log, systemd STATUS=, live state)
until the daemon restarts or the file goes back to the running value.
"""

from __future__ import annotations

from marketplaced.config import Config, diff


def _keys(section: str, names: str) -> set[str]:
    return {f"{section}.{name}" for name in names.split()}


#: settings the reload applies at once: fetcher policies, scanner settings and which scanners
#: run, the log level, stage budgets and the status interval (read when used), and everything
#: of the job service (it rebuilds its schedules, budgets, rules and notifier from the new
#: config); daemon.startup_wait_s only matters at the next start-up anyway
LIVE: frozenset[str] = frozenset(
    _keys("daemon", "startup_wait_s stop_intake_s stop_jobs_s drain_s close_s status_interval_s")
    | _keys("log", "level")
    | _keys(
        "jobs",
        "timezone misfire_grace_s analytics_schedule analytics_budget_s "
        "analytics_backfill_days analytics_work_mem_mb gap_minutes price_bands "
        "uzex_top_parties coverage_schedule coverage_budget_s alerts_schedule "
        "alerts_budget_s health_schedule health_budget_s vacuum_schedule vacuum_budget_s "
        "retention_schedule retention_budget_s sales_schedule sales_budget_s sales_revisit_min "
        "sales_max_span_h periods_schedule periods_budget_s",
    )
    | _keys(
        "alerts",
        "enabled notify_urls rules rearm_h daily_cap digest digest_schedule settle_s "
        "new_low_days fake_discount_pct fake_discount_days attempts retry_backoff_s "
        "send_timeout_s redeliver_h circuit_failures circuit_cooldown_s",
    )
    | _keys(
        "health",
        "min_products_per_hour heartbeat_max_age_s writer_stuck_s disk_min_free_pct notify",
    )
    | _keys(
        "retention",
        "history_months analytics_months partitions_ahead_months ledger_days alert_history_days",
    )
)

#: settings of things built once at start-up: pools and connections, the listener, the writer's
#: queue, the archive, the log renderer, the supervisor's budget, the fetcher's default headers,
#: the stall limits the supervisor was given, whether the job service exists at all, and the
#: garbage collector's policy (applied once, after start-up)
RESTART: frozenset[str] = frozenset(
    _keys("daemon", "restart_budget restart_window_s gc_threshold gc_freeze")
    | _keys("log", "format")
    | _keys("database", "host port name user password pool_min pool_max command_timeout_s")
    | _keys("redis", "host port db key_prefix")
    | _keys("writer", "queue_max queue_max_mb batch_max flush_interval_s retry_max_s")
    | _keys("archive", "enabled dir max_mb batch_records batch_max_mb")
    | _keys("web", "enabled host port summary_refresh_s trusted_proxies timezone token")
    | _keys("jobs", "enabled")
)


def is_live(key: str, cfg: Config) -> bool:
    """Whether SIGHUP applies `key` (section.key) of `cfg`'s layout. Unclassified core keys
    count as restart-only: never claim to have applied what was not."""
    sect, name = key.split(".", 1)
    platform = cfg.platforms.get(sect)
    if platform is not None:
        return name not in type(platform).RESTART_KEYS
    return key in LIVE


def restart_needed(running: Config, new: Config) -> list[str]:
    """The restart-only keys whose value in `new` differs from the running process's, sorted."""
    return sorted(key for key in diff(running, new) if not is_live(key, running))


def effective(running: Config, new: Config) -> Config:
    """`new` with every restart-only key kept at its running value."""
    keep: dict[str, dict[str, object]] = {}
    for key in restart_needed(running, new):
        sect, name = key.split(".", 1)
        keep.setdefault(sect, {})[name] = getattr(running.sections()[sect], name)
    for sect, values in keep.items():
        new = new.with_values(sect, **values)
    return new
