"""The platform interface: what a marketplace must provide to be scanned.

A platform (Uzum, UZEX, …) is a package whose `__init__` is a `Platform` (see the protocol at
the end): its `name`, its configuration section, the `routes` to its hosts (policy and headers
of each), the writer `sinks` storing its records, its scanners with each one's staleness limit,
warnings about a configuration that scans nothing, and its one-shot `commands` (`download`,
`process-raw`) with their command-line arguments. A scanner is a long-lived coroutine that
fetches through the shared fetcher, parses into records and puts them (with `CursorMark`s) on
the shared `Writer`. The daemon and the one-shot commands own every resource and hand them over
in a `ScanDeps`; `platforms.ALL` lists the platforms, and nothing outside a platform's package
names it.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from marketplaced.archive import Archive
from marketplaced.config import Config, PlatformSection
from marketplaced.http import JsonFetcher, Route
from marketplaced.writer import Sink, Writer

#: states in which a scanner waits on purpose (between cycles, finished, backing off from an
#: upstream block, waiting for an unreachable database): no progress is expected then, so none
#: can be missing
WAITING_STATES = frozenset({"idle", "done", "blocked", "waiting_db"})


@dataclass(slots=True)
class ScannerStats:
    """Figures a scanner keeps for the status page, `marketplaced status` and metrics."""

    found: int = 0
    missing: int = 0
    parse_failures: int = 0
    #: values stored after a conversion the upstream's documented shape does not need
    #: (a price sent as a string): counted, so a changed upstream is noticed
    coerced: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    miss_forms: Counter[str] = field(default_factory=Counter)
    cycle: int = 0
    position: int = 0
    frontier: int = 0
    highest_seen: int = 0
    started_at: float = field(default_factory=time.time)
    last_commit_position: int = 0
    #: the operator paused the scanner (`PauseGate`); shown as state "paused" whatever it was
    #: doing, because no new request leaves while it is set
    paused: bool = False
    #: ids finished per second, exponentially smoothed over ~30 s
    rate: float = 0.0
    #: monotonic seconds; injectable so staleness can be tested without waiting
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    #: called on every tick (a one-shot command redraws its progress line from it)
    on_tick: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    _state: str = "starting"  # starting / scanning / idle / blocked / done (see `state`)
    progress_at: float = field(init=False)
    #: when the scanner last went (back) to work after waiting on purpose
    _working_since: float = field(init=False)
    _window_start: float = field(init=False)
    _window_count: int = 0

    def __post_init__(self) -> None:
        self.progress_at = self._working_since = self._window_start = self.clock()

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value not in WAITING_STATES and self._state in WAITING_STATES:
            self._working_since = self.clock()
        self._state = value

    @property
    def waiting(self) -> bool:
        """Whether it waits on purpose: paused by the operator, between cycles, finished, or
        backing off from an upstream block. No progress is due while it does."""
        return self.paused or self._state in WAITING_STATES

    def stale_s(self) -> float:
        """Seconds without progress while the scanner is supposed to be working.

        The one definition that /healthz, the health check, metrics, `marketplaced status`
        and the supervisor's restart all use. It is 0 while the scanner waits on purpose, and
        after a wait it counts from when work resumed: an intended pause (`cycle_pause_s`, an
        upstream block's backoff, an operator's pause) is never mistaken for a stall, however
        long it lasts, while a scanner that hangs mid-cycle is caught after the same time."""
        if self.waiting:
            return 0.0
        return max(0.0, self.clock() - max(self.progress_at, self._working_since))

    def tick(self, n: int = 1) -> None:
        self.progress_at = now = self.clock()
        self._window_count += n
        elapsed = now - self._window_start
        if elapsed >= 1.0:
            instant = self._window_count / elapsed
            # 1 s windows blended with weight 1/30: a half-minute memory
            self.rate = instant if self.rate == 0 else self.rate + (instant - self.rate) / 30
            self._window_start, self._window_count = now, 0
        if self.on_tick is not None:
            self.on_tick()

    @property
    def done(self) -> int:
        return self.found + self.missing + self.parse_failures + sum(self.errors.values())

    @property
    def hit_rate(self) -> float:
        seen = self.found + self.missing
        return self.found / seen if seen else 0.0

    def set_paused(self, paused: bool) -> None:
        if self.paused and not paused:
            self._working_since = self.clock()
        self.paused = paused
        # the smoothed rate restarts from zero: a paused scanner does 0 ids/s, and after a
        # resume the figure must not blend in the rate from before the pause
        self.rate = 0.0
        self._window_start, self._window_count = self.clock(), 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": "paused" if self.paused else self.state,
            "cycle": self.cycle,
            "position": self.position,
            "frontier": self.frontier,
            "highest_seen": self.highest_seen,
            "found": self.found,
            "missing": self.missing,
            "parse_failures": self.parse_failures,
            "coerced": self.coerced,
            "errors": dict(self.errors),
            "miss_forms": dict(self.miss_forms),
            "rate": 0.0 if self.paused else round(self.rate, 2),
            "hit_rate": round(self.hit_rate, 4),
            "last_commit_position": self.last_commit_position,
            "stale_s": round(self.stale_s(), 1),
        }


class PauseGate:
    """The operator's pause switch, one per scanner, shared by every platform.

    A scanner awaits `wait()` right before each request it sends, so a pause takes effect
    within the requests already in flight and nothing is fetched while it holds; cursors,
    acknowledgements and the writer are untouched, so a resume continues exactly where the
    scanner stopped (and a restart while paused loses nothing either).
    """

    def __init__(self, stats: ScannerStats) -> None:
        self._stats = stats
        self._open = asyncio.Event()
        self._open.set()
        #: coroutines currently held at the gate
        self.waiting = 0

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def pause(self) -> None:
        self._open.clear()
        self._stats.set_paused(True)

    def resume(self) -> None:
        self._open.set()
        self._stats.set_paused(False)

    async def wait(self) -> None:
        if self._open.is_set():
            return
        self.waiting += 1
        try:
            await self._open.wait()
        finally:
            self.waiting -= 1


@dataclass(frozen=True, slots=True)
class ScanDeps:
    """What a scanner is handed by its owner (the daemon or a one-shot command).

    The owner creates and closes every one of these; a scanner only uses them. One value
    instead of the same keywords on every scanner's constructor, so a new shared resource is
    added here once.
    """

    pool: asyncpg.Pool
    #: the shared fetcher as this scanner's platform sees it (`Fetcher.for_platform`)
    fetcher: JsonFetcher
    writer: Writer
    #: where this scanner's raw responses go; None when archiving is off
    archive: Archive | None = None

    def with_archive(self, archive: Archive | None) -> ScanDeps:
        return replace(self, archive=archive)


class Scanner(Protocol):
    #: the platform's config section; replaced in place on SIGHUP
    cfg: Any

    @property
    def name(self) -> str: ...

    @property
    def stats(self) -> ScannerStats: ...

    async def run(self) -> None:
        """Scan until cancelled (continuous) or until done (one-shot)."""
        ...

    def pause(self) -> None:
        """Send no further request until `unpause` (see `PauseGate`)."""
        ...

    def unpause(self) -> None: ...


def _no_arguments(_parser: argparse.ArgumentParser) -> None:
    return None


def _no_problem(_args: argparse.Namespace) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class OneShotCommand:
    """A platform's part of a one-shot command (`marketplaced download <platform>` …).

    The command line is the core's: it offers the platforms that have the command, parses the
    options every platform shares (`--from`, `--to`, `--target` for `download`) and those each
    platform adds, refuses what `check` says is a usage error (exit 2), then awaits `run`,
    which prints its summary and returns the exit status.
    """

    run: Callable[[Config, argparse.Namespace], Coroutine[Any, Any, int]]
    #: add this platform's own options (shared with the other platforms' on one parser, so
    #: name them for what they select, e.g. `--type`)
    add_arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    #: a usage problem with the parsed arguments, said in a sentence; None when they are fine
    check: Callable[[argparse.Namespace], str | None] = _no_problem


class Platform(Protocol):
    @property
    def name(self) -> str:
        """Its command-line choice and the first part of every one of its scanners' names
        (`uzum.products`, `uzex.auction.completed`)."""
        ...

    @property
    def config_section(self) -> type[PlatformSection]:
        """Its configuration section (`platforms/<name>/config.py`): the table `[<name>]`,
        read by `platforms.load_config`; its code reads it with `cfg.section(cls)`."""
        ...

    @property
    def commands(self) -> Mapping[str, OneShotCommand]:
        """Its one-shot commands by command name ("download", "process-raw")."""
        ...

    def routes(self, cfg: Config) -> dict[str, Route]:
        """Every host it talks to (`host[:port]`): how politely, and with which headers."""
        ...

    def sinks(self) -> list[Sink]: ...

    def build_scanners(
        self, cfg: Config, deps: ScanDeps, archive_root: Path | None
    ) -> Sequence[Scanner]:
        """Its enabled scanners; `archive_root` (None when archiving is off) holds raw
        responses under `<archive_root>/<platform>/<kind>/`."""
        ...

    def max_stale_s(self, cfg: Config, scanner: str) -> float:
        """How long its `scanner` may go without progress before it counts as stalled."""
        ...

    def config_warnings(self, cfg: Config) -> list[str]:
        """Settings that are valid but make it scan nothing (said at start and by check-config)."""
        ...
