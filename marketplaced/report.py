"""`marketplaced status`: what the daemon of the configured database is doing, seen from outside.

Live figures come from Redis, under the key prefix of the daemon that writes to this database
(`live_state.live_prefix`): its heartbeat, scanners, writer and job schedule. Durable ones come
from PostgreSQL: cursors, dead letters, the last run of every job, and in adaptive mode the
revisit schedule per class with its backlog. Whether the daemon runs is
judged by the age of its heartbeat, never by whether its keys still exist: they outlive a
killed daemon by their TTL. The exit status follows the LSB convention `systemctl status` uses
as well, so scripts and monitoring can act on it: 0 running, 3 not running (never started, or
its heartbeat stopped), 4 unknown (Redis does not answer, nobody can tell).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import asyncpg

from marketplaced import db
from marketplaced.config import Config
from marketplaced.errors import DatabaseError
from marketplaced.live_state import LiveState, heartbeat_limit_s, live_prefix
from marketplaced.platforms.uzum import schedule_figures
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.schedule_figures import ScheduleFigures
from marketplaced.redis_client import connect_redis

EXIT_RUNNING, EXIT_NOT_RUNNING, EXIT_UNKNOWN = 0, 3, 4

_CURSORS = (
    "SELECT scanner, cycle, position, frontier, highest_seen, updated_at "
    "FROM scan_cursors ORDER BY scanner"
)
_DEAD_LETTERS = "SELECT scope, count(*) AS n FROM dead_letters GROUP BY scope ORDER BY scope"
_LAST_RUNS = (
    "SELECT DISTINCT ON (job) job, started_at, finished_at, outcome, error "
    "FROM job_runs ORDER BY job, started_at DESC"
)


@dataclass
class Report:
    """Everything `status` shows; `now` and `limit_s` make every age and verdict reproducible."""

    now: float
    limit_s: float
    daemon_key: str
    redis_up: bool = True
    daemon: dict[str, Any] | None = None
    scanners: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cursors: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: dict[str, int] = field(default_factory=dict)
    last_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    database_error: str | None = None
    schedule: ScheduleFigures | None = None  # the revisit schedule, adaptive mode only

    def age_s(self, fields: dict[str, Any] | None) -> float | None:
        """Seconds since these figures were published; None when there are none."""
        if not fields or fields.get("heartbeat") is None:
            return None
        return max(0.0, self.now - float(fields["heartbeat"]))

    @property
    def state(self) -> str:
        if not self.redis_up:
            return "unknown"
        age = self.age_s(self.daemon)
        if age is None:
            return "not running"
        return "running" if age <= self.limit_s else "down"

    @property
    def exit_code(self) -> int:
        return {"running": EXIT_RUNNING, "unknown": EXIT_UNKNOWN}.get(self.state, EXIT_NOT_RUNNING)


async def gather(cfg: Config, *, clock: Callable[[], float] = time.time) -> Report:
    report = Report(now=clock(), limit_s=heartbeat_limit_s(cfg), daemon_key=live_prefix(cfg))
    client = await connect_redis(cfg, wait_s=0)
    try:
        live = LiveState.of(client, cfg)
        report.services = await live.read_all("service")
        report.scanners = await live.read_all("scanner")
        report.jobs = await live.read_all("job")
        report.daemon = report.services.pop("daemon", None)
        report.redis_up = live.down_since is None
    finally:
        await client.aclose()
    await _read_database(cfg, report)
    return report


async def _read_database(cfg: Config, report: Report) -> None:
    try:
        conn = await db.connect(cfg.database)
    except DatabaseError as exc:
        report.database_error = str(exc)
        return
    try:
        report.cursors = [dict(r) for r in await conn.fetch(_CURSORS)]
        report.dead_letters = {r["scope"]: r["n"] for r in await conn.fetch(_DEAD_LETTERS)}
        report.last_runs = {r["job"]: dict(r) for r in await conn.fetch(_LAST_RUNS)}
        if cfg.section(UzumConfig).mode == "adaptive":
            now = datetime.fromtimestamp(report.now, UTC)
            report.schedule = await schedule_figures.read(conn, now)
    except asyncpg.UndefinedTableError:
        report.database_error = "schema not created yet; run `marketplaced migrate`"
    finally:
        await conn.close()


def as_json(report: Report) -> dict[str, Any]:
    def aged(fields: dict[str, Any]) -> dict[str, Any]:
        return {**fields, "heartbeat_age_s": _round(report.age_s(fields))}

    out: dict[str, Any] = {
        "daemon": {"state": report.state, **aged(report.daemon or {}), "key": report.daemon_key},
        "redis_up": report.redis_up,
        "scanners": {n: aged(f) for n, f in report.scanners.items()},
        "services": {n: aged(f) for n, f in report.services.items()},
        "jobs": {
            n: {**report.jobs.get(n, {}), "last_run": report.last_runs.get(n)}
            for n in sorted({*report.jobs, *report.last_runs})
        },
        "cursors": report.cursors,
        "dead_letters": report.dead_letters,
    }
    if report.schedule is not None:
        out["schedule"] = {
            "classes": {c.name: dataclasses.asdict(c) for c in report.schedule.classes},
            "due": report.schedule.due,
            "oldest_overdue_s": report.schedule.oldest_overdue_s,
            "new_products_last_hour": report.schedule.new_products_last_hour,
        }
    if report.database_error is not None:
        out["database_error"] = report.database_error
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def lines(report: Report, tz: tzinfo) -> list[str]:
    """The human-readable report, one line per fact."""
    out = [_daemon_line(report)]
    for name, loop in ((report.daemon or {}).get("crash_loops") or {}).items():
        out.append(
            f"CRASH LOOP {name}: {loop.get('crashes')} crashes, restarting; "
            f"last error: {loop.get('last_error')}"
        )
    restart_needed = (report.daemon or {}).get("restart_needed")
    if restart_needed:
        out.append(f"restart needed to apply: {', '.join(restart_needed)} (changed by a reload)")
    live = report.state == "running"
    for name, st in report.scanners.items():
        errors = ", ".join(f"{k} {v}" for k, v in st.get("errors", {}).items()) or "none"
        seen = _ago(report.age_s(st))
        state = st.get("state") if live else f"last reported {st.get('state')} {seen}"
        out.append(
            f"{name}: {state}  cycle {st.get('cycle')}  position {st.get('position')}"
            f"/{st.get('frontier')}  rate {st.get('rate')}/s  hit rate {st.get('hit_rate')}  "
            f"found {st.get('found')}  missing {st.get('missing')}  errors: {errors}  "
            f"stale {st.get('stale_s')} s  (heartbeat {seen})"
        )
    writer = report.services.get("writer")
    if writer:
        out.append(
            f"writer: queue {writer.get('depth')}/{writer.get('capacity')}  batches "
            f"{writer.get('batches')}  last batch {writer.get('last_batch_ms')} ms"
            f"  (heartbeat {_ago(report.age_s(writer))})"
        )
    archive = report.services.get("archive")
    if archive:
        line = (
            f"archive: {archive.get('files_written')} files written  "
            f"failed writes {archive.get('failed_writes')}"
        )
        if archive.get("failed_writes"):
            line += (
                f" ({archive.get('lost_responses')} responses not kept; last: "
                f"{archive.get('last_error')})"
            )
        out.append(line)
    out += _job_lines(report, tz, live)
    for cur in report.cursors:
        out.append(
            f"cursor {cur['scanner']}: cycle {cur['cycle']} committed up to {cur['position']} "
            f"(frontier {cur['frontier']}, highest seen {cur['highest_seen']}, "
            f"{_when(cur['updated_at'], tz)})"
        )
    out += _schedule_lines(report.schedule)
    for scope, n in report.dead_letters.items():
        out.append(f"dead letters {scope}: {n}")
    if report.database_error is not None:
        out.append(f"PostgreSQL: {report.database_error}")
    return out


def _schedule_lines(f: ScheduleFigures | None) -> list[str]:
    if f is None:
        return []
    out = [
        f"revisit schedule: {schedule_figures.backlog_line(f)}; "
        f"new products in the last hour: {f.new_products_last_hour}"
    ]
    for c in f.classes:
        overdue = schedule_figures.duration(c.oldest_overdue_s) if c.due else "—"
        out.append(
            f"schedule {c.name}: {c.ids} ids  visits last hour {c.visits_last_hour}  "
            f"interval {schedule_figures.duration(c.interval_s)}  due {c.due}  "
            f"oldest overdue {overdue}"
        )
    return out


def _daemon_line(report: Report) -> str:
    d = report.daemon or {}
    state = report.state
    if state == "unknown":
        return "daemon: unknown — Redis is unreachable, so its heartbeat cannot be read"
    if state == "not running":
        return f"daemon: not running (no heartbeat under {report.daemon_key} in Redis)"
    age = _ago(report.age_s(d))
    if state == "down":
        return (
            f"daemon: DOWN — last heartbeat {age} (pid {d.get('pid')}; expected every "
            f"{report.limit_s / 3:g} s); the figures below are from then"
        )
    up = _duration(report.now - float(d.get("started_at", report.now)))
    return f"daemon: running (pid {d.get('pid')}, up {up}, heartbeat {age})"


def _job_lines(report: Report, tz: tzinfo, live: bool) -> list[str]:
    names = sorted({*report.jobs, *report.last_runs})
    if not names:
        return ["jobs: none scheduled or run yet"]
    out = []
    for name in names:
        sched = report.jobs.get(name, {})
        if not live:
            nxt = "next: unknown while the daemon is not running"
        elif sched.get("running"):
            nxt = "running now"
        elif sched.get("next_run_at") is not None:
            nxt = f"next {_when(datetime.fromtimestamp(sched['next_run_at'], tz), tz)}"
        else:
            nxt = "not scheduled"
        run = report.last_runs.get(name)
        last = "never run"
        if run is not None:
            last = f"{_when(run['started_at'], tz)} {run['outcome']}"
            last += f" ({run['error']})" if run.get("error") else ""
        schedule = sched.get("schedule", "—")
        out.append(f"job {name}: {schedule}  {nxt}  last {last}")
    return out


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return "—" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _ago(seconds: float | None) -> str:
    return "never" if seconds is None else f"{_duration(seconds)} ago"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
