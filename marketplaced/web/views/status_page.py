"""The status page (the Flower replacement), its actions and its lists (/status/…).

Scanners with state, cursor, frontier, rates and outcome mix, a rate chart over the last hour,
the revisit schedule per class with its backlog (adaptive mode), the writer's queue, upstream
hosts, supervised services, jobs with "run now", health, dead
letters with "retry", disk and database sizes. Actions are POST forms with a CSRF token; each
answers with a redirect back (POST/redirect/GET) and a flash message in the query string. The
dead letters and job runs it links to are lists of their own with CSV twins.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from marketplaced import log
from marketplaced.db import UNAVAILABLE_ERRORS
from marketplaced.platforms.uzum import schedule_figures
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.web import param_spec as ps
from marketplaced.web.charts import Series, line_chart
from marketplaced.web.daemon_interface import ControlError, StatusSource
from marketplaced.web.figures_cache import FIGURES, FIGURES_TTL_S, Aged
from marketplaced.web.listing import ListQuery, Page, fetch_page
from marketplaced.web.params import Params
from marketplaced.web.queries import db_sizes, failures, jobs
from marketplaced.web.views.common import (
    CONFIG,
    CONTROLS,
    STATUS,
    WebState,
    db_failure,
    is_export,
    list_response,
    params,
    pool,
    render,
    state,
)

_log = log.get(__name__)
#: the status page's PostgreSQL reads give up after this long: it is opened when things go
#: wrong and must answer with what the process knows instead of hanging on a dead server
DB_READ_TIMEOUT_S = 5.0
#: the rate chart covers the last hour
RATE_WINDOW_S = 3600.0
#: a dead-letter retry form sends at most this many ids (the rest: "retry all")
MAX_RETRY_IDS = 1000

#: the flash message an action redirects with (POST/redirect/GET)
STATUS_PARAMS = (
    ps.text("msg", "what the last action did", max_len=300),
    ps.text("error", "why the last action failed", max_len=300),
)
DEAD_LETTER_PARAMS = (ps.text("scope", "scope", max_len=100), ps.LIMIT, ps.CURSOR)
JOB_RUN_PARAMS = (ps.text("job", "job name", max_len=100), ps.LIMIT, ps.CURSOR)


def outcome_mix(snapshot: dict[str, Any]) -> dict[str, int]:
    errors = snapshot.get("errors") or {}
    mix = {
        "found": int(snapshot.get("found", 0)),
        "missing": int(snapshot.get("missing", 0)),
        "429": int(errors.get("rate_limited", 0)),
        "5xx": int(errors.get("http_5xx", 0)),
        "parse failures": int(snapshot.get("parse_failures", 0)),
    }
    mix["other errors"] = sum(int(v) for v in errors.values()) - mix["429"] - mix["5xx"]
    return mix


def rate_chart(web_state: WebState) -> Any:
    now = time.time()
    samples = [s for s in web_state.rates if s[0] >= now - RATE_WINDOW_S]
    names = sorted({name for _, rates in samples for name in rates})
    series = [
        Series(name, [(ts, rates.get(name)) for ts, rates in samples], step=False) for name in names
    ]
    # right after start-up the chart spans what was sampled (a minute at least), not an
    # hour of mostly nothing
    start = max(now - RATE_WINDOW_S, min((s[0] for s in samples), default=now) - 1)
    return line_chart(
        series,
        title="Scanner rate, ids/s (last hour)",
        tz=web_state.zone,
        start=min(start, now - 60),
        end=now,
        zero_based=True,
    )


async def status_page(request: web.Request) -> web.Response:
    p = params(request, STATUS_PARAMS)
    source = request.app[STATUS]
    cfg = request.app[CONFIG]
    disk = await asyncio.to_thread(_disk_usage, str(cfg.storage_dir))
    stored, db_error = await _stored_figures(request)
    scanners = [
        {"s": s, "mix": outcome_mix(dict(s.snapshot)), "snap": s.snapshot}
        for s in source.scanners()
    ]
    ctx = {
        "title": "Status",
        "msg": p.text("msg"),
        "error": p.text("error"),
        "db_error": db_error,
        "scanners": scanners,
        "rate_chart": rate_chart(state(request)),
        "writer": source.writer(),
        "hosts": sorted(source.hosts().values(), key=lambda h: h.host),
        "services": source.services(),
        "jobs": source.jobs(),
        "redis_down_since": source.redis_down_since(),
        "started_at": source.started_at(),
        "disk": disk,
        "schedule_duration": schedule_figures.duration,
        **stored,
        "health": [*source.health(), *stored["health"]],
    }
    return await render(request, "status.html", ctx)


async def _stored_figures(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """What the status page reads from PostgreSQL, or empty figures and the reason when it
    cannot: the page is opened exactly when something is wrong, so it still shows what the
    process itself knows (scanners, writer, hosts, services, jobs) under a banner."""
    db = pool(request)
    try:
        async with asyncio.timeout(DB_READ_TIMEOUT_S):
            db_size, tables = await db_sizes.sizes(db)
            return {
                "db_size": db_size,
                "tables": tables,
                "last_runs": await jobs.last_job_runs(db),
                "health": await jobs.latest_health(db),
                "dead_counts": await failures.dead_letter_counts(db),
                "dead": await _first_page(request, failures.dead_letters(None, None, 20)),
                "parse_failures": await failures.parse_failure_counts(db),
                "schedule": await _schedule(request),
                "figures_ttl_s": FIGURES_TTL_S,
            }, None
    except UNAVAILABLE_ERRORS as exc:
        reason = (
            f"no answer within {DB_READ_TIMEOUT_S:g} s"
            if isinstance(exc, TimeoutError)
            else db_failure(exc)
        )
        _log.warning("status_database_unreachable", path=request.path, error=reason)
        empty: dict[str, Any] = {
            "db_size": None,
            "tables": [],
            "last_runs": {},
            "health": [],
            "dead_counts": [],
            "dead": Page([]),
            "parse_failures": [],
            "schedule": None,
            "figures_ttl_s": FIGURES_TTL_S,
        }
        return empty, reason


async def _schedule(request: web.Request) -> Aged[schedule_figures.ScheduleFigures] | None:
    """The revisit schedule per class, only in adaptive mode (round-robin has no schedule), as
    read at most FIGURES_TTL_S ago (shared with /metrics: the read scans the whole schedule)."""
    if request.app[CONFIG].section(UzumConfig).mode != "adaptive":
        return None
    return await request.app[FIGURES].get()


async def _first_page(request: web.Request, q: ListQuery) -> Page:
    return await fetch_page(pool(request), q)


def _disk_usage(path: str) -> dict[str, Any] | None:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return {"total": usage.total, "used": usage.used, "free": usage.free, "path": path}


def _back(message: str, *, error: bool = False) -> web.HTTPSeeOther:
    return web.HTTPSeeOther("/status?" + urlencode({"error" if error else "msg": message}))


async def scanner_action(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    action = request.match_info["action"]
    controls = request.app[CONTROLS]
    try:
        if action == "pause":
            await controls.pause_scanner(name)
        else:
            await controls.resume_scanner(name)
    except ControlError as exc:
        raise _back(str(exc), error=True) from None
    raise _back(f"scanner {name}: {action} requested")


async def retry_dead_letters(request: web.Request) -> web.Response:
    form = await request.post()
    scope = form.get("scope")
    if not isinstance(scope, str) or not scope or len(scope) > 100:
        raise _back("choose a dead-letter scope to retry", error=True)
    ids_raw = form.getall("id", [])
    ids: list[int] | None = None
    if ids_raw:
        if len(ids_raw) > MAX_RETRY_IDS or not all(
            isinstance(i, str) and i.isdigit() and len(i) < 19 for i in ids_raw
        ):
            raise _back("bad dead-letter ids", error=True)
        ids = [int(str(i)) for i in ids_raw]
    try:
        n = await request.app[CONTROLS].retry_dead_letters(scope, ids)
    except ControlError as exc:
        raise _back(str(exc), error=True) from None
    raise _back(f"{n} dead letter(s) of {scope} scheduled for a retry")


async def run_job(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    try:
        await request.app[CONTROLS].run_job(name)
    except ControlError as exc:
        raise _back(str(exc), error=True) from None
    raise _back(f"job {name} started")


def dead_letters_query(p: Params, *, csv: bool = False) -> ListQuery:
    return failures.dead_letters(p.text("scope"), p.cursor((datetime, str, int)), p.limit(csv=csv))


async def dead_letters_page(request: web.Request) -> web.StreamResponse:
    p = params(request, DEAD_LETTER_PARAMS)
    q = dead_letters_query(p, csv=is_export(request))
    ctx = {"title": "Dead letters", "form": dict(request.rel_url.query)}
    return await list_response(request, q, "dead_letters.html", ctx, "dead-letters.csv")


def job_runs_query(p: Params, *, csv: bool = False) -> ListQuery:
    return jobs.job_runs(p.text("job"), p.cursor((int,)), p.limit(csv=csv))


async def job_runs_page(request: web.Request) -> web.StreamResponse:
    p = params(request, JOB_RUN_PARAMS)
    q = job_runs_query(p, csv=is_export(request))
    ctx = {"title": "Job runs", "form": dict(request.rel_url.query)}
    return await list_response(request, q, "job_runs.html", ctx, "job-runs.csv")


def sample_rates(web_state: WebState, source: StatusSource) -> None:
    web_state.rates.append(
        (time.time(), {s.name: float(s.snapshot.get("rate", 0.0)) for s in source.scanners()})
    )
