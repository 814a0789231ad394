"""Where a newest-first walk down a UZEX list stands, in a form that survives new rows on top.

UZEX lists are numbered 1..total_count newest first, and new deals push every row down while we
read. A row number is therefore no position; what stays put is the number of rows OLDER than
the last window we read (`below`): new rows only ever appear above. The next window starts at
`total - below + 1` in today's numbering. When the list grew since `total` was read the window
starts a little too high and re-reads a few rows (harmless: upserts), it never skips one. Only a
list that SHRANK (rows removed) could make it skip: that is detected from the page's own
`total_count` and the window is asked again.

`CompletedWalks` is the whole durable position of a completed-deals scanner (stored in the scan
cursor's `state`): the backfill walk (from the top down to the oldest deal, once), the catch-up
walk of the current cycle (from the top down to the rows already synced) and `synced`, the
stable index (counted from the oldest row, which never moves) of the newest row that an earlier
pass has covered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Walk:
    """One newest-first walk; `below` is None until its first page was read."""

    below: int | None = None
    #: pages read so far in this walk
    pages: int = 0
    #: the list's size when this walk read its first page
    top: int | None = None

    @property
    def done(self) -> bool:
        return self.below == 0

    def window(self, page_size: int, total: int) -> tuple[int, int]:
        """The next inclusive 1-based (from, to), given the latest known `total_count`."""
        if self.below is None:
            return 1, page_size
        first = max(1, total - self.below + 1)
        return first, first + page_size - 1

    def advance(self, page_total: int, last: int) -> None:
        """After a page of a list of `page_total` rows up to row `last` was stored."""
        if self.top is None:
            self.top = page_total
        self.below = max(0, page_total - last)
        self.pages += 1

    def as_state(self) -> dict[str, Any]:
        return {"below": self.below, "pages": self.pages, "top": self.top}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> Walk:
        if not state:
            return cls()
        return cls(
            _opt_int(state.get("below")), int(state.get("pages") or 0), _opt_int(state.get("top"))
        )


@dataclass(slots=True)
class CompletedWalks:
    """The durable position of a completed-deals scanner (see the module docstring)."""

    backfill: Walk = field(default_factory=Walk)
    catchup: Walk | None = None
    #: stable index (1 = oldest deal) of the newest row covered by an earlier pass
    synced: int | None = None
    #: the latest `total_count` seen
    total: int = 0

    def as_state(self) -> dict[str, Any]:
        return {
            "backfill": self.backfill.as_state(),
            "catchup": None if self.catchup is None else self.catchup.as_state(),
            "synced": self.synced,
            "total": self.total,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> CompletedWalks:
        if not state:
            return cls()
        catchup = state.get("catchup")
        return cls(
            Walk.from_state(state.get("backfill")),
            Walk.from_state(catchup) if catchup is not None else None,
            _opt_int(state.get("synced")),
            int(state.get("total") or 0),
        )

    @property
    def backfilled(self) -> int:
        """Rows the backfill has covered (for progress figures)."""
        if self.backfill.top is None or self.backfill.below is None:
            return 0
        return self.backfill.top - self.backfill.below


def reaches(page_total: int, last: int, synced: int | None) -> bool:
    """Whether a page (rows ..`last` of `page_total`) goes down to the rows already synced.

    A row's stable index is `total - rn + 1`; the page's oldest row has `rn = min(last, total)`.
    """
    if synced is None:
        return False
    return page_total - min(last, page_total) + 1 <= synced


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))
