"""install.sh from the tests: its path, and `sourced`, which runs a script in bash after sourcing
it (install.sh then only defines its functions)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "install.sh"
BASH = shutil.which("bash") or "/bin/bash"


def sourced(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `script` in bash after sourcing install.sh (which then defines functions only)."""
    return subprocess.run(
        [BASH, "-c", f"source {shlex.quote(str(INSTALL))}\n{script}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
