"""The real daemon as a subprocess through faults that used to end it: its database becomes
unreachable (a proxy in front of the shared server is cut, the server itself is never touched),
and its upstream hangs. In both the process keeps running; what is wrong is shown."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from marketplaced.config import DatabaseConfig
from tests.helpers import daemon
from tests.helpers.daemon import DaemonProcess, events
from tests.helpers.net import free_port

from .helpers.sockets import BlackHole, TcpProxy

# the subprocess simulator fixture of tests/helpers/daemon.py, for this module's tests
simulator = daemon.simulator

pytestmark = pytest.mark.slow


def _first(deadline_s: float, *checks: Callable[[], bool]) -> None:
    """Poll until any check holds; a hang detector, not a timing: fail after `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while not any(check() for check in checks):
        assert time.monotonic() < deadline, "nothing happened in time"
        time.sleep(0.1)


@pytest.fixture
def proxy(fresh_db: DatabaseConfig) -> Iterator[TcpProxy]:
    p = TcpProxy(fresh_db.host, fresh_db.port)
    yield p
    p.close()


OUTAGE_CONFIG = """
[daemon]
status_interval_s = 0.5
restart_budget = 3
[writer]
flush_interval_s = 0.1
queue_max = 20000
[uzum]
# the round-robin cycle and its cursor are what this checks
mode = "roundrobin"
rps = 0
concurrency = 16
frontier_misses = 300
cycle_pause_s = 2.0
checkpoint_every = 100
[uzex]
enabled = false
[jobs]
enabled = false
[web]
enabled = false
"""


def _daemon_behind(
    proxy: TcpProxy, tmp_path: Path, fresh_db: DatabaseConfig, simulator: str
) -> DaemonProcess:
    """A daemon whose PostgreSQL connections go through `proxy`, so the test can cut them."""
    return DaemonProcess(
        tmp_path,
        fresh_db,
        OUTAGE_CONFIG,
        {"DB_PORT": str(proxy.port), "UZUM_BASE_URL": simulator},
    )


def test_scanners_wait_out_a_database_outage_and_the_daemon_keeps_running(
    tmp_path: Path,
    fresh_db: DatabaseConfig,
    proxy: TcpProxy,
    simulator: str,
) -> None:
    d = _daemon_behind(proxy, tmp_path, fresh_db, simulator)
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        # a cycle finished (its dead letters were read): the next cycle's end reads them again
        assert d.wait_log("cycle_finished", 60), d.log()
        proxy.cut()
        mark = len(d.log())

        def exited() -> bool:
            return d.proc is not None and d.proc.poll() is not None

        # the scanner's reads during the outage: before, each crashed it and four crashes
        # (3 restarts + 1) ended the process within seconds
        def gave_up() -> bool:
            return "daemon_giving_up" in d.log()[mark:]

        _first(90, exited, gave_up, lambda: d.log()[mark:].count('"database_unavailable"') >= 4)
        assert not exited() and not gave_up(), d.log()[mark:]
        outage = d.log()[mark:]
        assert "service_crashed" not in outage and "restart_budget_spent" not in outage
        assert d.notify.wait_for(lambda m: any("waiting_db" in x for x in m), 10)

        proxy.restore()
        assert d.wait_log("database_available", 60, after=mark), d.log()[mark:]
        back = len(d.log())
        assert d.wait_log("batch_committed", 60, after=back), d.log()[back:]
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()


def _timeout_stop_s() -> float:
    unit = (Path(__file__).parents[1] / "systemd" / "marketplaced.service").read_text()
    match = re.search(r"^TimeoutStopSec=(\d+)s?$", unit, re.MULTILINE)
    assert match, "the unit sets TimeoutStopSec"
    return float(match.group(1))


def test_sigterm_during_a_database_outage_ends_within_the_stop_budgets(
    tmp_path: Path,
    fresh_db: DatabaseConfig,
    proxy: TcpProxy,
    simulator: str,
) -> None:
    """The writer holds a batch it cannot commit: the drain stage overruns its budget, the
    log says how many records were left and why, and the process exits."""
    d = _daemon_behind(proxy, tmp_path, fresh_db, simulator)
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        assert d.wait_log("batch_committed", 60), d.log()
        proxy.cut()
        mark = len(d.log())
        assert d.wait_log("batch_retrying", 30, after=mark), d.log()[mark:]
        d.signal(signal.SIGTERM)
        # a hang detector, not a timing: the stages' budgets sum below TimeoutStopSec
        code = d.wait(2 * _timeout_stop_s())
    finally:
        d.stop()
    tail = d.log()[mark:]
    assert code == 0, tail[-3000:]
    overran = [e["stage"] for e in events(tail, "shutdown_stage_overran")]
    assert overran == ["drain"], tail[-3000:]
    (drained,) = events(tail, "writer_drained")
    assert drained["complete"] is False and int(str(drained["left"])) > 0, drained
    assert str(drained["reason"]).startswith("database unavailable"), drained
    assert [e["stage"] for e in events(tail, "shutdown_stage_done")][-1] == "close", tail


HANG_CONFIG = """
[daemon]
status_interval_s = 0.5
restart_budget = 1
[uzum]
enabled = false
[uzex]
auction_completed = false
auction_active = false
shop_completed = true
shop_active = false
national_completed = false
national_active = false
etender = false
reference = false
max_stale_s = 5.0
timeout_s = 600.0
max_retries = 0
[jobs]
enabled = false
[web]
port = {port}
"""


def test_a_hanging_upstream_suspends_its_scanner_not_the_daemon(
    tmp_path: Path, fresh_db: DatabaseConfig
) -> None:
    hole = BlackHole()
    port = free_port()
    d = DaemonProcess(
        tmp_path,
        fresh_db,
        HANG_CONFIG.format(port=port),
        {"UZEX_BASE_URL": f"http://127.0.0.1:{hole.port}"},
    )
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()

        def exited() -> bool:
            return d.proc is not None and d.proc.poll() is not None

        # two stalls spend a budget of one restart: before, the whole daemon exited here
        _first(90, exited, lambda: "service_suspended" in d.log())
        assert not exited(), d.log()
        assert d.log().count('"service_stalled"') == 2, d.log()
        # the dashboard still answers and says what is wrong, and with whom
        api = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=10).read()
        )
        service = next(s for s in api["services"] if s["name"] == "uzex.shop.completed")
        assert "the upstream is not answering" in service["last_error"]
        assert service["suspended_until"] is not None
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "suspended: restarts used up" in page
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        d.stop()
        hole.close()
