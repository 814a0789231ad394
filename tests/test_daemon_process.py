"""The real daemon as a subprocess: sd_notify READY/WATCHDOG/RELOADING/STOPPING, SIGHUP reload
(log level really changes; a broken file is rejected and the daemon keeps running), SIGTERM
within its budget, bad config at start-up → 78, journald priority prefixes."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplaced.config import DatabaseConfig
from tests.helpers.daemon import DaemonProcess

CONFIG = """
[daemon]
status_interval_s = 0.5
[log]
level = "{level}"
[uzum]
enabled = false
[uzex]
enabled = false
[web]
enabled = false
"""


@pytest.fixture
def daemon(tmp_path: Path, fresh_db: DatabaseConfig) -> Iterator[DaemonProcess]:
    # JOURNAL_STREAM set: the daemon must render journald priority prefixes
    d = DaemonProcess(
        tmp_path,
        fresh_db,
        CONFIG.format(level="info"),
        {"WATCHDOG_USEC": "400000", "JOURNAL_STREAM": "8:12345"},
    )
    yield d
    d.stop()


def test_lifecycle_ready_watchdog_reload_stop(daemon: DaemonProcess) -> None:
    daemon.start()
    n = daemon.notify
    assert n.wait_for(lambda m: "READY=1" in m, 30), daemon.log()
    assert n.wait_for(lambda m: m.count("WATCHDOG=1") >= 3, 5), "watchdog pings missing"
    assert any(m.startswith("STATUS=") for m in n.messages)
    assert "status_published" not in daemon.log()  # debug lines hidden at level info

    # SIGHUP with a new level: RELOADING=1 then READY=1, and debug lines start to appear
    mark = len(daemon.log())
    daemon.config.write_text(CONFIG.format(level="debug"))
    ready_before = n.count("READY=1")
    daemon.signal(signal.SIGHUP)
    assert n.wait_for(lambda m: "RELOADING=1" in m and m.count("READY=1") > ready_before, 10)
    assert daemon.wait_log("config_reloaded", 5, after=mark)
    assert daemon.wait_log("status_published", 5, after=mark), daemon.log()[mark:]

    # a broken file is rejected with the reason; the daemon keeps running on the old config
    mark = len(daemon.log())
    daemon.config.write_text('[uzum]\nrps = "fast"\n')
    daemon.signal(signal.SIGHUP)
    assert daemon.wait_log("config_rejected", 10, after=mark), daemon.log()[mark:]
    assert "uzum.rps" in daemon.log()[mark:]
    pings = n.count("WATCHDOG=1")
    time.sleep(1.0)
    assert n.count("WATCHDOG=1") > pings  # still alive and pinging
    assert daemon.proc is not None and daemon.proc.poll() is None

    # journald priorities: <3> for the rejection, <6> info, <7> debug
    lines = daemon.log().splitlines()
    assert any(line.startswith("<3>") and "config_rejected" in line for line in lines)
    assert any(line.startswith("<6>") and "daemon_ready" in line for line in lines)
    assert any(line.startswith("<7>") and "status_published" in line for line in lines)

    # SIGTERM: STOPPING=1 and exit 0 well within TimeoutStopSec (30 s)
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.log()[-2000:]
    took = time.monotonic() - started
    assert took < 25
    assert "STOPPING=1" in n.messages or n.wait_for(lambda m: "STOPPING=1" in m, 1)
    assert "shutdown_stage_done" in daemon.log()


def test_bad_config_at_startup_exits_78_naming_the_key(
    tmp_path: Path, fresh_db: DatabaseConfig
) -> None:
    d = DaemonProcess(tmp_path, fresh_db, "[writer]\nqueue_max = 1\n")
    try:
        d.start()
        assert d.wait(30) == 78
        out = d.log()
        assert "writer.queue_max" in out and str(d.config) in out
        assert "READY=1" not in d.notify.messages
    finally:
        d.stop()


def test_old_schema_is_refused_with_instruction(tmp_path: Path, empty_db: DatabaseConfig) -> None:
    d = DaemonProcess(tmp_path, empty_db, CONFIG.format(level="info"))
    try:
        d.start()
        assert d.wait(30) != 0
        assert re.search(r"marketplaced migrate", d.log())
    finally:
        d.stop()


def test_dashboard_is_served_by_the_daemon(tmp_path: Path, fresh_db: DatabaseConfig) -> None:
    import json
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = CONFIG.format(level="info").replace("[web]\nenabled = false", f"[web]\nport = {port}")
    d = DaemonProcess(tmp_path, fresh_db, text)
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        base = f"http://127.0.0.1:{port}"
        page = urllib.request.urlopen(base + "/", timeout=10).read().decode()
        assert "Status" in page
        try:
            health = urllib.request.urlopen(base + "/healthz", timeout=10)
            code, body = health.status, health.read()
        except urllib.error.HTTPError as err:  # 503 carries its reasons too
            code, body = err.code, err.read()
        assert code in (200, 503)
        verdict = json.loads(body)
        assert verdict["status"] == ("ok" if code == 200 else "fail")
        assert isinstance(verdict["reasons"], list)
        api = json.loads(urllib.request.urlopen(base + "/api/v1/status", timeout=10).read())
        assert "scanners" in api
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()


def test_redis_down_the_daemon_runs_and_says_so(tmp_path: Path, fresh_db: DatabaseConfig) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = str(s.getsockname()[1])
    text = CONFIG.format(level="info").replace("[daemon]\n", "[daemon]\nstartup_wait_s = 1.0\n")
    d = DaemonProcess(tmp_path, fresh_db, text, {"REDIS_PORT": dead_port})
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        assert d.wait_log("redis_unavailable_at_start", 5)
        assert d.notify.wait_for(lambda m: any("redis DOWN" in x for x in m), 10), d.notify.messages
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()


def test_second_stop_signal_forces_exit(tmp_path: Path, fresh_db: DatabaseConfig) -> None:
    d = DaemonProcess(tmp_path, fresh_db, CONFIG.format(level="info"))
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        # two different signals so the kernel cannot merge them into one pending signal:
        # the operator pressed Ctrl-C while a stop was already under way
        d.signal(signal.SIGTERM)
        d.signal(signal.SIGINT)
        assert d.wait(10) == 1  # forced, without waiting for the stages
        assert "forced_exit" in d.log()
        assert "writer_drained" not in d.log()
    finally:
        d.stop()


def test_stop_while_waiting_for_postgresql(tmp_path: Path, fresh_db: DatabaseConfig) -> None:
    import socket
    import time

    with socket.socket() as s:  # nothing listens there: PostgreSQL is "still starting"
        s.bind(("127.0.0.1", 0))
        dead_port = str(s.getsockname()[1])
    d = DaemonProcess(tmp_path, fresh_db, CONFIG.format(level="info"), {"DB_PORT": dead_port})
    try:
        d.start()
        assert d.wait_log("database_unreachable", 15), d.log()
        started = time.monotonic()
        d.signal(signal.SIGTERM)
        # start-up would wait up to 60 s; a stop must not (systemd's TimeoutStopSec is 30 s)
        assert d.wait(10) == 0
        assert time.monotonic() - started < 10
        assert "daemon_stopped_during_start" in d.log()
        assert "READY=1" not in d.notify.messages
    finally:
        d.stop()
