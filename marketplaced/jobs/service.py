"""The scheduled-jobs service the daemon owns (a start/stop pair).

`Jobs` builds the job list from the configuration (`build_specs`), runs it on an APScheduler
`AsyncIOScheduler` in the daemon's loop (scheduler.py), applies new schedules, rules and
notification URLs on SIGHUP (`reschedule`), runs a job on demand (`run_now`) and exposes the
job table and the latest health verdict to the dashboard. `JobContext` is what the job
functions need; the command-line runs (commands.py) build one of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from marketplaced import log, price_bands
from marketplaced.config import Config
from marketplaced.jobs import alerts, analytics, coverage, delivery, health, maintenance, triggers
from marketplaced.jobs.health import HealthInputs
from marketplaced.jobs.notify import AppriseNotifier, split_urls
from marketplaced.jobs.rules import parse_rules
from marketplaced.jobs.scheduler import JobScheduler, JobSpec, RunRecord
from marketplaced.live_state import LiveState
from marketplaced.sales import periods, rollup

_log = log.get(__name__)

#: coverage periods for a crontab-scheduled sampler (an interval one uses twice its interval)
_DEFAULT_COVERAGE_PERIOD = timedelta(minutes=10)


@dataclass(slots=True)
class JobContext:
    """What the job functions need; replaced as a whole on reload."""

    cfg: Config
    pool: asyncpg.Pool
    live: LiveState | None
    inputs: Callable[[], HealthInputs] | None
    notifier: AppriseNotifier
    clock: Callable[[], datetime]
    health: dict[str, Any]


def notifier_of(cfg: Config) -> AppriseNotifier:
    a = cfg.alerts
    return AppriseNotifier(
        split_urls(a.notify_urls),
        attempts=a.attempts,
        backoff_s=a.retry_backoff_s,
        timeout_s=a.send_timeout_s,
        circuit_failures=a.circuit_failures,
        circuit_cooldown_s=a.circuit_cooldown_s,
    )


def build_specs(ctx: JobContext) -> list[JobSpec]:
    """The job list a configuration asks for."""
    j, cfg = ctx.cfg.jobs, ctx.cfg
    tz = triggers.timezone(j.timezone)
    a_settings = analytics.AnalyticsSettings.from_config(j)
    s_settings = rollup.SalesSettings.from_config(j)
    al_settings = alerts.AlertSettings.from_config(cfg.alerts, tz)
    every = triggers.interval_s(j.coverage_schedule)
    period = timedelta(seconds=2 * every) if every else _DEFAULT_COVERAGE_PERIOD

    async def run_analytics() -> int:
        return await analytics.run(ctx.pool, a_settings, ctx.clock())

    async def run_sales() -> int:
        return await rollup.catch_up(ctx.pool, s_settings, ctx.clock())

    async def run_periods() -> int:
        # its own job: a long build delays neither today's rollup nor is cut by its budget
        edges = price_bands.edges(j.price_bands)
        return await periods.refresh(
            ctx.pool, tz, ctx.clock(), j.analytics_work_mem_mb, edges, j.periods_budget_s
        )

    async def run_coverage() -> int:
        return await coverage.record(ctx.pool, ctx.clock(), period)

    async def run_alerts() -> int:
        events = await alerts.evaluate(ctx.pool, al_settings, ctx.clock())
        return len(events) + await delivery.deliver(
            ctx.pool, ctx.notifier, al_settings, ctx.clock()
        )

    async def run_digest() -> int:
        return await delivery.send_digest(ctx.pool, ctx.notifier, al_settings, ctx.clock())

    async def run_health() -> int:
        now = ctx.clock()
        result = await health.run(ctx.pool, cfg, ctx.live, ctx.inputs, now)
        ctx.health = result
        change = await health.transition(ctx.pool, result)
        if change is not None and cfg.health.notify:
            await delivery.notify_health(ctx.pool, ctx.notifier, now, *change)
        return len(result["checks"])

    async def run_vacuum() -> int:
        return await maintenance.vacuum(ctx.pool, ctx.clock())

    async def run_retention() -> int:
        return await maintenance.retention(ctx.pool, cfg, ctx.clock())

    specs = [
        JobSpec("analytics", run_analytics, j.analytics_schedule, j.analytics_budget_s),
        JobSpec("sales", run_sales, j.sales_schedule, j.sales_budget_s),
        JobSpec("periods", run_periods, j.periods_schedule, j.periods_budget_s),
        JobSpec("coverage", run_coverage, j.coverage_schedule, j.coverage_budget_s),
        JobSpec("health", run_health, j.health_schedule, j.health_budget_s),
        JobSpec("vacuum", run_vacuum, j.vacuum_schedule, j.vacuum_budget_s),
        JobSpec("retention", run_retention, j.retention_schedule, j.retention_budget_s),
    ]
    if cfg.alerts.enabled:
        specs.append(JobSpec("alerts", run_alerts, j.alerts_schedule, j.alerts_budget_s))
        if cfg.alerts.digest:
            specs.append(
                JobSpec("alerts_digest", run_digest, cfg.alerts.digest_schedule, j.alerts_budget_s)
            )
    return specs


class Jobs:
    """The daemon's scheduled-jobs service."""

    def __init__(
        self,
        cfg: Config,
        pool: asyncpg.Pool,
        live: LiveState | None = None,
        health_inputs: Callable[[], HealthInputs] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._ctx = JobContext(
            cfg, pool, live, health_inputs, notifier_of(cfg), clock or utc_now, health={}
        )
        self._sched = JobScheduler(
            pool,
            build_specs(self._ctx),
            tz=triggers.timezone(cfg.jobs.timezone),
            misfire_grace_s=cfg.jobs.misfire_grace_s,
        )
        self._started = False

    async def start(self) -> None:
        """Sync the config's alert rules, load the last health verdict, start firing."""
        cfg = self._ctx.cfg
        await alerts.sync_config_rules(self._ctx.pool, parse_rules(cfg.alerts.rules))
        row = await self._ctx.pool.fetchrow(
            "SELECT checked_at, ok, checks FROM health_checks ORDER BY checked_at DESC LIMIT 1"
        )
        if row is not None:
            self._ctx.health = {
                "ok": row["ok"],
                "checked_at": row["checked_at"].isoformat(),
                "checks": _json(row["checks"]),
            }
        if cfg.jobs.enabled:
            await self._sched.start()
            self._started = True
        _log.info(
            "jobs_started", enabled=cfg.jobs.enabled, notify_channels=self._ctx.notifier.channels
        )

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop firing and cancel runs in flight (recorded as cancelled), waiting `grace_s`
        at most for them (the daemon passes its shutdown stage budget's share)."""
        await self._sched.stop(grace_s)
        self._started = False

    async def reschedule(self, cfg: Config) -> list[str]:
        """Apply a reloaded config: schedules, budgets, rules, URLs; returns changed job names."""
        old = self._ctx.cfg
        self._ctx.cfg = cfg
        if cfg.alerts.notify_urls != old.alerts.notify_urls or cfg.alerts != old.alerts:
            self._ctx.notifier = notifier_of(cfg)
        try:
            await alerts.sync_config_rules(self._ctx.pool, parse_rules(cfg.alerts.rules))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # a reload must not fail on a database hiccup; the next reload or start syncs
            _log.warning("alert_rules_not_synced", error=str(exc) or type(exc).__name__)
        return self._sched.update(
            build_specs(self._ctx),
            tz=triggers.timezone(cfg.jobs.timezone),
            misfire_grace_s=cfg.jobs.misfire_grace_s,
        )

    async def run_now(self, name: str) -> int:
        """Start `name` now in the background (UnknownJobError if no such job); its run id."""
        return await self._sched.run_now(name)

    async def run(self, name: str) -> RunRecord:
        """Run `name` now and wait for the outcome."""
        return await self._sched.run(name)

    async def wait_idle(self) -> None:
        await self._sched.wait_idle()

    def list_jobs(self) -> list[dict[str, Any]]:
        """name, schedule, budget_s, next_run, running, last_run{…} per job (JSON-ready)."""
        return [info.as_dict() for info in self._sched.jobs()]

    def last_health(self) -> dict[str, Any]:
        """The latest health verdict {"ok", "checked_at", "checks"}; {} before the first."""
        return dict(self._ctx.health)

    async def alert_history(self, limit: int = 50) -> list[dict[str, Any]]:
        return await alerts.recent(self._ctx.pool, limit)

    @property
    def scheduler(self) -> JobScheduler:
        return self._sched


def utc_now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
