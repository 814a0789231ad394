"""The scanning commands run with the scan's garbage-collector policy (marketplaced.gc_policy):
the daemon and the one-shot commands set it once start-up has built its objects."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Iterator

import pytest

from marketplaced import gc_policy
from marketplaced.config import Config, DatabaseConfig
from marketplaced.daemon import Daemon
from marketplaced.runtime import one_shot
from marketplaced.systemd import SystemdNotifier

from .conftest import base_config

pytestmark = pytest.mark.timeout(60)

SCAN_THRESHOLDS = (50_000, *gc_policy.OLDER_THRESHOLDS)


@pytest.fixture(autouse=True)
def python_gc_policy() -> Iterator[tuple[int, int, int]]:
    """Every test starts from Python's own policy and leaves the process as it found it."""
    saved = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(*saved)


def _cfg(db: DatabaseConfig, **daemon: object) -> Config:
    return base_config(
        database=dataclasses.asdict(db),
        daemon=daemon,
        uzum={"enabled": False},
        uzex={"enabled": False},
        web={"enabled": False},
        jobs={"enabled": False},
    )


async def test_one_shot_commands_scan_with_the_scan_policy(fresh_db: DatabaseConfig) -> None:
    async with one_shot(_cfg(fresh_db)):
        assert gc.get_threshold() == SCAN_THRESHOLDS
        assert gc.get_freeze_count() > 0, "start-up's objects were left to every collection"


class _StatusSeen(SystemdNotifier):
    """Tells when the status loop has published once (and so sleeps until its next turn)."""

    def __init__(self) -> None:
        super().__init__({})
        self.published = asyncio.Event()

    def status(self, text: str) -> bool:
        if text.startswith("queue"):
            self.published.set()
        return super().status(text)


async def test_the_daemon_scans_with_the_scan_policy(fresh_db: DatabaseConfig) -> None:
    notifier = _StatusSeen()
    daemon = Daemon(_cfg(fresh_db), notifier=notifier)
    try:
        await daemon._start()
        assert gc.get_threshold() == SCAN_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        # stopped between two publications: a cancel inside the first Redis write is not
        # what this test is about
        await asyncio.wait_for(notifier.published.wait(), 30)
        await daemon._shutdown()


async def test_zero_and_false_keep_pythons_own_policy(
    fresh_db: DatabaseConfig, python_gc_policy: tuple[int, int, int]
) -> None:
    async with one_shot(_cfg(fresh_db, gc_threshold=0, gc_freeze=False)):
        assert gc.get_threshold() == python_gc_policy
        assert gc.get_freeze_count() == 0


def test_the_threshold_is_configurable(fresh_db: DatabaseConfig) -> None:
    gc_policy.apply(_cfg(fresh_db, gc_threshold=12_345, gc_freeze=False).daemon)
    assert gc.get_threshold() == (12_345, *gc_policy.OLDER_THRESHOLDS)
    assert gc.get_freeze_count() == 0
