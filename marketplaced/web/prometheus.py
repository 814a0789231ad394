"""`/metrics`: the daemon's figures in Prometheus' exposition format, by `prometheus_client`.

Each app owns a `CollectorRegistry` (never the library's global one: two apps in one process —
tests, tooling — never mix their figures). Custom collectors turn the same status snapshots the
dashboard reads into metric families, each family written once with every scanner's or host's
sample in it, so every parser sees one family per name with its type. The dashboard's own
requests are counted by route pattern (never the raw path: ids in URLs would make the label set
unbounded) and status; `process_*` comes from the library's `ProcessCollector` and
`marketplaced_build_info` names the running version. Figures kept in PostgreSQL (job runs, dead
letters) are read per scrape just before rendering; while the database does not answer they are
left out and `marketplaced_database_up` is 0, so a scrape never fails because the database does.
In adaptive mode the revisit schedule's figures per class come from the same read
(`marketplaced_schedule_*`).
"""

from __future__ import annotations

import asyncio
import math
import platform
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import hdrs, web
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from marketplaced import __version__, log
from marketplaced.http import HostStats
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.schedule_figures import ScheduleFigures
from marketplaced.web.daemon_interface import (
    ScannerStatus,
    ServiceStatus,
    StatusSource,
    WriterStatus,
)
from marketplaced.web.figures_cache import FIGURES, Aged, Cached
from marketplaced.web.queries import failures, jobs
from marketplaced.web.views.common import CONFIG, POOL

_log = log.get(__name__)

#: upper bounds (seconds) of the dashboard's request-latency histogram
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: a scrape must answer even when PostgreSQL hangs: its figures get 2 s, then are left out
DB_READ_TIMEOUT_S = 2.0
#: the revisit schedule's figures get this long on their own (Prometheus waits 10 s by default)
SCHEDULE_READ_TIMEOUT_S = 6.0
_UNREADABLE = (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
#: the label of requests no route matched (404, 405): one value, whatever the path was
UNMATCHED = "unmatched"
#: nginx's "client closed request": the handler was cancelled, no status was ever sent
CLIENT_CLOSED = 499

_SCANNER_GAUGES = (
    ("position", "last id (or page) handed out in the current cycle"),
    ("frontier", "where the current cycle ends"),
    ("cycle", "current cycle number"),
    ("hit_rate", "share of looked-up ids that held a product"),
)


class StatusCollector(Collector):
    """Scanners, writer, upstream hosts and supervised services, from `StatusSource`."""

    def __init__(self, source: StatusSource) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        yield from _scanner_families(self._source.scanners())
        yield from _writer_families(self._source.writer())
        yield from _host_families(self._source.hosts())
        yield from _service_families(self._source.services())


def _scanner_families(scanners: Sequence[ScannerStatus]) -> Iterator[Metric]:
    lab = ["scanner"]
    rate = GaugeMetricFamily(
        "marketplaced_scanner_rate", "ids finished per second (smoothed)", labels=lab
    )
    outcomes = CounterMetricFamily(
        "marketplaced_scanner_outcomes", "ids by outcome", labels=[*lab, "outcome"]
    )
    gauges = [
        (key, GaugeMetricFamily(f"marketplaced_scanner_{key}", text, labels=lab))
        for key, text in _SCANNER_GAUGES
    ]
    stale = GaugeMetricFamily(
        "marketplaced_scanner_stale_seconds",
        "seconds without progress while it should be working (0 while it waits on purpose)",
        labels=lab,
    )
    blocked = GaugeMetricFamily(
        "marketplaced_scanner_blocked", "1 when the upstream blocks it", labels=lab
    )
    for sc in scanners:
        snap, name = sc.snapshot, [sc.name]
        rate.add_metric(name, float(snap.get("rate", 0.0)))
        for outcome, n in _outcomes(snap).items():
            outcomes.add_metric([sc.name, outcome], float(n))
        for key, family in gauges:
            family.add_metric(name, float(snap.get(key, 0) or 0))
        stale.add_metric(name, float(snap.get("stale_s", 0) or 0))
        blocked.add_metric(name, 1.0 if sc.state == "blocked" or sc.blocked_reason else 0.0)
    yield rate
    yield outcomes
    for _, family in gauges:
        yield family
    yield stale
    yield blocked


def _outcomes(snap: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "found": snap.get("found", 0),
        "missing": snap.get("missing", 0),
        "parse_failure": snap.get("parse_failures", 0),
        **{f"error_{k}": v for k, v in (snap.get("errors") or {}).items()},
    }


def _writer_families(writer: WriterStatus | None) -> Iterator[Metric]:
    if writer is None:
        return
    yield GaugeMetricFamily("marketplaced_writer_queue_depth", "items waiting", writer.depth)
    yield GaugeMetricFamily("marketplaced_writer_queue_capacity", "queue bound", writer.capacity)
    for key in ("batches", "items", "rows", "retries", "poison"):
        yield CounterMetricFamily(
            f"marketplaced_writer_{key}", f"writer {key}", getattr(writer, key)
        )
    flush = HistogramMetricFamily("marketplaced_writer_flush_seconds", "batch commit latency")
    flush.add_metric([], _buckets(writer.latency_buckets), writer.latency_sum_s)
    yield flush
    down = 1.0 if writer.db_down_since is not None else 0.0
    yield GaugeMetricFamily(
        "marketplaced_writer_db_down", "1 while PostgreSQL is unreachable", down
    )


def _buckets(cumulative: Sequence[tuple[float, int]]) -> list[tuple[str, float]]:
    return [("+Inf" if math.isinf(b) else repr(float(b)), float(n)) for b, n in cumulative]


def _host_families(hosts: Mapping[str, HostStats]) -> Iterator[Metric]:
    lab = ["host"]
    requests = CounterMetricFamily(
        "marketplaced_http_requests", "upstream attempts by outcome", labels=[*lab, "outcome"]
    )
    retries = CounterMetricFamily("marketplaced_http_retries", "retries", labels=lab)
    latency = HistogramMetricFamily(
        "marketplaced_http_request_duration_seconds", "upstream latency", labels=lab
    )
    rate = GaugeMetricFamily("marketplaced_http_rate", "current allowed requests/s", labels=lab)
    in_flight = GaugeMetricFamily("marketplaced_http_in_flight", "requests in flight", labels=lab)
    circuit = GaugeMetricFamily(
        "marketplaced_http_circuit_open", "1 while the breaker is open", labels=lab
    )
    for key, h in sorted(hosts.items()):
        for outcome, n in sorted(h.outcomes.items()):
            requests.add_metric([key, outcome], float(n))
        retries.add_metric([key], float(h.retries))
        latency.add_metric([key], _buckets(h.latency_buckets), h.latency_sum_s)
        rate.add_metric([key], h.rate_current)
        in_flight.add_metric([key], float(h.in_flight))
        circuit.add_metric([key], 0.0 if h.breaker_state == "closed" else 1.0)
    yield from (requests, retries, latency, rate, in_flight, circuit)


def _service_families(services: Sequence[ServiceStatus]) -> Iterator[Metric]:
    restarts = CounterMetricFamily(
        "marketplaced_service_restarts", "supervised restarts", labels=["service"]
    )
    loop = GaugeMetricFamily(
        "marketplaced_service_crash_loop",
        "1 while the service keeps crashing and being restarted",
        labels=["service"],
    )
    for svc in services:
        restarts.add_metric([svc.name], float(svc.restarts))
        loop.add_metric([svc.name], 1.0 if svc.crash_loop else 0.0)
    yield restarts
    yield loop


@dataclass(frozen=True, slots=True)
class DatabaseFigures:
    """What one scrape read from PostgreSQL; `up` False when it did not answer in time."""

    up: bool
    job_runs: Sequence[Mapping[str, Any]] = ()
    dead_letters: Sequence[Mapping[str, Any]] = ()
    schedule: Aged[ScheduleFigures] | None = None  # adaptive mode only


async def read_database(
    pool: asyncpg.Pool, figures: Cached[ScheduleFigures] | None = None
) -> DatabaseFigures:
    """Job runs and dead letters, and with `figures` (adaptive mode) the schedule's."""
    try:
        async with asyncio.timeout(DB_READ_TIMEOUT_S):
            runs = await jobs.job_run_counts(pool)
            dead = await failures.dead_letter_counts(pool)
    except _UNREADABLE as exc:
        _log.warning("metrics_database_unreadable", error=str(exc) or type(exc).__name__)
        return DatabaseFigures(up=False)
    sched = await _read_schedule(figures) if figures is not None else None
    return DatabaseFigures(True, [dict(r) for r in runs], [dict(r) for r in dead], sched)


async def _read_schedule(figures: Cached[ScheduleFigures]) -> Aged[ScheduleFigures] | None:
    """The schedule's figures as read at most FIGURES_TTL_S ago (shared with the status page),
    or None (families left out) when a read takes too long: it scans the whole schedule
    (1.5–2.5 s per million ids on a busy machine), and a large schedule must not take the job
    and dead-letter figures down with it."""
    try:
        async with asyncio.timeout(SCHEDULE_READ_TIMEOUT_S):
            return await figures.get()
    except _UNREADABLE as exc:
        _log.warning("metrics_schedule_unreadable", error=str(exc) or type(exc).__name__)
        return None


class DatabaseCollector(Collector):
    """Job runs and dead letters as last read by `read_database` (set just before rendering,
    with no await in between, so concurrent scrapes never see each other's figures)."""

    def __init__(self) -> None:
        self.figures = DatabaseFigures(up=False)

    def collect(self) -> Iterable[Metric]:
        f = self.figures
        yield GaugeMetricFamily(
            "marketplaced_database_up", "1 when PostgreSQL answered this scrape", float(f.up)
        )
        if not f.up:
            return
        runs = CounterMetricFamily(
            "marketplaced_job_runs", "job runs by outcome", labels=["job", "outcome"]
        )
        last = GaugeMetricFamily(
            "marketplaced_job_last_finished_timestamp_seconds",
            "when a run of this outcome last finished",
            labels=["job", "outcome"],
        )
        for r in f.job_runs:
            runs.add_metric([r["job"], r["outcome"]], float(r["n"]))
            if r["last"] is not None:
                last.add_metric([r["job"], r["outcome"]], r["last"].timestamp())
        dead = GaugeMetricFamily(
            "marketplaced_dead_letters", "ids waiting for a retry", labels=["scope", "kind"]
        )
        for r in f.dead_letters:
            dead.add_metric([r["scope"], r["kind"]], float(r["n"]))
        yield from (runs, last, dead)
        if f.schedule is not None:
            yield from _schedule_families(f.schedule.value)
            yield GaugeMetricFamily(
                "marketplaced_schedule_figures_age_seconds",
                "how long ago the schedule figures above were read (they are shared for a while)",
                f.schedule.age_s,
            )


def _schedule_families(f: ScheduleFigures) -> Iterator[Metric]:
    lab = ["class"]
    ids = GaugeMetricFamily("marketplaced_schedule_ids", "ids in the revisit schedule", labels=lab)
    visits = GaugeMetricFamily(
        "marketplaced_schedule_visits_last_hour", "ids visited in the last hour", labels=lab
    )
    interval = GaugeMetricFamily(
        "marketplaced_schedule_interval_seconds",
        "median achieved revisit interval (planned, or longer while overdue)",
        labels=lab,
    )
    due = GaugeMetricFamily("marketplaced_schedule_due", "ids due now", labels=lab)
    overdue = GaugeMetricFamily(
        "marketplaced_schedule_oldest_overdue_seconds",
        "how long the most overdue id has waited past its due time (0: none overdue)",
        labels=lab,
    )
    for c in f.classes:
        ids.add_metric([c.name], float(c.ids))
        visits.add_metric([c.name], float(c.visits_last_hour))
        if c.interval_s is not None:
            interval.add_metric([c.name], c.interval_s)
        due.add_metric([c.name], float(c.due))
        overdue.add_metric([c.name], c.oldest_overdue_s)
    yield from (ids, visits, interval, due, overdue)
    yield GaugeMetricFamily(
        "marketplaced_schedule_new_products_last_hour",
        "products first seen in the last hour",
        float(f.new_products_last_hour),
    )


class BuildInfoCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "marketplaced_build_info",
            "the running version (always 1)",
            labels=["version", "python"],
        )
        info.add_metric([__version__, platform.python_version()], 1.0)
        yield info


@dataclass
class WebMetrics:
    """One app's registry and the library metrics its middleware updates."""

    registry: CollectorRegistry
    database: DatabaseCollector
    requests: Counter
    latency: Histogram
    _methods: frozenset[str] = field(default=frozenset(hdrs.METH_ALL))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        # any token is a valid HTTP method: unknown ones share one label value
        method = method if method in self._methods else "OTHER"
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)


def create_metrics(source: StatusSource) -> WebMetrics:
    registry = CollectorRegistry()
    database = DatabaseCollector()
    for collector in (StatusCollector(source), database, BuildInfoCollector()):
        registry.register(collector)
    ProcessCollector(registry=registry)
    requests = Counter(
        "marketplaced_web_requests",
        "dashboard requests by route pattern, method and status",
        ["route", "method", "status"],
        registry=registry,
    )
    latency = Histogram(
        "marketplaced_web_request_duration_seconds",
        "dashboard request latency",
        ["route"],
        buckets=REQUEST_BUCKETS,
        registry=registry,
    )
    return WebMetrics(registry, database, requests, latency)


METRICS: web.AppKey[WebMetrics] = web.AppKey("metrics")


def route_name(request: web.Request) -> str:
    """The matched route's pattern (`/products/{id}`), or `unmatched`."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


async def metrics(request: web.Request) -> web.Response:
    m = request.app[METRICS]
    adaptive = request.app[CONFIG].section(UzumConfig).mode == "adaptive"
    figures = await read_database(request.app[POOL], request.app[FIGURES] if adaptive else None)
    m.database.figures = figures  # rendered at once below, no await in between
    encoder, content_type = choose_encoder(request.headers.get(hdrs.ACCEPT, ""))
    resp = web.Response(body=encoder(m.registry))
    resp.headers[hdrs.CONTENT_TYPE] = content_type
    return resp
