"""`/healthz` and `/metrics`.

`/healthz` answers 200 when the daemon can do its work and 503 with the reasons when not:
PostgreSQL unreachable, the writer waiting for the database, a scanning scanner without
progress, a failed scheduled health check. Redis being down or an upstream blocking us are
warnings (the daemon keeps scanning; nothing here can fix the upstream).

`/metrics` is Prometheus' text format, written by hand (a few dozen lines do not earn the
`prometheus_client` dependency): scanner rates and outcomes, writer queue and flush-latency
histogram, per-host HTTP counters and latency histograms, job runs, dead letters and the
dashboard's own request latency.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import asyncpg
from aiohttp import web

from marketplaced import platforms
from marketplaced.web.queries import jobs, ops
from marketplaced.web.views.common import CONFIG, POOL, REQUEST_BUCKETS, STATUS, state

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
        elif sc.state == "scanning" and stale > max_stale:
            reasons.append(f"{sc.name}: no progress for {stale:.0f} s")
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


# -- Prometheus text ------------------------------------------------------------------------------


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items()) + "}"


def _num(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if isinstance(value, float) else str(value)


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self._declared: set[str] = set()

    def metric(
        self, name: str, kind: str, help_: str, samples: Iterable[tuple[Mapping[str, str], float]]
    ) -> None:
        if name not in self._declared:
            self._declared.add(name)
            self.lines.append(f"# HELP {name} {help_}")
            self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(labels)} {_num(value)}")

    def histogram(
        self,
        name: str,
        help_: str,
        labels: Mapping[str, str],
        cumulative: Sequence[tuple[float, int]],
        total_s: float,
    ) -> None:
        if name not in self._declared:
            self._declared.add(name)
            self.lines.append(f"# HELP {name} {help_}")
            self.lines.append(f"# TYPE {name} histogram")
        for bound, count in cumulative:
            le = "+Inf" if math.isinf(bound) else repr(float(bound))
            self.lines.append(f"{name}_bucket{_labels({**labels, 'le': le})} {count}")
        count = cumulative[-1][1] if cumulative else 0
        self.lines.append(f"{name}_sum{_labels(labels)} {_num(total_s)}")
        self.lines.append(f"{name}_count{_labels(labels)} {count}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _scanner_metrics(out: Exposition, scanners: Sequence[Any]) -> None:
    for sc in scanners:
        snap, lab = sc.snapshot, {"scanner": sc.name}
        out.metric(
            "marketplaced_scanner_rate",
            "gauge",
            "ids finished per second (smoothed)",
            [(lab, float(snap.get("rate", 0.0)))],
        )
        outcomes = {
            "found": snap.get("found", 0),
            "missing": snap.get("missing", 0),
            "parse_failure": snap.get("parse_failures", 0),
            **{f"error_{k}": v for k, v in (snap.get("errors") or {}).items()},
        }
        out.metric(
            "marketplaced_scanner_outcomes_total",
            "counter",
            "ids by outcome",
            [({**lab, "outcome": k}, float(v)) for k, v in outcomes.items()],
        )
        for key in ("position", "frontier", "cycle", "hit_rate", "stale_s"):
            out.metric(
                f"marketplaced_scanner_{key}",
                "gauge",
                f"scanner {key}",
                [(lab, float(snap.get(key, 0) or 0))],
            )
        out.metric(
            "marketplaced_scanner_blocked",
            "gauge",
            "1 when the upstream blocks it",
            [(lab, 1.0 if sc.state == "blocked" or sc.blocked_reason else 0.0)],
        )


def _writer_metrics(out: Exposition, writer: Any) -> None:
    if writer is None:
        return
    out.metric("marketplaced_writer_queue_depth", "gauge", "items waiting", [({}, writer.depth)])
    out.metric(
        "marketplaced_writer_queue_capacity", "gauge", "queue bound", [({}, writer.capacity)]
    )
    for key in ("batches", "items", "rows", "retries", "poison"):
        out.metric(
            f"marketplaced_writer_{key}_total",
            "counter",
            f"writer {key}",
            [({}, getattr(writer, key))],
        )
    out.histogram(
        "marketplaced_writer_flush_seconds",
        "batch commit latency",
        {},
        writer.latency_buckets,
        writer.latency_sum_s,
    )
    out.metric(
        "marketplaced_writer_db_down",
        "gauge",
        "1 while PostgreSQL is unreachable",
        [({}, 1.0 if writer.db_down_since is not None else 0.0)],
    )


def _host_metrics(out: Exposition, hosts: Mapping[str, Any]) -> None:
    for key, h in sorted(hosts.items()):
        lab = {"host": key}
        out.metric(
            "marketplaced_http_requests_total",
            "counter",
            "upstream attempts by outcome",
            [({**lab, "outcome": o}, n) for o, n in sorted(h.outcomes.items())],
        )
        out.metric("marketplaced_http_retries_total", "counter", "retries", [(lab, h.retries)])
        out.histogram(
            "marketplaced_http_request_duration_seconds",
            "upstream latency",
            lab,
            h.latency_buckets,
            h.latency_sum_s,
        )
        out.metric(
            "marketplaced_http_rate", "gauge", "current allowed requests/s", [(lab, h.rate_current)]
        )
        out.metric(
            "marketplaced_http_in_flight", "gauge", "requests in flight", [(lab, h.in_flight)]
        )
        out.metric(
            "marketplaced_http_circuit_open",
            "gauge",
            "1 while the breaker is open",
            [(lab, 0.0 if h.breaker_state == "closed" else 1.0)],
        )


async def metrics(request: web.Request) -> web.Response:
    app = request.app
    source = app[STATUS]
    out = Exposition()
    _scanner_metrics(out, source.scanners())
    _writer_metrics(out, source.writer())
    _host_metrics(out, source.hosts())
    for svc in source.services():
        out.metric(
            "marketplaced_service_restarts_total",
            "counter",
            "supervised restarts",
            [({"service": svc.name}, svc.restarts)],
        )
    db = app[POOL]
    runs = await ops.job_run_counts(db)
    out.metric(
        "marketplaced_job_runs_total",
        "counter",
        "job runs by outcome",
        [({"job": r["job"], "outcome": r["outcome"]}, r["n"]) for r in runs],
    )
    out.metric(
        "marketplaced_job_last_finished_timestamp_seconds",
        "gauge",
        "when a run of this outcome last finished",
        [
            ({"job": r["job"], "outcome": r["outcome"]}, r["last"].timestamp())
            for r in runs
            if r["last"] is not None
        ],
    )
    dead = await ops.dead_letter_counts(db)
    out.metric(
        "marketplaced_dead_letters",
        "gauge",
        "ids waiting for a retry",
        [({"scope": r["scope"], "kind": r["kind"]}, r["n"]) for r in dead],
    )
    for route, lat in sorted(state(request).latency.items()):
        cumulative, total = [], 0
        for bound, n in zip((*REQUEST_BUCKETS, math.inf), lat.buckets, strict=True):
            total += n
            cumulative.append((bound, total))
        out.histogram(
            "marketplaced_web_request_duration_seconds",
            "dashboard request latency",
            {"route": route},
            cumulative,
            lat.total_s,
        )
    return web.Response(
        body=out.text().encode(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
