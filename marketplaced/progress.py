"""The self-rewriting progress line of the one-shot commands (`download`, `process-raw`).

The line is redrawn when the work moves — each finished request, id or archived record calls
`update` — at most every `every_s` seconds of the injected clock, and the final line is always
drawn. So a UZEX download at 2 requests/s shows its item requests counting up while a page of
100 lots is being completed, instead of "0/100 lots" for the 50 s that takes; and nothing is
drawn on a timer, so a test sees exactly the lines a user would (`every_s=0`: every update).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

#: a redraw every 0.2 s reads as live without the terminal spending time on thousands of lines
REDRAW_EVERY_S = 0.2


class ProgressLine:
    def __init__(
        self,
        out: TextIO,
        *,
        every_s: float = REDRAW_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out = out
        self._every_s = every_s
        self._clock = clock
        self.started = clock()
        self._last_draw = float("-inf")

    def elapsed_s(self) -> float:
        return max(self._clock() - self.started, 1e-6)

    def rate(self, done: int) -> float:
        return done / self.elapsed_s()

    def eta(self, done: int, total: int | None) -> str:
        """' ETA n s' once a rate is known, else ''."""
        rate = self.rate(done)
        if not total or rate <= 0:
            return ""
        return f"  ETA {max(total - done, 0) / rate:5.0f} s"

    def due(self) -> bool:
        """Whether an update now would be drawn (lets callers skip formatting the text)."""
        return self._clock() - self._last_draw >= self._every_s

    def update(self, text: str, *, final: bool = False) -> None:
        if not final and not self.due():
            return
        self._last_draw = self._clock()
        self._out.write(f"\r{text}   ")
        if final:
            self._out.write("\n")
        self._out.flush()
