"""The health check: is the daemon doing its job, not merely running?

Checks: PostgreSQL answers, Redis answers, no scanner went without progress past its
platform's `max_stale_s` while it should be working (`ScannerStats.stale_s`), the writer is not
stuck (items queued, no commit for a while), the storage disk has room, and enough products
were updated in the last hour (a parser that silently produces nothing keeps every other check
green; this one catches it). Live figures come from the daemon through `HealthInputs`; without
them (the CLI) scanner heartbeats are read from Redis. Each result is a row of `health_checks`
and the latest is kept for the dashboard and `/healthz`; a transition to failing (or a change of
what fails) and the recovery are notified.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

import asyncpg

from marketplaced import log, platforms
from marketplaced.config import Config
from marketplaced.jobs.state import load_state, save_state
from marketplaced.live_state import LiveState
from marketplaced.platforms.uzum.config import UzumConfig

_log = log.get(__name__)

#: a database or Redis that takes longer than this to answer SELECT 1 / PING is not healthy
_PROBE_TIMEOUT_S = 5.0
_RECORD = "INSERT INTO health_checks (checked_at, ok, checks) VALUES ($1, $2, $3::jsonb)"
_UPDATED = "SELECT count(*) FROM uzum_visits WHERE last_seen > $1::timestamptz - interval '1 hour'"


class HealthInputs(TypedDict, total=False):
    """What the daemon knows live; every key optional."""

    #: scanner name → `ScannerStats.stale_s()`: seconds without progress while it should be
    #: working (0 while it waits on purpose)
    scanners: dict[str, float]
    #: items queued for the writer or in the batch being written
    writer_depth: int
    #: time.time() of the writer's last commit, None before the first
    writer_last_commit_at: float | None


Check = dict[str, Any]


def _check(ok: bool, detail: str, **values: Any) -> Check:
    return {"ok": ok, "detail": detail, **values}


async def run(
    pool: asyncpg.Pool,
    cfg: Config,
    live: LiveState | None,
    inputs: Callable[[], HealthInputs] | None,
    now: datetime,
    *,
    record: bool = True,
) -> dict[str, Any]:
    """Run every check, record the result (unless told not to: a dry run), return it
    ({"ok", "checked_at", "checks"})."""
    h = cfg.health
    given = inputs() if inputs is not None else None
    checks: dict[str, Check] = {"postgres": await _postgres(pool)}
    checks["redis"] = await _redis(live)
    checks["scanners"] = await _scanners(given, live, cfg)
    checks["writer"] = _writer(given, h.writer_stuck_s)
    checks["disk"] = _disk(cfg, h.disk_min_free_pct)
    if cfg.section(UzumConfig).enabled and h.min_products_per_hour > 0 and checks["postgres"]["ok"]:
        n = await pool.fetchval(_UPDATED, now)
        checks["products_updated"] = _check(
            n >= h.min_products_per_hour,
            f"{n} products updated in the last hour (floor {h.min_products_per_hour})",
            value=n,
        )
    result = {
        "ok": all(c["ok"] for c in checks.values()),
        "checked_at": now.isoformat(),
        "checks": checks,
    }
    if record and checks["postgres"]["ok"]:
        await pool.execute(_RECORD, now, result["ok"], json.dumps(checks, default=str))
    failing = sorted(name for name, c in checks.items() if not c["ok"])
    emit = _log.info if result["ok"] else _log.warning
    emit("health_checked", ok=result["ok"], failing=failing)
    return result


async def transition(
    pool: asyncpg.Pool, result: dict[str, Any], *, save: bool = True
) -> tuple[str, str] | None:
    """(title, body) when health turned bad, changed what fails, or recovered; else None.
    `save=False` only looks: the transition stays for the daemon to notify."""
    failing = sorted(name for name, c in result["checks"].items() if not c["ok"])
    before = await load_state(pool, "health")
    if save:
        await save_state(pool, "health", {"failing": failing})
    was = before.get("failing", [])
    if failing == was:
        return None
    if not failing:
        return "marketplaced: healthy again", "Every health check passes."
    lines = [f"{name}: {result['checks'][name]['detail']}" for name in failing]
    return f"marketplaced: {', '.join(failing)} failing", "\n".join(lines)


async def _postgres(pool: asyncpg.Pool) -> Check:
    started = time.monotonic()
    try:
        await asyncio.wait_for(pool.fetchval("SELECT 1"), _PROBE_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return _check(False, f"unreachable: {exc or type(exc).__name__}")
    ms = round((time.monotonic() - started) * 1000, 1)
    return _check(True, f"answered in {ms} ms", ms=ms)


async def _redis(live: LiveState | None) -> Check:
    if live is None:
        return _check(True, "not used")
    try:
        up = await asyncio.wait_for(live.ping(), _PROBE_TIMEOUT_S)
    except TimeoutError:
        up = False
    return _check(up, "answered" if up else "unreachable")


async def _scanners(given: HealthInputs | None, live: LiveState | None, cfg: Config) -> Check:
    if given is not None and "scanners" in given:
        ages = dict(given["scanners"])
    elif live is not None:
        # without the daemon's figures: the staleness it published, plus the age of that
        # heartbeat (a daemon that stopped publishing is stale by the time it has been silent)
        now = time.time()
        ages = {
            name: float(st.get("stale_s", 0)) + max(0.0, now - float(st.get("heartbeat", now)))
            for name, st in (await live.read_all("scanner")).items()
        }
    else:
        ages = {}
    if not ages:
        return _check(True, "no scanner is running")
    # each scanner by its own platform's limit, the one the supervisor restarts by and
    # /healthz reports by: the three never disagree about the same scanner
    limits = {n: platforms.max_stale_s(cfg, n) for n in ages}
    stale = {n: round(a) for n, a in ages.items() if a > limits[n]}
    if stale:
        over = ", ".join(f"{n} for {a} s (limit {limits[n]:g} s)" for n, a in stale.items())
        return _check(False, f"no progress: {over}", stale=stale)
    return _check(True, f"{len(ages)} scanner(s) making progress")


def _writer(given: HealthInputs | None, stuck_s: float) -> Check:
    if given is None or "writer_depth" not in given:
        return _check(True, "not observed here")
    depth = given["writer_depth"]
    last = given.get("writer_last_commit_at")
    age = None if last is None else time.time() - last
    if depth > 0 and age is not None and age > stuck_s:
        return _check(False, f"{depth} items queued, no commit for {age:.0f} s", depth=depth)
    return _check(True, f"{depth} items queued", depth=depth)


def _disk(cfg: Config, min_free_pct: float) -> Check:
    path = cfg.storage_dir.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent  # not created yet: the disk it will be on
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        return _check(False, f"{path}: {exc}")
    free_pct = round(100 * usage.free / usage.total, 1)
    ok = free_pct >= min_free_pct
    return _check(ok, f"{free_pct} % free on {path} (floor {min_free_pct:g} %)", free_pct=free_pct)
