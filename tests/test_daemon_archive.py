"""The real daemon with a raw archive it cannot write (as on a full disk): the scan goes on, and
the failed writes are logged with their file and shown by `marketplaced status`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marketplaced.config import DatabaseConfig
from tests.helpers import daemon
from tests.helpers.daemon import DaemonProcess, events, query

# the subprocess simulator fixture of tests/helpers/daemon.py, for this module's tests
simulator = daemon.simulator

pytestmark = pytest.mark.slow


def config(raw: Path) -> str:
    return f"""
[daemon]
status_interval_s = 0.5
[writer]
flush_interval_s = 0.1
[archive]
enabled = true
dir = "{raw}"
batch_records = 20
[uzum]
# the round-robin cycle and its cursor are what this checks
mode = "roundrobin"
rps = 300
concurrency = 8
frontier_misses = 300
cycle_pause_s = 3600.0
[uzex]
enabled = false
[web]
enabled = false
"""


def status(d: DaemonProcess) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "marketplaced.cli", "status"],
        env=d.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.stdout


def test_failed_archive_writes_are_logged_and_shown(
    tmp_path: Path,
    fresh_db: DatabaseConfig,
    simulator: str,
) -> None:
    raw = tmp_path / "raw"
    (raw / "uzum").mkdir(parents=True)
    (raw / "uzum" / "product").write_text("a file where the archive's directory should be")
    d = DaemonProcess(tmp_path, fresh_db, config(raw), {"UZUM_BASE_URL": simulator})
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        assert d.wait_log("archive_write_failed", 30), d.log()[-3000:]
        shown = ""
        for _ in range(60):  # until a status refresh published the failures
            shown = status(d)
            if "failed writes" in shown and "failed writes 0" not in shown:
                break
            time.sleep(0.5)
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()
    assert "responses not kept" in shown, shown
    failed = events(d.log(), "archive_write_failed")
    assert failed and str(failed[0]["file"]).startswith("uzum/product/")
    assert "Task exception was never retrieved" not in d.log()
    # the scan itself went on: products were stored
    assert query(fresh_db, "SELECT count(*) AS n FROM products")["n"] > 0
