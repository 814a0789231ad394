"""The real daemon and the simulator as subprocesses: `DaemonProcess` runs the daemon with a
NOTIFY_SOCKET the test owns; the `simulator` fixture serves a seeded catalogue of `N_IDS` ids on a
free port. Test modules take the fixture by assigning it at module level
(`simulator = daemon.simulator`)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from tests.helpers.net import free_port
from tests.helpers.settings import env_for_tests


class NotifySocket:
    """The systemd side of sd_notify: a datagram socket collecting messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[str] = []

    def collect(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, BlockingIOError):
                return
            self.messages.extend(data.decode().splitlines())

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.collect()
            if predicate(self.messages):
                return True
        return False

    def count(self, line: str) -> int:
        self.collect()
        return sum(1 for m in self.messages if m == line)

    def close(self) -> None:
        self.sock.close()


class DaemonProcess:
    def __init__(
        self,
        tmp: Path,
        database: DatabaseConfig,
        config_text: str,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.tmp = tmp
        self.config = tmp / "marketplaced.toml"
        self.config.write_text(config_text)
        self.notify = NotifySocket(tmp / "notify.sock")
        self.log_path = tmp / "daemon.log"
        env = {
            **env_for_tests(),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DB_NAME": database.name,
            "MARKETPLACED_CONFIG": str(self.config),
            "NOTIFY_SOCKET": str(self.notify.path),
            "STATE_DIRECTORY": str(tmp / "state"),
            **(extra_env or {}),
        }
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = self.log_path.open("ab")  # one handle for every (re)start

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "marketplaced.cli", "run"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, needle: str, timeout: float, after: int = 0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log()[after:]:
                return True
            time.sleep(0.05)
        return False

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()
        self.notify.close()


SEED, N_IDS = 11, 2500


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "sim.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marketplaced.cli",
            "simulate",
            "--port",
            str(port),
            "--seed",
            str(SEED),
            "--ids",
            str(N_IDS),
            "--tick-seconds",
            "0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/__sim/stats", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


def sim_requests(url: str) -> int:
    stats = json.loads(urllib.request.urlopen(url + "/__sim/stats", timeout=5).read())
    return int(stats["requests"].get("product", 0))


def config(
    rps: float, concurrency: int = 16, uzex: bool = False, mode: str = "roundrobin", extra: str = ""
) -> str:
    """A daemon configuration for the subprocess tests; round-robin unless `mode` says otherwise
    (their checks read its cycle and cursor), `extra` appended to [uzum]."""
    return f"""
[daemon]
status_interval_s = 0.5
[writer]
flush_interval_s = 0.1
[uzum]
mode = "{mode}"
{extra}
rps = {rps}
concurrency = {concurrency}
frontier_misses = 300
cycle_pause_s = 3600.0
checkpoint_every = 100
[uzex]
enabled = {"true" if uzex else "false"}
# its own rate on the simulator's shared origin (Uzum's no longer applies to it)
rps = {rps}
cycle_pause_s = 3600.0
concurrency = 8
[web]
enabled = false
"""


def query(database: DatabaseConfig, sql: str) -> Any:
    async def go() -> Any:
        conn = await db.connect(database)
        try:
            return await conn.fetchrow(sql)
        finally:
            await conn.close()

    return asyncio.run(go())


def events(log: str, name: str) -> list[dict[str, object]]:
    out = []
    for line in log.splitlines():
        if f'"{name}"' in line:
            try:
                out.append(json.loads(line[line.index("{") :]))
            except ValueError:
                continue
    return [e for e in out if e.get("event") == name]
