"""Reading the package's own source as syntax trees, for the tests that check its structure.

CPython 3.11 keeps the AST builder's recursion counter per interpreter, not per thread, so an
`ast.parse` that overlaps a `compile()` in another thread (a template engine, a library warming
up in a worker thread of an earlier test) can fail with "SystemError: AST constructor recursion
depth mismatch" although the file is fine (python/cpython#106905, fixed in 3.12). The clash is
momentary: parsing again succeeds, so that one error is retried a few times and nothing else is.
"""

from __future__ import annotations

import ast
from pathlib import Path

_ATTEMPTS = 5


def parse(path: Path) -> ast.Module:
    text = path.read_text(encoding="utf-8")
    for attempt in range(_ATTEMPTS):
        try:
            return ast.parse(text, filename=str(path))
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
