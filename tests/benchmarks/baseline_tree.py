"""Another commit's code for a benchmark's baseline column (no package import of its own, so a
baseline's child process can use it while importing that commit's package)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def export(rev: str, out: Path) -> Path:
    """The package and migrations of commit ``rev``, extracted into the new directory ``out``
    (a daemon started in it, or with it first on the path, runs that commit's code)."""
    out.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "marketplaced", "sql"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out
