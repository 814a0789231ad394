"""Configurations that can scan nothing are warned about at `check-config` and at start-up; in
adaptive mode (no shard, no cycle window) only a configured shard is, as ignored."""

from __future__ import annotations

import argparse
import dataclasses

import pytest
import structlog

from marketplaced.cli import cmd_check_config
from marketplaced.daemon import Daemon
from marketplaced.errors import DatabaseError
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.coverage import initial_frontier, scan_warnings

from .conftest import base_config


def uzum(**values: object) -> UzumConfig:
    return dataclasses.replace(base_config().section(UzumConfig), **values)


def test_defaults_and_first_id_above_frontier_misses_scan_something() -> None:
    assert scan_warnings(uzum(), (1, 1)) == []
    # the case that used to scan nothing: the window now starts at first_id
    cfg = uzum(first_id=10_000, frontier_misses=5000)
    assert scan_warnings(cfg, (1, 1)) == [] and initial_frontier(cfg) == 14_999


def test_shard_wider_than_the_first_window_is_warned() -> None:
    cfg = uzum(mode="roundrobin", first_id=1, frontier_misses=50)
    [warning] = scan_warnings(cfg, (80, 100))
    assert "ids 1..50" in warning and "shard 80/100" in warning and "nothing" in warning
    assert scan_warnings(cfg, (3, 100)) == []


def test_shard_without_an_id_below_max_id_is_warned() -> None:
    cfg = uzum(mode="roundrobin", first_id=10, max_id=11, frontier_misses=100)
    [warning] = scan_warnings(cfg, (2, 4))
    assert "between first_id 10 and max_id 11" in warning


def test_adaptive_mode_says_the_shard_is_ignored_and_has_no_shard_window() -> None:
    # the same settings that scan nothing in round-robin mode: adaptive has no shard windows
    for cfg, shard in (
        (uzum(mode="adaptive", first_id=1, frontier_misses=50), (80, 100)),
        (uzum(mode="adaptive", first_id=10, max_id=11, frontier_misses=100), (2, 4)),
    ):
        [warning] = scan_warnings(cfg, shard)
        k, n = shard
        assert f"shard {k}/{n} is ignored in adaptive mode" in warning
        assert "nothing" not in warning
    assert scan_warnings(uzum(mode="adaptive", first_id=10, max_id=11), (1, 1)) == []


def test_disabled_scanner_has_nothing_to_warn() -> None:
    for mode in ("roundrobin", "adaptive"):
        assert scan_warnings(uzum(mode=mode, enabled=False, first_id=10, max_id=11), (2, 4)) == []


def test_check_config_prints_the_warning_and_still_succeeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = base_config(uzum={"mode": "roundrobin", "first_id": 10, "max_id": 11, "shard": "2/4"})
    assert cmd_check_config(cfg, argparse.Namespace()) == 0
    captured = capsys.readouterr()
    assert "configuration OK" in captured.out
    assert "warning: uzum: no id of shard 2/4" in captured.err
    adaptive = cfg.with_values("uzum", mode="adaptive")
    assert cmd_check_config(adaptive, argparse.Namespace()) == 0
    captured = capsys.readouterr()
    assert "warning: uzum: shard 2/4 is ignored in adaptive mode" in captured.err
    assert "no id of shard" not in captured.err


async def test_start_up_logs_the_warning() -> None:
    # an unreachable database: start-up logs the warning before it waits for PostgreSQL
    cfg = base_config(
        uzum={"mode": "roundrobin", "first_id": 10, "max_id": 11, "shard": "2/4"},
        database={"port": 1},
        daemon={"startup_wait_s": 0.1},
    )
    daemon = Daemon(cfg)
    with structlog.testing.capture_logs() as logs, pytest.raises(DatabaseError):
        await daemon._start()
    [event] = [e for e in logs if e["event"] == "config_warned"]
    assert "shard 2/4" in event["problem"]
