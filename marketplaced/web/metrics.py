"""`/healthz` (the Prometheus endpoint `/metrics` is prometheus.py).

`/healthz` answers 200 when the daemon can do its work and 503 with the reasons when not:
PostgreSQL unreachable, the writer waiting for the database, a scanning scanner without
progress, a failed scheduled health check. Redis being down or an upstream blocking us are
warnings (the daemon keeps scanning; nothing here can fix the upstream).
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
from aiohttp import web

from marketplaced import platforms
from marketplaced.web.queries import jobs
from marketplaced.web.views.common import CONFIG, POOL, STATUS

#: /healthz must answer fast even when PostgreSQL hangs: a probe gets 2 s
DB_PROBE_TIMEOUT_S = 2.0
#: the health-check job runs hourly; a result older than two runs is stale and ignored
RECORDED_HEALTH_MAX_AGE_S = 2 * 3600.0


async def healthz(request: web.Request) -> web.Response:
    reasons, warnings = await check(request.app)
    body = {"status": "fail" if reasons else "ok", "reasons": reasons, "warnings": warnings}
    return web.json_response(body, status=503 if reasons else 200)


async def check(app: web.Application) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    warnings: list[str] = []
    try:
        async with asyncio.timeout(DB_PROBE_TIMEOUT_S):
            await app[POOL].fetchval("SELECT 1")
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reasons.append(f"postgresql: {exc or type(exc).__name__}")
    source = app[STATUS]
    writer = source.writer()
    if writer is not None and writer.db_down_since is not None:
        reasons.append("writer: waiting for PostgreSQL, batches are held back")
    for sc in source.scanners():
        stale = float(sc.snapshot.get("stale_s", 0.0))
        max_stale = platforms.max_stale_s(app[CONFIG], sc.name)
        if sc.state == "blocked" or sc.blocked_reason:
            warnings.append(f"{sc.name}: blocked by upstream ({sc.blocked_reason or 'blocked'})")
        elif stale > max_stale:  # 0 while it waits on purpose (`ScannerStats.stale_s`)
            reasons.append(f"{sc.name}: no progress for {stale:.0f} s")
    for svc in source.services():
        if svc.crash_loop:
            reasons.append(
                f"{svc.name}: crash loop ({svc.recent_crashes} crashes, restarting; "
                f"last error: {svc.last_error or 'unknown'})"
            )
    for hc in source.health():
        if not hc.ok:
            reasons.append(f"health check {hc.name}: {hc.detail}")
    try:
        recorded = await jobs.latest_health(app[POOL])
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        recorded = []  # already reported as a PostgreSQL problem above
    for rc in recorded:
        # a result older than two hourly runs says nothing about now
        fresh = time.time() - rc.checked_at.timestamp() < RECORDED_HEALTH_MAX_AGE_S
        if fresh and not rc.ok:
            reasons.append(f"health check {rc.name}: {rc.detail}")
    if source.redis_down_since() is not None:
        warnings.append("redis: unreachable, live status is not published")
    return reasons, warnings
