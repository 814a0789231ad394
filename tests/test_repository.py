"""The repository is self-contained: a fresh clone runs every test and reads every cited doc.

Everything the tests, the simulator and the docs use must live in the repository; a user who
clones it has nothing beside it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import recorded

ROOT = Path(__file__).resolve().parents[1]

#: what a file outside the repository looks like when code or docs point at it
OUTSIDE = re.compile(r"""\.\./shared|["']shared["']|(?<![\w/])upstreams\.md""")


def _project_files() -> list[Path]:
    files = [ROOT / "install.sh", ROOT / "README.md", ROOT / ".ci" / "run"]
    for folder in ("marketplaced", "tests", "docs", "config", "systemd"):
        files += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and p.suffix in {".py", ".md", ".toml", ".sh", ".service", ".html", ""}
        ]
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


def test_nothing_points_outside_the_repository() -> None:
    offenders = []
    for path in _project_files():
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_cited_docs_exist() -> None:
    cited = set()
    for path in _project_files():
        cited |= set(re.findall(r"\bdocs/[\w./-]+\.md\b", path.read_text(encoding="utf-8")))
    assert cited, "the code cites docs/upstreams.md at least"
    assert sorted(c for c in cited if not (ROOT / c).is_file()) == []


def test_recorded_payloads_are_in_the_repository() -> None:
    assert recorded.FIXTURES.is_relative_to(ROOT)
    assert recorded.uzum_json(1772350)["payload"]["data"]["id"] == 1772350
    assert recorded.uzex_json("trade_GetRegions.capture.json")


def _imported_modules(tree: ast.Module) -> list[str]:
    """Every module an import statement names, relative ones with their leading dots."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.append(base)
            # `from tests import test_x` and `from . import test_x` name the module in the alias
            if base in {"tests", "."}:
                names += [f"{base.rstrip('.')}.{alias.name}" for alias in node.names]
    return names


def test_no_test_module_imports_another() -> None:
    """Shared code lives in tests/conftest.py or tests/helpers/: a test module imported by another
    runs its module-level code twice and hands its fixtures to modules that never asked."""
    test_module = re.compile(r"^(tests)?\.test_\w+")
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        for name in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if test_module.match(name)
    ]
    assert offenders == []
