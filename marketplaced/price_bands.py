"""Price bands: the so'm edges of `[jobs] price_bands`, parsed once, and their labels.

The analytics job stores per-category figures per band, and the dashboard's category overview
counts products per band; both take their edges from here, so they can never disagree.
Band b holds prices in [edges[b-1], edges[b]) — below the first edge is band 0, from the last
edge up the last band (PostgreSQL's width_bucket counts the same way).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence


def edges(text: str) -> tuple[int, ...]:
    """`"50000,100000"` → (50000, 100000): ascending, duplicates dropped (config validates the
    shape: digits and commas)."""
    return tuple(sorted({int(part) for part in text.split(",")}))


def labels(band_edges: Sequence[int]) -> tuple[str, ...]:
    """One label per band: "< 50k", "50k–100k", …, "≥ 5M" (len(edges) + 1 of them)."""
    if not band_edges:
        return ("all prices",)
    names = [_short(e) for e in band_edges]
    middle = [f"{lo}–{hi}" for lo, hi in itertools.pairwise(names)]
    return (f"< {names[0]}", *middle, f"≥ {names[-1]}")


def _short(amount: int) -> str:
    for size, unit in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if amount >= size:
            return f"{amount / size:g}{unit}"
    return str(amount)
