"""Configuration loading: defaults, the shipped file, environment overrides, every error kind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from marketplaced import config, platforms
from marketplaced.errors import ConfigError
from marketplaced.platforms.uzum.config import UzumConfig

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "marketplaced.toml"


def _problems(text: str, tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        platforms.load_config(env or {}, path)
    return info.value.problems


def test_shipped_file_documents_every_key_with_its_default() -> None:
    text = SHIPPED.read_text()
    loaded = platforms.load_config({}, SHIPPED)
    defaults = config.Config(
        platforms={p.name: p.config_section() for p in platforms.ALL}, source=loaded.source
    )
    assert loaded == defaults
    for dotted in platforms.documented_keys():
        section, key = dotted.split(".")
        block = text.split(f"[{section}]", 1)[1].split("\n[", 1)[0]
        assert re.search(rf"# .+\n{key} = ", block), f"{dotted} is not documented in {SHIPPED.name}"


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    problems = _problems("[uzum]\nrps = 5\nspeed = 3\n", tmp_path)
    assert len(problems) == 1
    assert "uzum.speed" in problems[0] and "c.toml" in problems[0]


def test_unknown_section(tmp_path: Path) -> None:
    assert "unknown section or key 'scanner'" in _problems("[scanner]\nx = 1\n", tmp_path)[0]


def test_wrong_type_and_range_are_all_reported(tmp_path: Path) -> None:
    problems = _problems('[uzum]\nrps = "fast"\nconcurrency = 0\n[log]\nlevel = "loud"\n', tmp_path)
    joined = "\n".join(problems)
    assert "'uzum.rps' must be a number, got str" in joined
    assert "'uzum.concurrency' = 0 is out of range" in joined
    assert "'log.level' = 'loud' is not one of" in joined
    assert len(problems) == 3


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    assert (
        "'uzum.concurrency' must be an integer"
        in _problems("[uzum]\nconcurrency = true\n", tmp_path)[0]
    )


def test_secret_in_file_is_rejected(tmp_path: Path) -> None:
    problem = _problems('[database]\npassword = "x"\n', tmp_path)[0]
    assert "database.password" in problem and "environment" in problem


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    assert "not valid TOML" in _problems("[uzum\n", tmp_path)[0]
    with pytest.raises(ConfigError, match="not found"):
        platforms.load_config({}, tmp_path / "nope.toml")


def test_environment_overrides_like_the_old_system() -> None:
    cfg = platforms.load_config(
        {
            "DB_HOST": "db.local",
            "DB_PORT": "6543",
            "DB_PASSWORD": "s3cret",
            "REDIS_DB": "3",
            "DOWNLOAD_CONCURRENCY": "7",
            "RPS_LIMIT": "12.5",
            "LOG_LEVEL": "WARNING",
            "UZUM_BASE_URL": "http://127.0.0.1:9/",
        },
        path=None,
    )
    assert (cfg.database.host, cfg.database.port, cfg.database.password) == (
        "db.local",
        6543,
        "s3cret",
    )
    assert (cfg.redis.db, cfg.section(UzumConfig).concurrency, cfg.section(UzumConfig).rps) == (
        3,
        7,
        12.5,
    )
    assert cfg.log.level == "warning"
    assert cfg.section(UzumConfig).base_url == "http://127.0.0.1:9/"
    assert "s3cret" not in repr(cfg)
    assert platforms.load_config({"DEBUG": "1"}, path=None).log.level == "debug"


def test_bad_environment_values_are_errors() -> None:
    with pytest.raises(ConfigError) as info:
        platforms.load_config({"DB_PORT": "http", "RPS_LIMIT": "-1"}, path=None)
    joined = "\n".join(info.value.problems)
    assert "DB_PORT='http' must be an integer" in joined
    assert "RPS_LIMIT" in joined and "out of range" in joined


def test_public_bind_requires_token(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[web]\nhost = "0.0.0.0"\n')
    with pytest.raises(ConfigError, match="needs authentication"):
        platforms.load_config({}, path)
    strong = "3f9c1a7e5b2d4c6e8a0b1d3f5e7c9a2b"  # 32 random hex digits
    assert platforms.load_config({"MARKETPLACED_WEB_TOKEN": strong}, path).web.host == "0.0.0.0"


def test_shard_is_validated(tmp_path: Path) -> None:
    assert "uzum.shard" in _problems('[uzum]\nshard = "3/2"\n', tmp_path)[0]
    assert "uzum.shard" in _problems('[uzum]\nshard = "two"\n', tmp_path)[0]


def test_diff_names_changed_keys() -> None:
    a = platforms.load_config({}, path=None)
    b = platforms.load_config({"RPS_LIMIT": "5", "LOG_LEVEL": "debug"}, path=None)
    assert config.diff(a, b) == ["log.level", "uzum.rps"]


def test_check_config_command_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[uzum]\nrps = -3\n")
    env = {"MARKETPLACED_CONFIG": str(bad), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "marketplaced.cli", "check-config"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 78
    assert "uzum.rps" in proc.stderr and str(bad) in proc.stderr
    env["MARKETPLACED_CONFIG"] = str(SHIPPED)
    proc = subprocess.run(
        [sys.executable, "-m", "marketplaced.cli", "check-config"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "configuration OK" in proc.stdout


def test_non_finite_numbers_are_refused_in_file_and_environment(tmp_path: Path) -> None:
    problems = _problems("[uzum]\nrps = nan\n[uzex]\ntimeout_s = inf\n", tmp_path)
    joined = "\n".join(problems)
    assert "'uzum.rps' = nan is not a finite number" in joined
    # inf is also out of range there; either way the key is named and the file refused
    assert "'uzex.timeout_s' = inf" in joined
    assert len(problems) == 2
    with pytest.raises(ConfigError) as info:
        platforms.load_config({"RPS_LIMIT": "nan"}, path=None)
    assert info.value.problems == ["environment RPS_LIMIT: 'uzum.rps' = nan is not a finite number"]
    problems = _problems("[daemon]\ndrain_s = -inf\n[jobs]\nmisfire_grace_s = nan\n", tmp_path)
    assert {p.split(": ", 1)[1].split(" =")[0] for p in problems} == {
        "'daemon.drain_s'",
        "'jobs.misfire_grace_s'",
    }


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = _problems(
        '[uzum]\nrps = "fast"\n[web]\nhost = "0.0.0.0"\n'
        '[jobs]\nanalytics_schedule = "61 3 * * *"\ntimezone = "Mars/Olympus"\n'
        '[alerts]\nrules = "explode all"\nnotify_urls = "tgram://x"\n',
        tmp_path,
    )
    joined = "\n".join(problems)
    for needle in (
        "'uzum.rps' must be a number",
        "'web.host' = '0.0.0.0' is not a loopback address",
        "'jobs.analytics_schedule' = '61 3 * * *'",
        "'jobs.timezone' = 'Mars/Olympus'",
        "'alerts.rules': rule 'explode all': unknown kind",
        "'alerts.notify_urls'",
    ):
        assert needle in joined, needle
    assert len(problems) == 6
    assert all(str(tmp_path / "c.toml") in p for p in problems)


def test_apprise_urls_are_checked_without_sending(tmp_path: Path) -> None:
    problems = _problems(
        '[alerts]\nnotify_urls = "json://127.0.0.1:9/hook, nonsense, tgram://secret-ish"\n',
        tmp_path,
    )
    assert len(problems) == 2
    assert "entry 2, (no scheme://)" in problems[0]
    assert "entry 3, tgram://…" in problems[1]
    assert "secret-ish" not in "\n".join(problems)  # URLs hold tokens: never echoed
    with pytest.raises(ConfigError) as info:
        platforms.load_config({"MARKETPLACED_NOTIFY_URLS": "foo://bar"}, path=None)
    assert "MARKETPLACED_NOTIFY_URLS (entry 1, foo://…)" in info.value.problems[0]
    good = platforms.load_config(
        {"MARKETPLACED_NOTIFY_URLS": "json://127.0.0.1:9/x mailto://u:p@x.org"}
    )
    assert good.alerts.notify_urls.startswith("json://")


def _unit_timeout_stop_s() -> float:
    unit = (SHIPPED.parents[1] / "systemd" / "marketplaced.service").read_text()
    match = re.search(r"^TimeoutStopSec=(\d+)s?$", unit, re.MULTILINE)
    assert match, "the unit sets TimeoutStopSec"
    return float(match.group(1))


def test_shutdown_budgets_fit_the_units_stop_timeout(tmp_path: Path) -> None:
    assert _unit_timeout_stop_s() == config.UNIT_TIMEOUT_STOP_S
    d = config.DaemonConfig()
    assert d.stop_intake_s + d.stop_jobs_s + d.drain_s + d.close_s < config.UNIT_TIMEOUT_STOP_S
    (problem,) = _problems("[daemon]\ndrain_s = 20.0\n", tmp_path)
    assert "shutdown stage budgets add up to 32 s" in problem
    assert "daemon.drain_s" in problem and "TimeoutStopSec=30" in problem
