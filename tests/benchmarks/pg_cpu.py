"""CPU of one database's PostgreSQL backends, for the benchmarks (not a test).

PostgreSQL runs one process per connection, so a database's share of the server's CPU is the
CPU of the backends connected to it: their pids come from `pg_stat_activity` (`datname`, which
also names the autovacuum workers busy in it), their CPU from `/proc/<pid>/stat` (the server
must run on this host, in this pid namespace). A backend is counted from its first sample (a
backend that was already there at `start()` only from then on; one that appears later for its
whole life, it began after `start()`) to its last one, so the meter must be sampled while the
backends live:

- work a backend did after its last sample and before it exited is lost (at most one sampling
  interval per exited backend; the daemon's pool keeps its connections, so this is small);
- the server's shared processes (WAL writer, checkpointer, background writer) are not counted:
  they work for every database at once;
- the meter's own connection is excluded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

CLK_TCK = os.sysconf("SC_CLK_TCK")

_BACKENDS = """
SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
"""


def cpu_s(pid: int) -> float:
    """User + system CPU of a process; raises OSError once it has exited."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class _Backend:
    first: float
    last: float


@dataclass
class BackendCpu:
    """CPU-s of the backends of `database`, sampled over the meter's connection `conn`."""

    conn: asyncpg.Connection
    database: str
    backends: dict[int, _Backend] = field(default_factory=dict)
    #: CPU-s of backends whose pid a later backend took over
    retired_s: float = 0.0
    started: bool = False

    async def start(self) -> None:
        """Zero point: what the backends alive now did before it is not counted."""
        for pid in await self._pids():
            try:
                now = cpu_s(pid)
            except OSError:
                continue
            self.backends[pid] = _Backend(now, now)
        self.started = True

    async def sample(self) -> None:
        assert self.started, "start() first"
        for pid in await self._pids():
            try:
                now = cpu_s(pid)
            except OSError:  # exited since the query: its last sample stands
                continue
            seen = self.backends.get(pid)
            if seen is None:  # connected after start(): its whole life counts
                self.backends[pid] = _Backend(0.0, now)
            elif now < seen.last:  # the pid was reused by a new backend
                self.retired_s += seen.last - seen.first
                self.backends[pid] = _Backend(0.0, now)
            else:
                seen.last = now

    def total_s(self) -> float:
        return self.retired_s + sum(b.last - b.first for b in self.backends.values())

    def per_backend_s(self) -> list[float]:
        """CPU-s of each backend that did any work, busiest first."""
        return sorted(
            (b.last - b.first for b in self.backends.values() if b.last > b.first), reverse=True
        )

    async def _pids(self) -> list[int]:
        return [int(r["pid"]) for r in await self.conn.fetch(_BACKENDS, self.database)]
