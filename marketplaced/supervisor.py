"""Supervision of long-lived coroutines — the in-process half of our self-healing.

Each service (writer, scanner, status reporter …) runs under `Supervisor.supervise`: when it
raises, it is restarted after a jittered exponential backoff; when its progress heartbeat goes
stale past `max_stale_s` it is cancelled and restarted. Restarts are counted over a sliding
window; once the budget is spent the supervisor gives up and sets `failed`, the daemon exits
non-zero and systemd (`Restart=on-failure`) restarts the whole process — the other half.

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
    name: str
    restarts: int = 0
    last_error: str | None = None
    running: bool = False
    started_at: float = field(default_factory=time.time)
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
        self._restarts: deque[float] = deque()
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
    ) -> None:
        """Run `factory()` until it returns (and `restart_on_exit` is False) or we give up."""
        state = self.services.setdefault(name, ServiceState(name, window_s=self._window_s))
        delay = BACKOFF_FIRST_S
        while True:
            state.running, state.started_at = True, time.time()
            try:
                await self._run_watched(factory, heartbeat, max_stale_s)
            except asyncio.CancelledError:
                state.running = False
                raise
            except _Stale as stale:
                state.last_error = str(stale)
                state.crashed(time.monotonic())
                _log.error("service_stalled", service=name, stale_s=round(stale.age, 1))
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
            if not self._spend(name):
                return
            state.restarts += 1
            sleep = delay * random.uniform(0.5, 1.0)  # full-ish jitter
            _log.info(
                "service_restarting", service=name, in_s=round(sleep, 2), restarts=state.restarts
            )
            await asyncio.sleep(sleep)
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _spend(self, name: str) -> bool:
        now = time.monotonic()
        self._restarts.append(now)
        while self._restarts and now - self._restarts[0] > self._window_s:
            self._restarts.popleft()
        if len(self._restarts) > self._budget:
            self.failure_reason = (
                f"{name}: restart budget spent ({self._budget} restarts "
                f"within {self._window_s:.0f} s)"
            )
            _log.error("restart_budget_spent", service=name, budget=self._budget)
            self.failed.set()
            return False
        return True

    @staticmethod
    async def _run_watched(
        factory: Callable[[], Awaitable[None]],
        heartbeat: Callable[[], float] | None,
        max_stale_s: float | None,
    ) -> None:
        if heartbeat is None or max_stale_s is None:
            await factory()
            return
        task = asyncio.ensure_future(factory())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=min(max_stale_s / 4, 5.0))
                age = time.monotonic() - heartbeat()
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
