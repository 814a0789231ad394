"""The writer's intake queue, bounded by items and by (estimated) bytes of what it holds.

An item counts as *held* from the moment it is put until the writer has committed it
(:meth:`HoldingQueue.release_taken`), not only while it waits in the queue: during a database
outage the batch being retried is memory too. A full queue makes ``put`` wait (backpressure),
whichever bound is reached first. Sizes are estimates: records are measured as their JSON
encoding (orjson, in C), but only a sample of each type, because measuring a 100-SKU product
costs ~90 µs and the writer takes thousands per second; the rest are charged their type's
running mean. The bound is on the sum over thousands of records, where a mean is accurate.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Final

import orjson

#: the first records of a type are all measured (the mean settles), then one in this many
SAMPLE_EVERY: Final = 16
_WARMUP: Final = 8
#: weight of a new measurement in the running mean: follows a drift within ~20 samples
_EMA_WEIGHT: Final = 0.1
#: charged when a record cannot be encoded at all (e.g. an integer beyond 64 bits)
_FALLBACK_BYTES: Final = 1024


def _opaque(_: object) -> None:
    """Futures and other non-data fields weigh nothing in the estimate."""
    return None


class SizeEstimator:
    """Approximate size in bytes of a record, by sampled JSON encoding per type."""

    def __init__(self) -> None:
        self._seen: dict[type, int] = {}
        self._mean: dict[type, float] = {}

    def __call__(self, item: object) -> int:
        kind = type(item)
        seen = self._seen.get(kind, 0)
        self._seen[kind] = seen + 1
        mean = self._mean.get(kind)
        if mean is not None and seen >= _WARMUP and seen % SAMPLE_EVERY:
            return int(mean)
        try:
            size = len(orjson.dumps(item, default=_opaque))
        except (orjson.JSONEncodeError, TypeError):
            size = _FALLBACK_BYTES
        self._mean[kind] = size if mean is None else mean + _EMA_WEIGHT * (size - mean)
        return size


class HoldingQueue:
    """FIFO with one consumer; ``put`` waits while the held items or bytes are at their bound.

    One item is always admitted into an empty holding, however big, so a record larger than
    the byte bound slows the scan down instead of blocking it forever.
    """

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: deque[tuple[Any, int, bool]] = deque()
        self._size_of = SizeEstimator()
        self._room = asyncio.Event()
        self._arrived = asyncio.Event()
        self.held_items = 0
        self.held_bytes = 0
        self._taken_items = 0
        self._taken_bytes = 0

    async def put(self, item: Any, *, counted: bool = True) -> None:
        """Queue an item; ``counted=False`` for markers that take no room (flush requests)."""
        size = self._size_of(item) if counted else 0
        while counted and not self._fits(size):
            self._room.clear()
            await self._room.wait()
        self._items.append((item, size, counted))
        self.held_items += counted
        self.held_bytes += size
        self._arrived.set()

    def _fits(self, size: int) -> bool:
        if self.held_items == 0:
            return True
        return self.held_items < self.max_items and self.held_bytes + size <= self.max_bytes

    async def get(self) -> Any:
        """The next item; it stays held until :meth:`release_taken`."""
        while not self._items:
            self._arrived.clear()
            await self._arrived.wait()
        return self.get_nowait()

    def get_nowait(self) -> Any:
        item, size, counted = self._items.popleft()
        self._taken_items += counted
        self._taken_bytes += size
        return item

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def release_taken(self) -> None:
        """Everything taken so far is committed: its room is free again."""
        self.held_items -= self._taken_items
        self.held_bytes -= self._taken_bytes
        self._taken_items = self._taken_bytes = 0
        self._room.set()
