"""SIGHUP and the configuration: every key is either applied live or reported as needing a
restart (log, STATUS=, live state, `marketplaced status`); non-finite numbers are refused at
start-up (exit 78) and on reload (the daemon keeps running)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from marketplaced import config, platforms, reloadable, report
from marketplaced.config import DatabaseConfig
from marketplaced.platforms.uzum.config import UzumConfig
from tests.helpers.daemon import DaemonProcess

from .conftest import base_config

CONFIG = """
[daemon]
status_interval_s = 0.5
[uzum]
enabled = false
[uzex]
enabled = false
[web]
enabled = false
"""


def _every_core_key() -> list[str]:
    keys = []
    for section in dataclasses.fields(config.Config):
        if section.name in ("source", "platforms"):
            continue
        keys += [f"{section.name}.{f.name}" for f in dataclasses.fields(section.default_factory())]  # type: ignore[misc]
    return keys


def test_every_config_key_is_classified_live_or_restart() -> None:
    keys = _every_core_key()
    assert "database.password" in keys and "web.token" in keys  # secrets too
    unclassified = [k for k in keys if k not in reloadable.LIVE and k not in reloadable.RESTART]
    assert unclassified == [], f"say whether SIGHUP applies these: {unclassified}"
    assert reloadable.LIVE.isdisjoint(reloadable.RESTART)
    stale = (reloadable.LIVE | reloadable.RESTART) - set(keys)
    assert not stale, f"classified keys that no longer exist: {stale}"
    # a platform's section names its restart-only keys; each must exist, and they count
    cfg = base_config()
    for platform in platforms.ALL:
        section = platform.config_section
        names = {f.name for f in dataclasses.fields(section)}  # type: ignore[arg-type]
        assert names >= section.RESTART_KEYS, (section, section.RESTART_KEYS - names)
        for name in names:
            key = f"{section.SECTION}.{name}"
            assert reloadable.is_live(key, cfg) == (name not in section.RESTART_KEYS), key
    assert not reloadable.is_live("uzum.max_stale_s", cfg) and reloadable.is_live("uzum.rps", cfg)


def test_effective_config_keeps_restart_only_values() -> None:
    running = base_config()
    new = base_config(writer={"batch_max": 5}, uzum={"rps": 7.0}, log={"format": "json"})
    assert reloadable.restart_needed(running, new) == ["log.format", "writer.batch_max"]
    applied = reloadable.effective(running, new)
    assert applied.section(UzumConfig).rps == 7.0
    assert applied.writer == running.writer and applied.log.format == running.log.format
    assert config.diff(running, applied) == ["uzum.rps"]


@pytest.fixture
def daemon(tmp_path: Path, fresh_db: DatabaseConfig) -> Iterator[DaemonProcess]:
    d = DaemonProcess(tmp_path, fresh_db, CONFIG)
    yield d
    d.stop()


async def test_reload_reports_what_needs_a_restart_and_refuses_nan(
    daemon: DaemonProcess, fresh_db: DatabaseConfig
) -> None:
    daemon.start()
    n = daemon.notify
    assert n.wait_for(lambda m: "READY=1" in m, 30), daemon.log()

    mark = len(daemon.log())
    daemon.config.write_text(
        CONFIG + '[writer]\nbatch_max = 5\n[archive]\nenabled = true\n[log]\nlevel = "debug"\n'
    )
    daemon.signal(signal.SIGHUP)
    assert daemon.wait_log("config_reloaded", 10, after=mark), daemon.log()[mark:]
    tail = daemon.log()[mark:]
    restart_line = next(line for line in tail.splitlines() if '"event": "restart_needed"' in line)
    assert "writer.batch_max" in restart_line and "archive.enabled" in restart_line
    reloaded = next(line for line in tail.splitlines() if "config_reloaded" in line)
    assert "log.level" in reloaded  # applied live ...
    assert '"changed": ["log.level"]' in reloaded  # ... these are not
    assert n.wait_for(
        lambda m: any("restart needed for archive.enabled, writer.batch_max" in x for x in m), 10
    ), [m for m in n.messages if m.startswith("STATUS=")][-3:]

    cfg = base_config(database=dataclasses.asdict(fresh_db))
    published: object = None
    for _ in range(100):  # the next status round publishes it (every 0.5 s here)
        status = await report.gather(cfg)
        published = (status.daemon or {}).get("restart_needed")
        if published:
            break
        await asyncio.sleep(0.1)
    assert published == ["archive.enabled", "writer.batch_max"]
    shown = report.lines(status, ZoneInfo("UTC"))
    assert "restart needed to apply: archive.enabled, writer.batch_max" in "\n".join(shown)

    # nan in a float setting: rejected naming the key; the daemon keeps running on the old one
    mark = len(daemon.log())
    daemon.config.write_text(CONFIG.replace("[uzum]\n", "[uzum]\nrps = nan\n"))
    daemon.signal(signal.SIGHUP)
    assert daemon.wait_log("config_rejected", 10, after=mark), daemon.log()[mark:]
    assert "'uzum.rps' = nan is not a finite number" in daemon.log()[mark:]
    pings = n.count("READY=1")
    daemon.config.write_text(CONFIG)  # back to what runs: nothing needs a restart any more
    mark = len(daemon.log())
    daemon.signal(signal.SIGHUP)
    assert daemon.wait_log("config_reloaded", 10, after=mark), daemon.log()[mark:]
    assert daemon.proc is not None and daemon.proc.poll() is None
    assert n.count("READY=1") > pings
    assert '"event": "restart_needed"' not in daemon.log()[mark:]
    assert '"restart_needed": []' in daemon.log()[mark:]

    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.log()[-2000:]


def test_nan_at_startup_exits_78(tmp_path: Path, fresh_db: DatabaseConfig) -> None:
    d = DaemonProcess(
        tmp_path, fresh_db, CONFIG.replace("[uzex]\n", "[uzex]\nblocked_backoff_h = nan\n")
    )
    try:
        d.start()
        assert d.wait(30) == 78, d.log()
        assert "'uzex.blocked_backoff_h' = nan is not a finite number" in d.log()
    finally:
        d.stop()
    proc = subprocess.run(
        [sys.executable, "-m", "marketplaced.cli", "check-config"],
        env={**d.env, "RPS_LIMIT": "inf"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 78
    assert "RPS_LIMIT" in proc.stderr and "blocked_backoff_h" in proc.stderr
