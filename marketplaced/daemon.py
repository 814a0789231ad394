"""The daemon: owns every resource; starts, supervises, reloads and stops everything.

Start-up order (each step bounded, each failure a clear message):
config → PostgreSQL pool (waits) → schema check → Redis (waits, then runs degraded) → HTTP
fetcher → writer → scanners → status/watchdog → `READY=1`.
Signals only set events; the main coroutine acts on them:
- SIGHUP: re-read the file, apply what can change live (log level, rates, concurrency, enabled
  scanners, jobs); an invalid file is rejected with a logged reason and the running config
  stays. Keys that only a restart applies (`reloadable.RESTART`, a platform section's
  `RESTART_KEYS`) keep their running values and
  are reported as "restart needed" in the log, STATUS= and the live state.
- SIGTERM/SIGINT: `STOPPING=1`, then staged shutdown — stop intake (cancel scanners) → drain
  the writer → close clients — each stage with its own budget, the sum below TimeoutStopSec.
  A second SIGTERM/SIGINT exits at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from marketplaced import config as config_mod
from marketplaced import db, gc_policy, log, platforms, reloadable
from marketplaced.archive import Archive
from marketplaced.config import Config
from marketplaced.errors import ConfigError, MarketplacedError
from marketplaced.http import Fetcher
from marketplaced.jobs.health import HealthInputs
from marketplaced.jobs.scheduler import JobScheduler
from marketplaced.jobs.service import Jobs
from marketplaced.live_state import LiveState
from marketplaced.platforms.base import Platform, Scanner
from marketplaced.redis_client import connect_redis
from marketplaced.stages import bounded_stage
from marketplaced.supervisor import Supervisor
from marketplaced.systemd import SystemdNotifier
from marketplaced.web.app import WebDeps, create_app, start_site
from marketplaced.web.live_daemon import LiveDaemon
from marketplaced.writer import Writer

_log = log.get(__name__)

#: exit statuses: 0 clean stop, 1 a supervised service gave up (systemd restarts us),
#: 78 bad configuration (systemd does not restart: RestartPreventExitStatus=78)
EXIT_OK, EXIT_FAILED = 0, 1
#: share of the stop_jobs stage spent waiting for cancelled runs to record their outcome
_JOBS_GRACE_SHARE = 0.8

#: what a stalled scanner's status says (database and writer waits are excused by its heartbeat)
_STALL_HINT = "the upstream is not answering"


@dataclass
class _Signals:
    reload: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stop_count: int = 0


class Daemon:
    def __init__(
        self,
        cfg: Config,
        *,
        notifier: SystemdNotifier | None = None,
        loader: Callable[[], Config] | None = None,
        among: Sequence[Platform] = platforms.ALL,
    ) -> None:
        self.cfg = cfg
        #: the platforms it scans: `platforms.ALL` unless a caller brings its own list
        self.platforms = tuple(among)
        #: the config the process started with: what restart-only keys are compared against
        self._started_cfg = cfg
        #: restart-only keys the file changed since start-up (shown until a restart)
        self.restart_needed: list[str] = []
        self.notifier = notifier or SystemdNotifier()
        #: what SIGHUP reads: the file with these platforms' sections
        self._loader = loader or (lambda: platforms.load_config(among=self.platforms))
        self._signals = _Signals()
        self.supervisor = Supervisor(cfg.daemon.restart_budget, cfg.daemon.restart_window_s)
        self.pool: asyncpg.Pool | None = None
        self.redis: aioredis.Redis | None = None
        self.live: LiveState | None = None
        self.fetcher: Fetcher | None = None
        self.writer: Writer | None = None
        self.scanners: dict[str, Scanner] = {}
        self._scanner_tasks: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.started_at = time.time()
        self.jobs: Jobs | None = None
        self.scheduler: JobScheduler | None = None
        self.web_runner: web.AppRunner | None = None

    # -- signals ----------------------------------------------------------------------------
    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self._signals.reload.set)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_stop_signal)

    def _on_stop_signal(self) -> None:
        self._signals.stop_count += 1
        if self._signals.stop_count > 1:
            # second request: the operator means it; skip the remaining stages (what is
            # committed stays committed; the uncommitted tail is fetched again next start)
            _log.warning("forced_exit", reason="second stop signal")
            os._exit(EXIT_FAILED)
        self._signals.stop.set()

    # -- lifecycle --------------------------------------------------------------------------
    async def run(self) -> int:
        self._install_signals()
        exit_code = EXIT_OK
        try:
            if not await self._start_unless_stopped():
                _log.info("daemon_stopped_during_start")
                return EXIT_OK
            self.notifier.ready(self._status_line())
            _log.info(
                "daemon_ready",
                pid=os.getpid(),
                scanners=list(self.scanners),
                watchdog_s=self.notifier.watchdog_interval_s,
            )
            exit_code = await self._main_loop()
        finally:
            self.notifier.stopping()
            await self._shutdown()
        return exit_code

    async def _start_unless_stopped(self) -> bool:
        """Start everything; a stop signal meanwhile (e.g. while waiting for PostgreSQL)
        cancels the start-up instead of waiting for it: False then."""
        start = asyncio.ensure_future(self._start())
        stop = asyncio.ensure_future(self._signals.stop.wait())
        await asyncio.wait({start, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if start.done():
            start.result()  # start-up errors propagate as before
            return True
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        return False

    async def _start(self) -> None:
        cfg = self.cfg
        wait = cfg.daemon.startup_wait_s
        for warning in platforms.config_warnings(cfg, self.platforms):
            _log.warning("config_warned", problem=warning, config=cfg.source)
        self.notifier.status("connecting to PostgreSQL")
        self.pool = await db.create_pool(cfg.database, wait_s=wait)
        async with self.pool.acquire() as conn:
            await db.check_schema(conn)
        self.notifier.status("connecting to Redis")
        self.redis = await connect_redis(cfg, wait)
        self.live = LiveState.of(self.redis, cfg)
        self.fetcher = platforms.new_fetcher(cfg, self.platforms)
        await self.fetcher.__aenter__()
        self.writer = Writer(self.pool, cfg.writer, platforms.sinks(self.platforms))
        self._spawn("writer", self.writer.run)
        if cfg.web.enabled:
            # first of the services that can fail on the host (port taken): before any scanning
            await self._start_web()
        gc_policy.apply(cfg.daemon)  # start-up's objects exist now; scanning starts next
        self._apply_scanners()
        self._spawn("status", self._status_loop)
        if cfg.jobs.enabled:
            self.jobs = Jobs(cfg, self.pool, self.live, self._health_inputs)
            await self.jobs.start()
            self.scheduler = self.jobs.scheduler
        if self.notifier.watchdog_interval_s:
            self._spawn("watchdog", self._watchdog_loop)

    def _spawn(self, name: str, factory: Callable[[], Any], **kw: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(self.supervisor.supervise(name, factory, **kw), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _wanted_scanners(self) -> list[Scanner]:
        """Fresh scanner objects for everything the config enables (cheap: nothing starts)."""
        assert self.pool and self.fetcher and self.writer
        return platforms.build_scanners(
            self.cfg, pool=self.pool, fetcher=self.fetcher, writer=self.writer, among=self.platforms
        )

    def _apply_scanners(self) -> None:
        """Start or stop scanners so that what runs matches the config; running ones take
        the new settings in place (rates live in the fetcher, the rest in `scanner.cfg`)."""
        wanted = {sc.name: sc for sc in self._wanted_scanners()}
        for name in [n for n in self.scanners if n not in wanted]:
            self._scanner_tasks.pop(name).cancel()
            del self.scanners[name]
            _log.info("scanner_disabled", scanner=name)
        for name, scanner in wanted.items():
            if name in self.scanners:
                self.scanners[name].cfg = scanner.cfg
                continue
            self.scanners[name] = scanner
            stale = platforms.max_stale_s(self.cfg, name, self.platforms)
            self._scanner_tasks[name] = self._spawn(
                name,
                self._scanner_run(scanner),
                heartbeat=self._heartbeat(scanner),
                max_stale_s=stale,
                # a scanner in trouble is suspended, not a reason to end the process: the
                # dashboard, the jobs and the other scanners keep running
                critical=False,
                stall_hint=_STALL_HINT,
            )

    def _health_inputs(self) -> HealthInputs:
        return {
            # the same figure /healthz reads from the snapshot: both judge a scanner alike
            "scanners": {n: s.stats.stale_s() for n, s in self.scanners.items()},
            "writer_depth": self.writer.depth if self.writer else 0,
            "writer_last_commit_at": self.writer.stats.last_commit_at if self.writer else None,
        }

    @staticmethod
    def _scanner_run(scanner: Scanner) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            # the scanner object outlives its runs: progress made before a restart says
            # nothing about this run (the status page's "stale" would count from the old one)
            scanner.stats.progress_at = scanner.stats.clock()
            await scanner.run()

        return run

    def _heartbeat(self, scanner: Scanner) -> Callable[[], float]:
        def beat() -> float:
            now = time.monotonic()
            writer = self.writer
            db_down = writer is not None and writer.stats.db_down_since is not None
            backpressure = writer is not None and writer.depth >= writer.capacity
            # held back by a down database or a full writer queue, a scanner is not restarted
            # (a restart cannot help): what is left to stall it is its upstream
            return now if db_down or backpressure else now - scanner.stats.stale_s()

        return beat

    async def _main_loop(self) -> int:
        sig = self._signals
        while True:
            waiters = {
                asyncio.ensure_future(sig.stop.wait()),
                asyncio.ensure_future(sig.reload.wait()),
                asyncio.ensure_future(self.supervisor.failed.wait()),
            }
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
            if self.supervisor.failed.is_set():
                _log.error("daemon_giving_up", reason=self.supervisor.failure_reason)
                return EXIT_FAILED
            if sig.stop.is_set():
                _log.info("daemon_stopping")
                return EXIT_OK
            sig.reload.clear()
            await self.reload()

    async def reload(self) -> bool:
        self.notifier.reloading()
        try:
            new = self._loader()
        except ConfigError as exc:
            _log.error("config_rejected", problems=exc.problems, kept=self.cfg.source)
            self.notifier.ready(self._status_line())
            return False
        self.restart_needed = reloadable.restart_needed(self._started_cfg, new)
        new = reloadable.effective(self._started_cfg, new)
        changed = config_mod.diff(self.cfg, new)
        if self.restart_needed:
            _log.warning("restart_needed", keys=self.restart_needed)
        self.cfg = new
        log.set_level(new.log.level)
        if self.fetcher is not None:
            platforms.update_fetcher(self.fetcher, new, self.platforms)
        self._apply_scanners()
        if self.jobs is not None:
            await self.jobs.reschedule(new)
        _log.info(
            "config_reloaded",
            changed=changed,
            restart_needed=self.restart_needed,
            log_level=new.log.level,
        )
        self.notifier.ready(self._status_line())
        return True

    async def _shutdown(self) -> None:
        budgets = self.cfg.daemon
        # stage 1: stop intake — scanners stop taking ids; what they queued stays queued
        scanner_tasks = list(self._scanner_tasks.values())
        for t in scanner_tasks:
            t.cancel()
        await bounded_stage(
            "stop_intake",
            budgets.stop_intake_s,
            asyncio.gather(*scanner_tasks, return_exceptions=True),
        )
        if self.jobs is not None:
            # runs in flight are cancelled and recorded as such in the job ledger; the wait
            # for them takes most of the stage, the rest is for stop() to return within it
            grace_s = budgets.stop_jobs_s * _JOBS_GRACE_SHARE
            await bounded_stage("stop_jobs", budgets.stop_jobs_s, self.jobs.stop(grace_s=grace_s))
        # stage 2: drain — stop the services, commit what is queued (cursors included); the
        # wait for the services is inside the stage's budget, so a task that swallows its
        # cancellation cannot hold the process past TimeoutStopSec
        drained = await bounded_stage("drain", budgets.drain_s, self._drain())
        if self.writer is not None:
            self._log_drained(drained, budgets.drain_s)
        # stage 3: close, in reverse order of creation
        await bounded_stage("close", budgets.close_s, self._close_clients())
        self.notifier.close()

    async def _drain(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.writer is not None:
            await self.writer.drain()

    def _log_drained(self, finished: bool, budget_s: float) -> None:
        """Say what the drain committed; if records are left, how many and why they are."""
        assert self.writer is not None
        left = self.writer.depth
        if finished and left == 0:
            _log.info("writer_drained", complete=True, left=0)
            return
        error = self.writer.stats.last_error
        reason = (
            f"database unavailable: {error}"
            if error is not None
            else f"drain did not finish within daemon.drain_s = {budget_s} s"
        )
        # not lost for good: the scan cursors did not pass these records, so the next start
        # fetches them again
        _log.error("writer_drained", complete=False, left=left, reason=reason)

    async def _start_web(self) -> None:
        assert self.pool is not None
        status = LiveDaemon(self)
        app = create_app(
            WebDeps(
                self.pool,
                self.cfg,
                status,
                status,
                summary_refresh_s=self.cfg.web.summary_refresh_s,
            )
        )
        try:
            self.web_runner = await start_site(app, self.cfg)
        except OSError as exc:
            raise MarketplacedError(
                f"the dashboard cannot listen on {self.cfg.web.host}:{self.cfg.web.port} "
                f"({exc.strerror}); another process uses that port? Change [web] port or stop "
                "it, or set [web] enabled = false"
            ) from None

    async def _close_clients(self) -> None:
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        if self.fetcher is not None:
            await self.fetcher.__aexit__(None, None, None)
        if self.redis is not None:
            await self.redis.aclose()
        if self.pool is not None:
            await self.pool.close()

    # -- periodic ---------------------------------------------------------------------------
    async def _status_loop(self) -> None:
        while True:
            await self.publish_status()
            line = self._status_line()
            self.notifier.status(line)
            _log.debug("status_published", status=line)
            await asyncio.sleep(self.cfg.daemon.status_interval_s)

    def _archive_figures(self) -> dict[str, Any] | None:
        """The raw archives' counters summed over every archive in use (UZEX scanners of one
        lot type share theirs); None when archiving is off."""
        archives = {
            id(a): a
            for sc in self.scanners.values()
            if isinstance(a := getattr(sc, "archive", None), Archive)
        }
        if not archives:
            return None
        stats = [a.stats for a in archives.values()]
        errors = [st.last_error for st in stats if st.last_error is not None]
        return {
            "files_written": sum(st.files_written for st in stats),
            "bytes_written": sum(st.bytes_written for st in stats),
            "failed_writes": sum(st.failed_writes for st in stats),
            "lost_responses": sum(st.lost_responses for st in stats),
            "last_error": errors[-1] if errors else None,
        }

    async def publish_status(self) -> None:
        if self.live is None:
            return
        for name, scanner in self.scanners.items():
            await self.live.publish("scanner", name, scanner.stats.snapshot())
        if self.writer is not None:
            st = self.writer.stats
            await self.live.publish(
                "service",
                "writer",
                {
                    "depth": self.writer.depth,
                    "capacity": self.writer.capacity,
                    "held_bytes": self.writer.held_bytes,
                    "batches": st.batches,
                    "items": st.items,
                    "rows": st.rows,
                    "last_commit_at": st.last_commit_at,
                    "last_batch_ms": round(st.last_batch_ms, 1),
                    "db_down_since": st.db_down_since,
                },
            )
        archive = self._archive_figures()
        if archive is not None:
            await self.live.publish("service", "archive", archive)
        if self.scheduler is not None:
            # only the daemon knows its next slots: `marketplaced status` reads them here
            for job in self.scheduler.jobs():
                nxt = job.next_run.timestamp() if job.next_run is not None else None
                await self.live.publish(
                    "job",
                    job.name,
                    {"schedule": job.schedule, "next_run_at": nxt, "running": job.running},
                )
        # last: its heartbeat says everything above is fresh
        await self.live.publish(
            "service",
            "daemon",
            {
                "pid": os.getpid(),
                "started_at": self.started_at,
                "log_level": log.current_level(),
                "crash_loops": self._crash_loops(),
                "restart_needed": self.restart_needed,
            },
        )

    def _crash_loops(self) -> dict[str, dict[str, Any]]:
        """Services restarting over and over, for `marketplaced status`."""
        return {
            name: {"crashes": st.recent_crashes(), "last_error": st.last_error}
            for name, st in self.supervisor.services.items()
            if st.crash_loop
        }

    def _status_line(self) -> str:
        parts = []
        for name, sc in self.scanners.items():
            st = sc.stats
            parts.append(
                f"{name} {st.state} cycle {st.cycle} at {st.position} "
                f"{st.rate:.0f}/s hit {st.hit_rate:.0%}"
            )
        if self.writer is not None:
            parts.append(f"queue {self.writer.depth}/{self.writer.capacity}")
        if self.live is not None and self.live.down_since is not None:
            parts.append("redis DOWN")
        parts.extend(f"{name} CRASH LOOP" for name in self._crash_loops())
        if self.restart_needed:
            parts.append(f"restart needed for {', '.join(self.restart_needed)}")
        return "; ".join(parts) or "running"

    async def _watchdog_loop(self) -> None:
        interval = self.notifier.watchdog_interval_s or 10.0
        while True:
            # sent from the loop itself: a blocked loop stops the pings and systemd restarts us
            self.notifier.watchdog()
            await asyncio.sleep(interval)
