"""Supervision of long-lived coroutines — the in-process half of our self-healing.

Each service (writer, scanner, status reporter …) runs under `Supervisor.supervise`: when it
raises, it is restarted after a jittered exponential backoff; when its progress heartbeat goes
stale past `max_stale_s` it is cancelled and restarted (staleness counts from the later of its
last progress and its latest start, so a restarted service gets its full grace period).

Each service has its own restart budget over a sliding window, so one service in trouble cannot
spend another's. What happens when a budget is spent depends on the service:
- a critical one (the writer, the status and watchdog loops: without them the process is
  useless) makes the supervisor give up and set `failed`; the daemon exits non-zero and systemd
  (`Restart=on-failure`) restarts the whole process — the other half;
- any other (a scanner) is suspended for one window and then tried again with a fresh budget:
  a scanner's trouble is almost always its upstream's, and restarting the process would only
  take the dashboard, the jobs and the other scanners down with it. The suspension is visible
  in `ServiceState` (`suspended_until`, `last_error`).

A service that keeps crashing is in a *crash loop* (`ServiceState.crash_loop`) while the
budget lasts; the daemon shows that on /healthz, `marketplaced status` and the status page, so
a restart loop never hides behind a scanner that still says "scanning".
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from marketplaced import log

_log = log.get(__name__)

#: first restart delay and cap: quick enough for a blip,
#: slow enough not to hammer a broken dependency
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 60.0
#: crashes within the restart window that make a crash loop: one crash is a blip the restart
#: cures, two may be bad luck, a third of the same kind means the restart does not help
CRASH_LOOP_CRASHES = 3


@dataclass(slots=True)
class ServiceState:
    """What the status page and metrics show of one supervised service."""

    name: str
    restarts: int = 0
    last_error: str | None = None
    running: bool = False
    started_at: float = field(default_factory=time.time)
    #: critical services end the process when their budget is spent; the others are suspended
    critical: bool = True
    #: restarts because the service made no progress (for a scanner: its upstream hangs)
    stalls: int = 0
    #: wall clock until which a service whose budget is spent waits; None when not suspended
    suspended_until: float | None = None
    #: restart times (monotonic) within the current window: the service's own budget
    recent: deque[float] = field(default_factory=deque, repr=False)
    #: monotonic times of the crashes (and stalls) still inside the restart window
    crashes: deque[float] = field(default_factory=deque)
    #: the window crashes are counted over (the supervisor's restart window)
    window_s: float = 600.0

    def crashed(self, now: float) -> None:
        self.crashes.append(now)
        self._forget(now)

    def recent_crashes(self, now: float | None = None) -> int:
        self._forget(time.monotonic() if now is None else now)
        return len(self.crashes)

    @property
    def crash_loop(self) -> bool:
        return self.recent_crashes() >= CRASH_LOOP_CRASHES

    def _forget(self, now: float) -> None:
        while self.crashes and now - self.crashes[0] > self.window_s:
            self.crashes.popleft()


class Supervisor:
    def __init__(self, budget: int, window_s: float) -> None:
        self._budget = budget
        self._window_s = window_s
        self.failed = asyncio.Event()
        self.failure_reason = ""
        self.services: dict[str, ServiceState] = {}

    async def supervise(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        *,
        heartbeat: Callable[[], float] | None = None,
        max_stale_s: float | None = None,
        restart_on_exit: bool = True,
        critical: bool = True,
        stall_hint: str = "",
    ) -> None:
        """Run `factory()` until it returns (and `restart_on_exit` is False) or we give up.

        `stall_hint` says what a stall of this service means, for the status page (for a
        scanner whose other waits are excused by its heartbeat: the upstream hangs)."""
        state = self.services.setdefault(name, ServiceState(name, window_s=self._window_s))
        state.critical = critical
        delay = BACKOFF_FIRST_S
        while True:
            state.running, state.started_at = True, time.time()
            try:
                await self._run_watched(factory, heartbeat, max_stale_s)
            except asyncio.CancelledError:
                state.running = False
                raise
            except _Stale as stale:
                state.stalls += 1
                state.last_error = f"{stale}: {stall_hint}" if stall_hint else str(stale)
                state.crashed(time.monotonic())
                _log.error(
                    "service_stalled", service=name, stale_s=round(stale.age, 1), hint=stall_hint
                )
            except Exception as exc:
                state.last_error = f"{type(exc).__name__}: {exc}"[:500]
                state.crashed(time.monotonic())
                _log.exception("service_crashed", service=name, crashes=len(state.crashes))
            else:
                state.running = False
                if not restart_on_exit:
                    return
                _log.warning("service_exited", service=name)
            state.running = False
            if not self._spend(state):
                if critical:
                    return
                await self._suspend(state)
                delay = BACKOFF_FIRST_S
                continue
            state.restarts += 1
            sleep = delay * random.uniform(0.5, 1.0)  # full-ish jitter
            _log.info(
                "service_restarting", service=name, in_s=round(sleep, 2), restarts=state.restarts
            )
            await asyncio.sleep(sleep)
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _spend(self, state: ServiceState) -> bool:
        """Count a restart against the service's own budget; False once it is spent."""
        now = time.monotonic()
        recent = state.recent
        recent.append(now)
        while recent and now - recent[0] > self._window_s:
            recent.popleft()
        if len(recent) <= self._budget:
            return True
        _log.error(
            "restart_budget_spent",
            service=state.name,
            budget=self._budget,
            window_s=self._window_s,
            critical=state.critical,
        )
        if state.critical:
            self.failure_reason = (
                f"{state.name}: restart budget spent ({self._budget} restarts "
                f"within {self._window_s:.0f} s)"
            )
            self.failed.set()
        return False

    async def _suspend(self, state: ServiceState) -> None:
        """Sit out one window, then start again with a fresh budget."""
        state.suspended_until = time.time() + self._window_s
        _log.warning(
            "service_suspended",
            service=state.name,
            for_s=self._window_s,
            last_error=state.last_error,
        )
        try:
            await asyncio.sleep(self._window_s)
        finally:
            state.suspended_until = None
        state.recent.clear()
        _log.info("service_resuming", service=state.name)

    @staticmethod
    async def _run_watched(
        factory: Callable[[], Awaitable[None]],
        heartbeat: Callable[[], float] | None,
        max_stale_s: float | None,
    ) -> None:
        if heartbeat is None or max_stale_s is None:
            await factory()
            return
        started = time.monotonic()
        task = asyncio.ensure_future(factory())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=min(max_stale_s / 4, 5.0))
                # from this start at the earliest: progress made before a restart is no
                # measure of this run (else it is declared stale again seconds after)
                age = time.monotonic() - max(heartbeat(), started)
                if not task.done() and age > max_stale_s:
                    raise _Stale(age)
            task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


class _Stale(Exception):
    def __init__(self, age: float) -> None:
        self.age = age
        super().__init__(f"no progress for {age:.0f} s")
