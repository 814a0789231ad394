"""Seeded randomness the simulators share: stateless 64-bit hashes and cheap draws.

A decision that must not depend on the order of requests (does this id hold a product, which
fault does this request get) is a hash of (seed, salt, id), the same in every process and Python
run; a generator that builds one object (a product, a seller) draws from a ``random.Random``
seeded by such a hash. ``pick`` and ``between`` stand in for ``choice`` and ``randint`` on the
hot path. Changing any of these changes every generated body.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final, TypeVar

T = TypeVar("T")

_M64: Final = (1 << 64) - 1
#: 2**64 / golden ratio: the usual odd constant for spreading consecutive integers over 64 bits
GOLDEN: Final = 0x9E3779B97F4A7C15


def mix64(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit integer hash."""
    x &= _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def stable_hash(*parts: int) -> int:
    """A 64-bit hash of integers that is the same in every process and Python run."""
    h = 0
    for part in parts:
        h = mix64(h + (part & _M64) * GOLDEN + GOLDEN)
    return h


def unit(h: int) -> float:
    """Map a 64-bit hash to [0, 1) using its top 53 bits (a double's mantissa)."""
    return (h >> 11) * (1.0 / (1 << 53))


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    """``rng.choice`` without its overhead (this runs ~30 times per generated product)."""
    return seq[int(rng.random() * len(seq))]


def between(rng: random.Random, low: int, high: int) -> int:
    """``rng.randint`` (both ends included) without its overhead."""
    return low + int(rng.random() * (high - low + 1))
