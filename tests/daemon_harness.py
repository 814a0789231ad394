"""Run the real daemon as a subprocess with a NOTIFY_SOCKET the test owns."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from marketplaced.config import DatabaseConfig

from .conftest import env_for_tests


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
