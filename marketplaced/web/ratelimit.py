"""Failed-authentication limiter: a token bucket per client address, in bounded memory.

Every wrong token (a Bearer header or the login form) takes one token from its client's bucket;
with the bucket empty the next attempt is answered 429 with Retry-After *before* its token is
compared, so a guesser learns nothing from it. Successful and cookie-authenticated requests
never touch the bucket: an attacker sharing an address cannot lock out a browser that is
already logged in. IPv6 clients are counted per /64, the block one subscriber usually holds,
so hopping between its 2^64 addresses buys no extra guesses.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from marketplaced import access

#: a user who mistypes the token a few times is never slowed down
BURST = 10
#: then one more attempt every 6 s (10 a minute): a 128-bit token stays out of reach forever
REFILL_PER_S = 1 / 6
#: addresses remembered; the least recently failing is forgotten first (≈ 100 B each)
MAX_CLIENTS = 4096


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class FailureLimiter:
    def __init__(
        self,
        *,
        burst: int = BURST,
        refill_per_s: float = REFILL_PER_S,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.refill_per_s = refill_per_s
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None if it may try now."""
        bucket = self._refilled(client)
        if bucket is None or bucket.tokens >= 1:
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.refill_per_s))

    def failed(self, client: str) -> None:
        key = bucket_key(client)
        bucket = self._refilled(client) or _Bucket(float(self.burst), self._clock())
        bucket.tokens = max(0.0, bucket.tokens - 1)
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)

    def _refilled(self, client: str) -> _Bucket | None:
        key = bucket_key(client)
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        now = self._clock()
        bucket.tokens = min(
            float(self.burst), bucket.tokens + (now - bucket.updated) * self.refill_per_s
        )
        bucket.updated = now
        if bucket.tokens >= self.burst:
            del self._buckets[key]  # full again: the same as never seen, so stop remembering it
            return None
        return bucket


def bucket_key(client: str) -> str:
    addr = access.parse_ip(client)
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr) if addr is not None else client
