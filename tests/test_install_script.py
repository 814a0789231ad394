"""install.sh without provisioning anything: syntax, flags, the test-mode verdicts, and that its
paths agree with the systemd unit, .ci/run and the README's Quick start."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers.install import BASH, INSTALL, REPO, sourced


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(INSTALL), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_syntax() -> None:
    result = subprocess.run([BASH, "-n", str(INSTALL)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_strict_mode_and_err_trap() -> None:
    text = INSTALL.read_text()
    assert "set -Eeuo pipefail" in text
    assert re.search(r"^trap .*ERR$", text, re.M)


def test_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    for flag in ("--test", "--no-service", "--help"):
        assert flag in result.stdout


@pytest.mark.parametrize("args", [("--bogus",), ("--", "-k", "x"), ("--no-service", "--", "-x")])
def test_bad_arguments_exit_2_with_one_line(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""


def test_parse_args_passes_pytest_arguments_through() -> None:
    result = sourced(
        'parse_args --test -- -k "a b" -x; echo "$MODE"; printf "<%s>" "${PYTEST_ARGS[@]}"'
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["test", "<-k><a b><-x>"]


def test_generated_secrets_are_fresh_hex() -> None:
    result = sourced("gen_secret; gen_secret")
    first, second = result.stdout.split()
    assert re.fullmatch(r"[0-9a-f]{48}", first)
    assert first != second


def test_env_get_reads_without_evaluating(tmp_path: Path) -> None:
    env = tmp_path / "x.env"
    env.write_text("# c\nDB_PASSWORD=$(touch pwned)\nDB_PORT=5433\nDB_PORT=5434\n")
    result = sourced(f"env_get {env} DB_PORT; env_get {env} DB_PASSWORD; env_get {env} NOPE")
    assert result.stdout.splitlines() == ["5434", "$(touch pwned)"]
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("ruff", "mypy", "pytest_rc", "ok", "message"),
    [
        (0, 0, 0, True, "all checks passed"),
        (0, 0, 5, False, "collected no tests"),
        (0, 0, 1, False, "pytest failed"),
        (1, 0, 0, False, 'FAILED in step "ruff'),
        (0, 1, 0, False, 'FAILED in step "mypy"'),
    ],
)
def test_test_mode_verdicts(
    tmp_path: Path, ruff: int, mypy: int, pytest_rc: int, ok: bool, message: str
) -> None:
    # Fake tools in a fake venv: the verdict logic is what is under test, not the tools.
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool, rc in (("ruff", ruff), ("mypy", mypy), ("pytest", pytest_rc)):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho {tool} "$@"\nexit {rc}\n')
        (bin_dir / tool).chmod(0o755)
    env_file = tmp_path / ".env.test"
    env_file.write_text("REDIS_DB=15\n")
    result = sourced(
        f"REPO={tmp_path}; TEST_VENV={tmp_path / 'venv'}; TEST_ENV_FILE={env_file}; "
        "PYTEST_ARGS=(-k x); run_checks_and_tests"
    )
    assert (result.returncode == 0) is ok, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    if ruff == mypy == 0:
        assert "pytest -k x" in result.stdout  # extra arguments reach pytest


def test_paths_agree_with_the_unit() -> None:
    text = INSTALL.read_text()
    unit = (REPO / "systemd" / "marketplaced.service").read_text()
    venv = re.search(r"^VENV=\$PREFIX/(\S+)", text, re.M)
    prefix = re.search(r"^PREFIX=(\S+)", text, re.M)
    env_file = re.search(r"^ENV_FILE=\$ETC_DIR/(\S+)", text, re.M)
    etc = re.search(r"^ETC_DIR=(\S+)", text, re.M)
    assert venv
    assert prefix
    assert env_file
    assert etc
    assert f"ExecStart={prefix[1]}/{venv[1]}/bin/marketplaced run" in unit
    assert f"EnvironmentFile={etc[1]}/{env_file[1]}" in unit


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^exec bash \./install\.sh --test\b", ci, re.M)


def test_readme_quick_start_is_exactly_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\w*\n(.*?)```", section, re.S)
    assert block
    assert block[1].strip().splitlines() == ["sudo ./install.sh", "./install.sh --test"]


def _settings(text: str) -> dict[str, str]:
    pairs = (line.split(" = ", 1) for line in text.splitlines() if line and line[0] != "#")
    return dict(pairs)


@pytest.mark.parametrize(
    ("mem_kib", "disk_kib", "expected"),
    [
        # this kind of machine: 24 GB of memory, 63 GB free
        (24_683_584, 66_060_288, ("6026MB", "18078MB", "1024MB", "6GB")),
        # a small VPS: 1 GB, 5 GB free (the floors)
        (1_048_576, 5_242_880, ("256MB", "768MB", "64MB", "1GB")),
        # a big server: 128 GB, 2 TB free (the caps)
        (134_217_728, 2_147_483_648, ("8192MB", "98304MB", "1024MB", "8GB")),
    ],
)
def test_postgresql_settings_are_sized_to_the_host(
    mem_kib: int, disk_kib: int, expected: tuple[str, ...]
) -> None:
    result = sourced(f"pg_tuning {mem_kib} {disk_kib}")
    assert result.returncode == 0, result.stderr
    got = _settings(result.stdout)
    keys = ("shared_buffers", "effective_cache_size", "maintenance_work_mem", "max_wal_size")
    assert tuple(got[k] for k in keys) == expected
    assert got["checkpoint_timeout"] == "15min" and got["wal_compression"] == "on"


def test_postgresql_settings_are_written_once_and_kept(tmp_path: Path) -> None:
    conf_d = tmp_path / "15" / "main" / "conf.d"
    conf_d.mkdir(parents=True)
    file = conf_d / "50-marketplaced.conf"
    first = sourced(f"write_pg_tuning {conf_d}")
    assert first.returncode == 0, first.stderr  # written: the caller restarts the cluster
    assert "shared_buffers" in _settings(file.read_text())
    file.write_text("shared_buffers = 2GB\n")  # the operator's own choice
    again = sourced(f"write_pg_tuning {conf_d}")
    assert again.returncode == 1 and "kept" in again.stdout  # no restart
    assert file.read_text() == "shared_buffers = 2GB\n"
    file.unlink()
    off = sourced(f"PG_TUNING=0; write_pg_tuning {conf_d}")
    assert off.returncode == 1 and "--no-pg-tuning" in off.stdout
    assert not file.exists()
    missing = sourced(f"write_pg_tuning {tmp_path / 'nowhere'}")
    assert missing.returncode == 1 and not (tmp_path / "nowhere").exists()


def test_no_pg_tuning_flag_is_parsed() -> None:
    result = sourced(
        'parse_args --test --no-pg-tuning -- -k x; echo "$MODE $PG_TUNING ${PYTEST_ARGS[*]}"'
    )
    assert result.stdout.split() == ["test", "0", "-k", "x"]
