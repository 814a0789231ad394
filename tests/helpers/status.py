"""Stand-ins for the daemon's objects behind `LiveDaemon` (a scanner that does not scan, the view
of the daemon the status page reads) and a late-evening instant for the time-zone tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from marketplaced.http import Fetcher
from marketplaced.jobs.scheduler import JobScheduler
from marketplaced.live_state import LiveState
from marketplaced.platforms.base import PauseGate, ScannerStats
from marketplaced.supervisor import Supervisor
from marketplaced.writer import Writer

#: 22:30 UTC is 03:30 the next day in Tashkent: the case that put deals on the wrong day
LATE_UTC = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


@dataclass
class Idle:
    """A scanner object with the `Scanner` protocol that does not scan."""

    name: str
    cfg: Any = None
    stats: ScannerStats = field(default_factory=ScannerStats)

    def __post_init__(self) -> None:
        self.gate = PauseGate(self.stats)

    def pause(self) -> None:
        self.gate.pause()

    def unpause(self) -> None:
        self.gate.resume()

    async def run(self) -> None:
        return None


@dataclass
class View:
    pool: asyncpg.Pool | None
    writer: Writer | None
    supervisor: Supervisor
    fetcher: Fetcher | None = None
    live: LiveState | None = None
    started_at: float = 1.0
    scanners: Mapping[str, Any] = field(default_factory=dict)
    scheduler: JobScheduler | None = None
