"""The repository is self-contained: a fresh clone runs every test and reads every cited doc.

Everything the tests, the simulator and the docs use must live in the repository; a user who
clones it has nothing beside it.
"""

from __future__ import annotations

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
