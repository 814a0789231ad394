"""The command wrapper install.sh writes: generated into a temporary directory with a stand-in
for the venv's `marketplaced` that reports who it runs as, then executed for real."""

from __future__ import annotations

import os
import pwd
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.install import sourced

#: an account with a group of the same name on every Debian system (like the one install.sh
#: creates); it plays the service user
SERVICE_USER = "daemon"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")


@pytest.fixture
def wrapper() -> Iterator[Path]:
    # not under pytest's tmp_path: its parents are private to root, and the service user must
    # reach the stand-in
    with tempfile.TemporaryDirectory() as tmp:
        yield _write_wrapper(Path(tmp))


def _write_wrapper(tmp_path: Path) -> Path:
    tmp_path.chmod(0o755)
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (tmp_path / "venv").chmod(0o755)
    venv_bin.chmod(0o755)
    stand_in = venv_bin / "marketplaced"
    stand_in.write_text('#!/bin/sh\necho "$(id -un) $*"\n')
    stand_in.chmod(0o755)
    env_file = tmp_path / "marketplaced.env"
    env_file.write_text("DB_PASSWORD=x\n")
    env_file.chmod(0o600)
    out = tmp_path / "marketplaced"
    q = shlex.quote
    result = sourced(
        f"SERVICE_USER={SERVICE_USER}; VENV={q(str(tmp_path / 'venv'))}; "
        f"WRAPPER={q(str(out))}; ENV_FILE={q(str(env_file))}; "
        f"CONFIG_FILE={q(str(tmp_path / 'c.toml'))}; STATE_DIR={q(str(tmp_path))}; wrapper"
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize(
    ("command", "runs_as"),
    [
        ("demo", SERVICE_USER),
        ("run", SERVICE_USER),
        ("download", SERVICE_USER),
        ("status", "root"),  # read-only commands keep root, which can read the env file
    ],
)
def test_wrapper_drops_root_for_long_running_commands(
    wrapper: Path, command: str, runs_as: str
) -> None:
    pwd.getpwnam(SERVICE_USER)  # KeyError here: not a Debian-like system
    result = subprocess.run(
        [str(wrapper), command, "--keep"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [runs_as, command, "--keep"]
