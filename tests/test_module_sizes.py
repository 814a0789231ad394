"""Modules stay small enough to read: one concern each, a few hundred lines at most.

A module that grows past this has started to hold a second noun (the parsers once held field
checks, SKUs and the product walk in one 650-line file, the fetcher its policy, decoding,
limits, breaker and counters); it is split, not stretched.
"""

from __future__ import annotations

from pathlib import Path

import marketplaced

PACKAGE = Path(marketplaced.__file__).resolve().parent
#: "a few hundred lines": the limit the architecture notes set for a module
MAX_LINES = 500


def _oversized(root: Path) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}: {lines} lines"
        for path in sorted(root.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]


def test_no_platform_module_is_over_the_limit() -> None:
    assert _oversized(PACKAGE / "platforms") == []


def test_no_module_of_the_package_is_over_the_limit() -> None:
    # the fetcher was one 985-line module; it is the marketplaced.http package now
    assert _oversized(PACKAGE) == []
