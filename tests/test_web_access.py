"""Who may reach the dashboard: loopback by parsed address, a strong token everywhere else,
trusted proxies as addresses — checked by `check-config` (the real command) and `config.load`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketplaced import access, config, platforms
from marketplaced.errors import ConfigError
from tests.helpers.install import sourced

STRONG = "9d4b0e6f1a3c5e7d2b8f0a4c6e1d3b5f7a9c"


def _problems(tmp_path: Path, toml: str, token: str | None) -> list[str]:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    env = {} if token is None else {"MARKETPLACED_WEB_TOKEN": token}
    try:
        platforms.load_config(env, path)
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize(
    "host", ["127.evil.example", "127.0.0.1.example.com", "localhost.evil.example", "0.0.0.0", "::"]
)
def test_host_names_and_public_addresses_need_a_token(tmp_path: Path, host: str) -> None:
    problems = _problems(tmp_path, f'[web]\nhost = "{host}"\n', None)
    assert len(problems) == 1 and "is not a loopback address" in problems[0], problems
    assert "MARKETPLACED_WEB_TOKEN" in problems[0]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1"])
def test_loopback_addresses_need_no_token(tmp_path: Path, host: str) -> None:
    assert _problems(tmp_path, f'[web]\nhost = "{host}"\n', None) == []


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("a", "is 1 characters long; at least 32"),
        (" ", "white space"),
        (STRONG + " ", "white space"),
        ("t" * 32, "0.0 bits per character"),
        ("ab" * 20, "1.0 bits per character"),
        ("password" * 4, "repeats a 8-character pattern"),
        ("x" * 2000, "at most 1024"),
    ],
)
def test_weak_token_on_a_public_address_is_refused_with_the_rule(
    tmp_path: Path, token: str, reason: str
) -> None:
    problems = _problems(tmp_path, '[web]\nhost = "0.0.0.0"\n', token)
    assert len(problems) == 1 and reason in problems[0], problems
    assert "openssl rand -hex 24" in problems[0]
    assert token.strip() not in problems[0] or len(token.strip()) <= 1  # never echo the secret


def test_weak_token_is_fine_on_loopback(tmp_path: Path) -> None:
    assert _problems(tmp_path, '[web]\nhost = "127.0.0.1"\n', "a") == []


def test_check_config_refuses_a_weak_token_on_a_public_address(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[web]\nhost = "0.0.0.0"\n')
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MARKETPLACED_", "DB_", "REDIS_"))
    }
    run = [sys.executable, "-m", "marketplaced.cli", "check-config"]
    weak = subprocess.run(
        run,
        env={**env, "MARKETPLACED_CONFIG": str(path), "MARKETPLACED_WEB_TOKEN": " "},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert weak.returncode == config.EX_CONFIG, weak.stderr
    assert "white space" in weak.stderr
    ok = subprocess.run(
        run,
        env={**env, "MARKETPLACED_CONFIG": str(path), "MARKETPLACED_WEB_TOKEN": STRONG},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr


def test_install_generated_tokens_pass_the_rule() -> None:
    result = sourced("for i in $(seq 50); do gen_secret; done")
    tokens = result.stdout.split()
    assert len(tokens) == 50
    assert [t for t in tokens if access.token_problem(t)] == []


def test_trusted_proxies_must_be_addresses(tmp_path: Path) -> None:
    assert _problems(tmp_path, '[web]\ntrusted_proxies = "127.0.0.1, 10.0.0.0/8 ::1"\n', None) == []
    problems = _problems(tmp_path, '[web]\ntrusted_proxies = "127.0.0.1, proxy.lan"\n', None)
    assert len(problems) == 1 and "'proxy.lan' is not an IP address" in problems[0]


@pytest.mark.parametrize(
    ("authority", "host", "loopback"),
    [
        ("127.0.0.1:8080", "127.0.0.1", True),
        ("[::1]:8080", "::1", True),
        ("localhost", "localhost", True),
        ("127.evil.example:8080", "127.evil.example", False),
        ("127.0.0.1.example.com", "127.0.0.1.example.com", False),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1", True),
        ("evil.example", "evil.example", False),
    ],
)
def test_host_header_parsing(authority: str, host: str, loopback: bool) -> None:
    assert access.host_of(authority) == host
    assert access.is_loopback(access.host_of(authority)) is loopback
