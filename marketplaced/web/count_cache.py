"""Totals of product searches, shared by the requests of a minute.

A search's total ("734 products", "1 000+ products") is counted through the word index, which
collects every product holding one of the query words' candidates before the first is
counted: a common word costs its whole posting list (50 000 entries took 16 ms of the
database's time at 1.5 M products, more than the page of results). The total does not depend
on the page, so a seller paging through results, and many sellers searching the same popular
word, asked for the same count again and again. A count is kept for `COUNT_TTL_S` and answers
the same search (same words, same filters) in that time; the rows of the list are always read
live, only the heading may be up to a minute old. Titles change with sellers' edits and
products arrive with the scan, a few a minute among the thousands a search matches, and the
heading is capped anyway ("1 000+"): a minute-old total tells a seller what a fresh one would.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, cast

from marketplaced.web.listing import Count, Reader

__all__ = ["COUNT_CACHE_MAX", "COUNT_TTL_S", "CountCache"]

#: how long a search's total answers the same search (see the module docstring)
COUNT_TTL_S = 60.0
#: distinct searches kept (the least recently used goes first): a busy dashboard's searches of
#: a minute, each a statement text and its words, about 1 KB
COUNT_CACHE_MAX = 1000


def _frozen(value: Any) -> Hashable:
    """A statement argument as a dictionary key (the arrays of words and ids are lists)."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return cast(Hashable, value)  # numbers, text, dates, None: the rest a count takes


class CountCache:
    """Counts by statement and arguments, each fresh for `ttl_s` (`clock`: monotonic seconds;
    tests inject theirs). One per web app."""

    def __init__(
        self,
        ttl_s: float = COUNT_TTL_S,
        max_entries: int = COUNT_CACHE_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._counts: OrderedDict[Hashable, tuple[int, float]] = OrderedDict()

    async def count(self, db: Reader, count: Count) -> int:
        """`count`'s number, counted now or up to `ttl_s` ago."""
        key = (count.sql, _frozen(count.args))
        kept = self._counts.get(key)
        if kept is not None and self._clock() - kept[1] < self._ttl_s:
            self._counts.move_to_end(key)
            return kept[0]
        n = int(await db.fetchval(count.sql, *count.args))
        self._counts[key] = (n, self._clock())
        self._counts.move_to_end(key)
        while len(self._counts) > self._max:
            self._counts.popitem(last=False)
        return n
