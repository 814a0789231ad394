"""`DaemonStatus`: the daemon-side StatusSource/Controls over real writer, supervisor and pool."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from marketplaced.checkpoint import LiveState
from marketplaced.config import WriterConfig
from marketplaced.http import Fetcher
from marketplaced.jobs.scheduler import JobScheduler
from marketplaced.platforms.base import ScannerStats
from marketplaced.supervisor import ServiceState, Supervisor
from marketplaced.web.daemon_status import DaemonStatus
from marketplaced.web.status import ControlError
from marketplaced.writer import Writer


@dataclass
class Pausable:
    name: str
    cfg: Any = None
    stats: ScannerStats = field(default_factory=ScannerStats)

    def pause(self) -> None:
        self.stats.state = "paused"

    def unpause(self) -> None:
        self.stats.state = "scanning"

    async def run(self) -> None:
        return None


@dataclass
class OneShot:
    """A scanner without pause/unpause (a one-shot download)."""

    name: str
    cfg: Any = None
    stats: ScannerStats = field(default_factory=ScannerStats)

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


async def test_status_and_controls_over_live_objects(pool: asyncpg.Pool) -> None:
    supervisor = Supervisor(10, 60)
    supervisor.services["writer"] = ServiceState("writer", restarts=2, running=True)
    writer = Writer(pool, WriterConfig(), [])
    scanner = Pausable("uzum.products")
    scanner.stats.found = 7
    view = View(pool, writer, supervisor, scanners={"uzum.products": scanner, "dl": OneShot("dl")})
    status = DaemonStatus(view)
    [first, second] = status.scanners()
    assert first.name == "uzum.products" and first.snapshot["found"] == 7
    assert second.blocked_reason is None
    w = status.writer()
    assert w is not None and w.capacity == WriterConfig().queue_max
    assert w.latency_buckets[-1] == (float("inf"), 0)
    assert [s.restarts for s in status.services()] == [2]
    assert status.hosts() == {} and status.jobs() == [] and status.redis_down_since() is None
    await status.pause_scanner("uzum.products")
    assert scanner.stats.state == "paused"
    await status.resume_scanner("uzum.products")
    assert scanner.stats.state == "scanning"
    with pytest.raises(ControlError, match="no scanner named"):
        await status.pause_scanner("nope")
    with pytest.raises(ControlError, match="cannot be paused"):
        await status.pause_scanner("dl")
    with pytest.raises(ControlError, match="scheduler is not running"):
        await status.run_job("analytics")


async def test_retry_makes_dead_letters_due_now(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO dead_letters (scope, entity_id, kind, reason) VALUES "
        "('uzum.product', 1, 'x', 'r'), ('uzum.product', 2, 'x', 'r'), ('uzex.lot', 3, 'x', 'r')"
    )
    status = DaemonStatus(View(pool, None, Supervisor(10, 60)))
    assert await status.retry_dead_letters("uzum.product", [2]) == 1
    assert await status.retry_dead_letters("uzum.product", None) == 2
    due = await pool.fetch(
        "SELECT entity_id FROM dead_letters WHERE last_failed_at = '-infinity' ORDER BY 1"
    )
    assert [r["entity_id"] for r in due] == [1, 2]
