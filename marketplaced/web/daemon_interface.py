"""What the dashboard asks of the daemon: live status (`StatusSource`) and actions (`Controls`).

The daemon owns scanners, writer, fetcher, supervisor and scheduler; the dashboard only reads
plain snapshots of them through `StatusSource` and asks for actions through `Controls`, so the
web app never reaches into the daemon's objects. The dataclasses below are the boundary; the
`*_status` helpers build them from the daemon's own objects. `StaticStatus` is a complete
implementation of both protocols backed by plain data, used by tests, benchmarks and tooling
that serve the dashboard without a running daemon.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from marketplaced.errors import MarketplacedError
from marketplaced.http import HostStats
from marketplaced.platforms.base import ScannerStats
from marketplaced.supervisor import ServiceState
from marketplaced.writer import LATENCY_BUCKETS, Writer


class ControlError(MarketplacedError):
    """An action the dashboard asked for cannot be done (unknown scanner or job …)."""


@dataclass(frozen=True, slots=True)
class ScannerStatus:
    name: str
    #: `ScannerStats.snapshot()`: state, cycle, position, frontier, found, missing, errors …
    snapshot: Mapping[str, Any]
    #: why the upstream blocks this scanner ("HTTP 500 Not Valid" …), None when it does not
    blocked_reason: str | None = None

    @property
    def state(self) -> str:
        return str(self.snapshot.get("state", "unknown"))

    @property
    def platform(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class WriterStatus:
    depth: int
    capacity: int
    batches: int
    items: int
    rows: int
    retries: int
    poison: int
    last_commit_at: float | None  # wall clock
    last_batch_ms: float
    #: cumulative flush-latency buckets (upper bound in seconds, count); last bound is +inf
    latency_buckets: tuple[tuple[float, int], ...]
    latency_sum_s: float
    db_down_since: float | None


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    running: bool
    restarts: int
    last_error: str | None
    started_at: float
    #: crashes inside the restart window; a crash loop at `supervisor.CRASH_LOOP_CRASHES`
    recent_crashes: int = 0
    crash_loop: bool = False
    #: wall clock until which a scanner that spent its restart budget sits out; None otherwise
    suspended_until: float | None = None


@dataclass(frozen=True, slots=True)
class JobStatus:
    name: str
    schedule: str  # human-readable trigger ("cron: 0 3 * * *", "every 15 min")
    next_run_at: float | None  # wall clock; None when paused or not scheduled
    running: bool = False


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name: str
    ok: bool
    detail: str
    checked_at: float  # wall clock


class StatusSource(Protocol):
    """Cheap, synchronous reads of in-memory state; called on every status page view."""

    def scanners(self) -> Sequence[ScannerStatus]: ...

    def writer(self) -> WriterStatus | None: ...

    def hosts(self) -> Mapping[str, HostStats]: ...

    def services(self) -> Sequence[ServiceStatus]: ...

    def jobs(self) -> Sequence[JobStatus]: ...

    def health(self) -> Sequence[HealthCheck]:
        """Latest results of the scheduled health check (empty until it has run)."""
        ...

    def redis_down_since(self) -> float | None: ...

    def started_at(self) -> float: ...


class Controls(Protocol):
    """State-changing actions; each raises `ControlError` with a message for the user."""

    async def pause_scanner(self, name: str) -> None: ...

    async def resume_scanner(self, name: str) -> None: ...

    async def retry_dead_letters(self, scope: str, ids: Sequence[int] | None) -> int:
        """Schedule dead-lettered ids of `scope` (all when `ids` is None) for a retry now;
        returns how many were scheduled."""
        ...

    async def run_job(self, name: str) -> None: ...


# -- builders from the daemon's objects ---------------------------------------------------------


def scanner_status(name: str, stats: ScannerStats) -> ScannerStatus:
    # the block is a figure of the scanner's stats (UZEX keeps it there, "" when not blocked),
    # so it is read where it lives rather than guessed from the scanner object
    reason = getattr(stats, "blocked_reason", None) or None
    return ScannerStatus(name, stats.snapshot(), reason)


def writer_status(writer: Writer) -> WriterStatus:
    st = writer.stats
    counts, total = [], 0
    for bound, n in zip((*LATENCY_BUCKETS, float("inf")), st.latency_buckets, strict=True):
        total += n
        counts.append((bound, total))
    return WriterStatus(
        depth=writer.depth,
        capacity=writer.capacity,
        batches=st.batches,
        items=st.items,
        rows=st.rows,
        retries=st.retries,
        poison=st.poison,
        last_commit_at=st.last_commit_at,
        last_batch_ms=st.last_batch_ms,
        latency_buckets=tuple(counts),
        latency_sum_s=st.latency_sum_s,
        db_down_since=st.db_down_since,
    )


def service_status(state: ServiceState) -> ServiceStatus:
    return ServiceStatus(
        state.name,
        state.running,
        state.restarts,
        state.last_error,
        state.started_at,
        state.recent_crashes(),
        state.crash_loop,
        state.suspended_until,
    )


# -- plain-data implementation ------------------------------------------------------------------


@dataclass
class StaticStatus:
    """`StatusSource` and `Controls` over plain data: actions change the data they act on and
    are recorded in `actions`, so a test can check both the page and what was asked."""

    scanner_list: list[ScannerStatus] = field(default_factory=list)
    writer_state: WriterStatus | None = None
    host_map: dict[str, HostStats] = field(default_factory=dict)
    service_list: list[ServiceStatus] = field(default_factory=list)
    job_list: list[JobStatus] = field(default_factory=list)
    health_list: list[HealthCheck] = field(default_factory=list)
    redis_down: float | None = None
    started: float = field(default_factory=time.time)
    actions: list[tuple[str, str]] = field(default_factory=list)

    def scanners(self) -> Sequence[ScannerStatus]:
        return list(self.scanner_list)

    def writer(self) -> WriterStatus | None:
        return self.writer_state

    def hosts(self) -> Mapping[str, HostStats]:
        return dict(self.host_map)

    def services(self) -> Sequence[ServiceStatus]:
        return list(self.service_list)

    def jobs(self) -> Sequence[JobStatus]:
        return list(self.job_list)

    def health(self) -> Sequence[HealthCheck]:
        return list(self.health_list)

    def redis_down_since(self) -> float | None:
        return self.redis_down

    def started_at(self) -> float:
        return self.started

    async def pause_scanner(self, name: str) -> None:
        self._set_state(name, "paused")
        self.actions.append(("pause", name))

    async def resume_scanner(self, name: str) -> None:
        self._set_state(name, "scanning")
        self.actions.append(("resume", name))

    async def retry_dead_letters(self, scope: str, ids: Sequence[int] | None) -> int:
        self.actions.append(
            ("retry", f"{scope}:{'all' if ids is None else ','.join(map(str, ids))}")
        )
        return 0 if ids is None else len(ids)

    async def run_job(self, name: str) -> None:
        if name not in {j.name for j in self.job_list}:
            raise ControlError(f"no job named {name!r}")
        self.actions.append(("run", name))

    def _set_state(self, name: str, state: str) -> None:
        for i, sc in enumerate(self.scanner_list):
            if sc.name == name:
                snap = {**sc.snapshot, "state": state}
                self.scanner_list[i] = replace(sc, snapshot=snap)
                return
        raise ControlError(f"no scanner named {name!r}")
