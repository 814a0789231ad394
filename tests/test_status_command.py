"""`marketplaced status`: live state kept per database in Redis, the daemon judged by the age of
its heartbeat (a killed daemon is down at once, not "scanning" until its keys expire), a jobs
section, and an exit status scripts can use (0 running, 3 not running, 4 unknown)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import tzinfo
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from marketplaced import report
from marketplaced.config import Config, DatabaseConfig
from marketplaced.jobs import triggers
from marketplaced.live_state import LiveState, heartbeat_limit_s
from tests.helpers import daemon
from tests.helpers.daemon import DaemonProcess
from tests.helpers.daemon import config as scan_config

from .conftest import base_config

# the subprocess simulator fixture of tests/helpers/daemon.py, for this module's tests
simulator = daemon.simulator


async def test_live_state_is_kept_per_database(redis_client: aioredis.Redis) -> None:
    prod = base_config(database={"name": "shop"})
    staging = base_config(database={"name": "shop_staging"})
    other_host = dataclasses.replace(prod, database=dataclasses.replace(prod.database, port=6543))
    published_at = 1_000_000.0
    live = LiveState.of(redis_client, prod, clock=lambda: published_at)
    await live.publish("scanner", "uzum.products", {"state": "scanning", "cycle": 2})
    await live.publish("service", "daemon", {"pid": 42})
    assert await live.read_all("scanner") == {
        "uzum.products": {"state": "scanning", "cycle": 2, "heartbeat": published_at}
    }
    for elsewhere in (staging, other_host):
        assert await LiveState.of(redis_client, elsewhere).read_all("scanner") == {}
        assert await LiveState.of(redis_client, elsewhere).read_all("service") == {}
    # every key this daemon wrote carries its database
    keys = {k.decode() for k in await redis_client.keys("*")}
    assert keys and all(f"/{prod.database.name}:" in k for k in keys), keys


async def test_the_report_judges_the_daemon_by_its_heartbeat_age(
    redis_client: aioredis.Redis, fresh_db: DatabaseConfig
) -> None:
    cfg = base_config(database=dataclasses.asdict(fresh_db), daemon={"status_interval_s": 10.0})
    assert heartbeat_limit_s(cfg) == 30.0
    now = [5_000_000.0]
    live = LiveState.of(redis_client, cfg, clock=lambda: now[0])
    before = await report.gather(cfg, clock=lambda: now[0])
    assert (before.state, before.exit_code) == ("not running", 3)
    await live.publish("service", "daemon", {"pid": 7, "started_at": now[0] - 7200})
    await live.publish("scanner", "uzum.products", {"state": "scanning", "stale_s": 0.0})
    await live.publish("job", "analytics", {"schedule": "cron: 0 3 * * *", "next_run_at": now[0]})
    now[0] += 25  # within three publication intervals
    up = await report.gather(cfg, clock=lambda: now[0])
    assert (up.state, up.exit_code) == ("running", 0)
    text = "\n".join(report.lines(up, _tz(cfg)))
    assert "daemon: running (pid 7, up 2 h, heartbeat 25 s ago)" in text
    assert "uzum.products: scanning" in text and "(heartbeat 25 s ago)" in text
    assert "job analytics: cron: 0 3 * * *  next " in text
    now[0] += 60  # its keys are still there (TTL), its heartbeat is not fresh
    down = await report.gather(cfg, clock=lambda: now[0])
    assert (down.state, down.exit_code) == ("down", 3)
    text = "\n".join(report.lines(down, _tz(cfg)))
    assert "daemon: DOWN — last heartbeat 1 min ago (pid 7" in text
    assert "uzum.products: last reported scanning 1 min ago" in text
    assert "next: unknown while the daemon is not running" in text
    assert report.as_json(down)["daemon"]["heartbeat_age_s"] == 85.0


def _tz(cfg: Config) -> tzinfo:
    return triggers.timezone(cfg.jobs.timezone)


def run_status(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "marketplaced.cli", "status", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def wait_status(
    env: Mapping[str, str],
    done: Callable[[subprocess.CompletedProcess[str]], bool],
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + timeout
    while True:
        result = run_status(env)
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


@pytest.mark.slow
def test_status_of_a_running_then_killed_daemon_and_of_another_database(
    tmp_path: Path, fresh_db: DatabaseConfig, empty_db: DatabaseConfig, simulator: str
) -> None:
    # each daemon test has its own database, hence its own live keys: nothing another test's
    # daemon publishes in the same Redis can show here
    d = DaemonProcess(tmp_path, fresh_db, scan_config(rps=20), {"UZUM_BASE_URL": simulator})
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        running = wait_status(
            d.env, lambda r: r.returncode == 0 and "uzum.products: scanning" in r.stdout, 30
        )
        assert running.returncode == 0, running.stdout + running.stderr
        assert "daemon: running (pid " in running.stdout, running.stdout
        assert "job analytics: " in running.stdout and "job health: " in running.stdout
        assert "writer: queue" in running.stdout
        data = json.loads(run_status(d.env, "--json").stdout)
        assert data["daemon"]["state"] == "running"
        assert data["scanners"]["uzum.products"]["heartbeat_age_s"] is not None
        # the same Redis, another database: that database has no daemon
        other = run_status({**d.env, "DB_NAME": empty_db.name})
        assert other.returncode == 3, other.stdout + other.stderr
        assert "daemon: not running" in other.stdout and "uzum.products" not in other.stdout
        assert d.proc is not None
        d.proc.kill()
        d.proc.wait(10)
        dead = wait_status(d.env, lambda r: r.returncode != 0, 30)
        assert dead.returncode == 3, dead.stdout + dead.stderr
        assert "daemon: DOWN — last heartbeat" in dead.stdout, dead.stdout
        assert "uzum.products: last reported scanning" in dead.stdout
    finally:
        d.stop()
