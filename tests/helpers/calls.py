"""How many Python and C calls a piece of code makes: a cost that, unlike time, does not move
with the machine's load (for tests that a rendering stays within a bound per item)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType


def calls_during(fn: Callable[[], object]) -> int:
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count
