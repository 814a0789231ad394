"""Virtual time for tests of code that takes a ``clock`` and a ``sleep``.

Sleeping on a `VirtualTime` parks the caller until the clock reaches its deadline, and the clock
moves only when a driver (`VirtualTime.run`) finds nothing else able to move: then it jumps to
the earliest deadline, so sleepers wake in deadline order, concurrently sleeping tasks overlap
as they would in real time, and a test measures the code's own waiting exactly, however loaded
the machine is. Work that is not on the clock (a request on a socket) is waited for in real time
first; the caller says what that is with a ``busy`` callback.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

#: real loop iterations given to woken tasks before the clock may move again: a woken sleeper
#: resumes, and a lock or slot it releases is handed on, within a couple of iterations
_SETTLE_ITERATIONS = 20
#: the shortest sleep: a token bucket asking for the last 1e-14 s of a token would otherwise
#: ask again on a clock that float rounding keeps still
_MIN_SLEEP_S = 1e-6


@dataclass(order=True)
class _Sleeper:
    deadline: float
    seq: int
    future: asyncio.Future[None] = field(compare=False)
    upstream: bool = field(compare=False)


class Stuck(AssertionError):
    """Nothing sleeps, nothing is busy, and what the test awaits is not done: it never will be."""


class VirtualTime:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[_Sleeper] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """The code under test's sleep."""
        await self._park(seconds, upstream=False)

    async def upstream_sleep(self, seconds: float) -> None:
        """A fake upstream's delay: a request parked here is on the clock, not on the wire."""
        await self._park(seconds, upstream=True)

    @property
    def upstream_asleep(self) -> int:
        return sum(1 for s in self._sleepers if s.upstream)

    async def run(
        self,
        awaitable: Awaitable[Any] | None = None,
        *,
        busy: Callable[[], bool],
        until: Callable[[], bool] | None = None,
        for_s: float | None = None,
    ) -> Any:
        """Drive the clock until `awaitable` is done (its result), `until()` holds, or `for_s`
        virtual seconds have passed; `busy()` is true while work off the clock is under way."""
        task = asyncio.ensure_future(awaitable) if awaitable is not None else None
        target = None if for_s is None else self.now + for_s
        while True:
            for _ in range(_SETTLE_ITERATIONS):
                await asyncio.sleep(0)
            if task is not None and task.done():
                return task.result()
            if until is not None and until():
                return None
            if busy():
                await asyncio.sleep(0.001)  # real time: a socket is moving
                continue
            if target is not None and self.now >= target:
                return None
            if not self._sleepers:
                if task is not None:
                    task.cancel()
                raise Stuck("nothing sleeps or is under way, yet the awaited work is not done")
            deadline = self._sleepers[0].deadline
            self.now = deadline if target is None else min(deadline, target)
            self._wake_due()

    async def _park(self, seconds: float, *, upstream: bool) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sleeper = _Sleeper(self.now + max(_MIN_SLEEP_S, seconds), next(self._seq), future, upstream)
        self._sleepers.append(sleeper)
        self._sleepers.sort()
        try:
            await future
        finally:
            if sleeper in self._sleepers:  # cancelled before its deadline
                self._sleepers.remove(sleeper)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0].deadline <= self.now:
            sleeper = self._sleepers.pop(0)
            if not sleeper.future.done():
                sleeper.future.set_result(None)
