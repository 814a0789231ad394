"""The systemd unit: `systemd-analyze verify` accepts it, `security` rates it 2.0 or lower,
and the directives the daemon's lifecycle depends on are present."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "marketplaced.service"
PRODUCTION_BINARY = "/opt/marketplaced/venv/bin/marketplaced"
MAX_EXPOSURE = 2.0  # "OK" or better in systemd-analyze's scale; the issue asks for <= 2.0

# Messages `systemd-analyze verify` may print for this unit that are expected and harmless.
# systemd 252 prints none for it (it does not check that User= exists or that EnvironmentFile=
# is readable); add an exact line here only with a comment saying why it is harmless.
ACCEPTED_VERIFY_MESSAGES: frozenset[str] = frozenset()

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (package systemd)"
)


def directives(text: str) -> dict[str, list[str]]:
    """Key → values (in order) of the [Service] and [Unit] sections of a unit file."""
    found: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not a KEY=VALUE line in {UNIT.name}: {raw!r}"
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def installed_binary() -> Path:
    """The test venv's real `marketplaced` console script."""
    candidates = [Path(sys.executable).parent / "marketplaced"]
    if which := shutil.which("marketplaced"):
        candidates.append(Path(which))
    for path in candidates:
        if path.is_file():
            return path
    pytest.fail("no `marketplaced` console script next to the test interpreter: pip install -e .")


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    return subprocess.run(
        [SYSTEMD_ANALYZE, *args], capture_output=True, text=True, timeout=60, check=False
    )


def exposure(unit: Path) -> float:
    result = analyze("security", "--offline=yes", "--no-pager", str(unit))
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, f"no exposure level in output:\n{result.stdout}\n{result.stderr}"
    return float(match.group(1))


def verify(unit: Path) -> tuple[int, list[str]]:
    result = analyze("verify", "--no-pager", str(unit))
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    return result.returncode, [ln for ln in lines if ln not in ACCEPTED_VERIFY_MESSAGES]


def unit_with_binary(tmp_path: Path, text: str) -> Path:
    # `verify` checks that ExecStart=/ExecReload= binaries exist and are executable, and the
    # production path (/opt/marketplaced/venv) exists only on an installed host. So a copy of
    # the unit gets ONLY that path replaced by the test venv's real console script; every other
    # line is verified exactly as shipped.
    assert PRODUCTION_BINARY in text
    copy = tmp_path / UNIT.name  # the name matters: verify derives the unit type from it
    copy.write_text(text.replace(PRODUCTION_BINARY, str(installed_binary())))
    return copy


def test_verify_accepts_the_unit(tmp_path: Path) -> None:
    rc, messages = verify(unit_with_binary(tmp_path, UNIT.read_text()))
    assert (rc, messages) == (0, []), "systemd-analyze verify complained:\n" + "\n".join(messages)


def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    # The check above has teeth: a typo in a directive and a missing binary are both reported.
    broken = UNIT.read_text().replace("Type=notify", "Type=notfy")
    broken = broken.replace("ExecReload=/bin/kill", "ExecReload=/bin/no-such-kill")
    rc, messages = verify(unit_with_binary(tmp_path, broken))
    assert rc != 0
    assert any("notfy" in m for m in messages), messages
    assert any("no-such-kill" in m for m in messages), messages


def test_security_exposure_is_ok() -> None:
    level = exposure(UNIT)
    assert level <= MAX_EXPOSURE, f"exposure {level} > {MAX_EXPOSURE}: hardening was weakened"


def test_security_check_would_catch_a_weak_unit(tmp_path: Path) -> None:
    weak = tmp_path / UNIT.name
    weak.write_text(f"[Service]\nType=notify\nExecStart={PRODUCTION_BINARY} run\n")
    assert exposure(weak) > MAX_EXPOSURE


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecStart", f"{PRODUCTION_BINARY} run"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("WatchdogSec", "30"),
        ("Restart", "on-failure"),
        ("RestartPreventExitStatus", "78"),
        ("TimeoutStartSec", "120"),
        ("TimeoutStopSec", "30"),
        ("EnvironmentFile", "/etc/marketplaced/marketplaced.env"),
        ("Environment", "MARKETPLACED_CONFIG=/etc/marketplaced/marketplaced.toml"),
        ("User", "marketplaced"),
        ("Group", "marketplaced"),
        ("StateDirectory", "marketplaced"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("WantedBy", "multi-user.target"),
    ],
)
def test_key_directive(key: str, value: str) -> None:
    assert value in directives(UNIT.read_text()).get(key, []), f"{key}={value} missing"


def test_waits_for_its_services() -> None:
    found = directives(UNIT.read_text())
    for key in ("After", "Wants"):
        names = " ".join(found.get(key, [])).split()
        for unit in ("network-online.target", "postgresql.service", "redis-server.service"):
            assert unit in names, f"{unit} missing from {key}="
