"""The one-shot runner is core: it knows no platform, so platforms can import it at module level
and nothing needs an import inside a function to get around a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import marketplaced
from tests.helpers import source

ROOT = Path(marketplaced.__file__).parent


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """(every module `path` imports, the ones imported inside a function)."""
    tree = source.parse(path)
    every: set[str] = set()
    nested: list[str] = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.module:
                    nested.append(f"{path.name}:{node.lineno} {node.module}")
                elif isinstance(node, ast.Import):
                    nested += [f"{path.name}:{node.lineno} {a.name}" for a in node.names]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            every.add(node.module)
            every.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            every.update(a.name for a in node.names)
    return every, nested


def test_the_one_shot_runner_imports_no_platform() -> None:
    every, nested = _imports(ROOT / "runtime.py")
    assert not [m for m in every if m.startswith("marketplaced.platforms")]
    assert nested == []


def test_platform_packages_import_at_module_level_only() -> None:
    nested = [n for p in sorted((ROOT / "platforms").rglob("*.py")) for n in _imports(p)[1]]
    assert nested == []
