"""Uzum Market: what the daemon and the CLI call (the `Platform` interface of base.py).

- `name`, `config_section` (`[uzum]`, config.py), `routes(cfg)`: the API host with its
  fetcher policy and headers (`upstream`);
- `sinks()`: the writer sink storing products, SKUs, sellers, categories, history and misses;
- `build_scanners(cfg, deps, archive_root)`: the product scanner; `max_stale_s`;
- `commands`: `download uzum` and `process-raw uzum` (`oneshot`).

Modules: `records`, `parser` (payload → records), `storage` (the sink), `upstream`, `scanner`,
`coverage` (which ids a configuration reaches), `oneshot`, `schedule` and `adaptive` (the
revisit schedule and the scanner mode that follows it).
"""

from __future__ import annotations

from pathlib import Path

from marketplaced import archive as archive_mod
from marketplaced.config import Config
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzum import oneshot
from marketplaced.platforms.uzum.adaptive import AdaptiveScanner
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.coverage import scan_warnings
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.platforms.uzum.upstream import NAME, headers, policy, routes
from marketplaced.writer import Sink

__all__ = [
    "ScanPlan",
    "UzumScanner",
    "build_scanners",
    "commands",
    "config_section",
    "config_warnings",
    "headers",
    "max_stale_s",
    "name",
    "policy",
    "routes",
    "sinks",
]

name = NAME
config_section = UzumConfig
commands = {"download": oneshot.DOWNLOAD, "process-raw": oneshot.PROCESS_RAW}


def sinks() -> list[Sink]:
    return [UzumSink()]


def build_scanners(cfg: Config, deps: ScanDeps, archive_root: Path | None) -> list[UzumScanner]:
    if not cfg.section(UzumConfig).enabled:
        return []
    archive = None
    if archive_root is not None:
        archive = archive_mod.for_config(cfg.archive, archive_root, NAME, "product")
    deps = deps.with_archive(archive)
    if cfg.section(UzumConfig).mode == "adaptive":
        return [AdaptiveScanner(cfg.section(UzumConfig), deps)]
    return [UzumScanner(cfg.section(UzumConfig), deps, shard=cfg.section(UzumConfig).shard_parts())]


def max_stale_s(cfg: Config, scanner: str) -> float:
    return cfg.section(UzumConfig).max_stale_s


def config_warnings(cfg: Config) -> list[str]:
    return scan_warnings(cfg.section(UzumConfig), cfg.section(UzumConfig).shard_parts())
