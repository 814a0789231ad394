"""`StatusSource` and `Controls` over the running daemon: what `create_app` gets in production.

It reads the daemon's live objects through the small `DaemonView` protocol (the daemon's own
attributes), so the web package never imports the daemon and the daemon needs only
`LiveDaemon(self)` to hand it over. Pausing and resuming call the scanner's own methods
(every scanner has them); "retry dead letters" marks the chosen ids as requested, so the
scanner's next dead-letter pass (after its current cycle) fetches them again; "run now" asks
the job scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import asyncpg

from marketplaced.http import Fetcher, HostStats
from marketplaced.jobs.scheduler import JobScheduler, UnknownJobError
from marketplaced.live_state import LiveState
from marketplaced.platforms.base import Scanner
from marketplaced.supervisor import Supervisor
from marketplaced.web.daemon_interface import (
    ControlError,
    HealthCheck,
    JobStatus,
    ScannerStatus,
    ServiceStatus,
    WriterStatus,
    scanner_status,
    service_status,
    writer_status,
)
from marketplaced.writer import Writer

# a request of its own, not a made-up failure time: the ids are due at the scanner's next pass
# and last_failed_at keeps saying when they really failed
_MAKE_DUE = """
UPDATE dead_letters SET retry_requested_at = now()
WHERE scope = $1 AND ($2::bigint[] IS NULL OR entity_id = ANY($2::bigint[]))"""


class DaemonView(Protocol):
    """The daemon attributes the dashboard reads (the `Daemon` class has them)."""

    pool: asyncpg.Pool | None
    writer: Writer | None
    fetcher: Fetcher | None
    live: LiveState | None
    supervisor: Supervisor
    started_at: float

    @property
    def scanners(self) -> Mapping[str, Scanner]: ...

    @property
    def scheduler(self) -> JobScheduler | None: ...


class LiveDaemon:
    """Both protocols over a running daemon."""

    def __init__(self, daemon: DaemonView) -> None:
        self._d = daemon

    def scanners(self) -> Sequence[ScannerStatus]:
        return [scanner_status(name, sc.stats) for name, sc in self._d.scanners.items()]

    def writer(self) -> WriterStatus | None:
        return writer_status(self._d.writer) if self._d.writer is not None else None

    def hosts(self) -> Mapping[str, HostStats]:
        return self._d.fetcher.stats() if self._d.fetcher is not None else {}

    def services(self) -> Sequence[ServiceStatus]:
        return [service_status(s) for s in self._d.supervisor.services.values()]

    def jobs(self) -> Sequence[JobStatus]:
        scheduler = self._d.scheduler
        if scheduler is None:
            return []
        return [
            JobStatus(
                j.name,
                j.schedule,
                j.next_run.timestamp() if j.next_run is not None else None,
                j.running,
            )
            for j in scheduler.jobs()
        ]

    def health(self) -> Sequence[HealthCheck]:
        return []  # the health-check job's results are read from health_checks by the web app

    def redis_down_since(self) -> float | None:
        return self._d.live.down_since if self._d.live is not None else None

    def started_at(self) -> float:
        return self._d.started_at

    async def pause_scanner(self, name: str) -> None:
        self._scanner(name).pause()

    async def resume_scanner(self, name: str) -> None:
        self._scanner(name).unpause()

    async def retry_dead_letters(self, scope: str, ids: Sequence[int] | None) -> int:
        if self._d.pool is None:
            raise ControlError("the database is not connected yet")
        status = await self._d.pool.execute(_MAKE_DUE, scope, None if ids is None else list(ids))
        return int(status.split()[-1])  # "UPDATE n"

    async def run_job(self, name: str) -> None:
        scheduler = self._d.scheduler
        if scheduler is None:
            raise ControlError("the job scheduler is not running")
        try:
            await scheduler.run_now(name)
        except UnknownJobError:
            raise ControlError(f"no job named {name!r}") from None

    def _scanner(self, name: str) -> Scanner:
        # every scanner pauses (the `Scanner` protocol has pause/unpause): no button is offered
        # that then answers "cannot be paused"
        scanner = self._d.scanners.get(name)
        if scanner is None:
            raise ControlError(f"no scanner named {name!r}")
        return scanner
