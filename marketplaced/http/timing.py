"""What the fetcher measures and waits with: a monotonic clock and an async sleep, injected
so tests can run the fetcher on virtual time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
