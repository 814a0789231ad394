"""UZEX (government procurement exchange): what the daemon and the CLI call.

- `name`, `config_section` (`[uzex]`, config.py), `routes(cfg)`: the UZEX hosts with their
  fetcher policies and headers;
- `sinks()`: the writer sinks storing UZEX records;
- `build_scanners(cfg, deps, archive_root)`: the enabled scanners, each with `name`, `stats`
  and `async run()`; `max_stale_s` (one limit for every UZEX scanner);
- `commands`: `download uzex` and `process-raw uzex` (`download(cfg, lot_type, target, out)`
  and `process_raw(cfg, out)` in `oneshot`).

The modules: `records`, `parser` (payloads → records), `client` (URLs, bodies, headers, upstream
refusals), `storage` (the sink), `walk` (durable page positions), `scanner` (the shared loop),
`completed`, `active`, `reference` (the scanners), `oneshot` (the commands).
"""

from __future__ import annotations

from pathlib import Path

from marketplaced import archive as archive_mod
from marketplaced.archive import Archive
from marketplaced.config import Config
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex import oneshot
from marketplaced.platforms.uzex.active import ActiveScanner
from marketplaced.platforms.uzex.client import NAME, routes
from marketplaced.platforms.uzex.completed import CompletedScanner
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.oneshot import UzexRunResult, download, process_raw
from marketplaced.platforms.uzex.records import LOT_TYPES, LotType
from marketplaced.platforms.uzex.reference import ReferenceScanner
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScanner, UzexScannerStats
from marketplaced.platforms.uzex.storage import UzexSink
from marketplaced.writer import Sink

__all__ = [
    "LOT_TYPES",
    "ActiveScanner",
    "CompletedScanner",
    "ReferenceScanner",
    "UzexPlan",
    "UzexRunResult",
    "UzexScanner",
    "UzexScannerStats",
    "build_scanners",
    "commands",
    "config_section",
    "config_warnings",
    "download",
    "max_stale_s",
    "name",
    "process_raw",
    "routes",
    "sinks",
]

name = NAME
config_section = UzexConfig
commands = {"download": oneshot.DOWNLOAD, "process-raw": oneshot.PROCESS_RAW}


def sinks() -> list[Sink]:
    return [UzexSink()]


def build_scanners(cfg: Config, deps: ScanDeps, archive_root: Path | None) -> list[UzexScanner]:
    """The enabled UZEX scanners (none when `uzex.enabled` is false).

    `archive_root` (`cfg.archive_dir` when `archive.enabled`, else None) receives raw pages
    under `<archive_root>/uzex/<lot type>/`; each scanner flushes its archive when it stops.
    """
    ucfg = cfg.section(UzexConfig)
    if not ucfg.enabled:
        return []
    archives: dict[str, Archive] = {}

    def archive(kind: str) -> Archive | None:
        if archive_root is None:
            return None
        if kind not in archives:  # one archive per lot type, shared by its scanners
            archives[kind] = archive_mod.for_config(cfg.archive, archive_root, NAME, kind)
        return archives[kind]

    completed: list[tuple[LotType, bool]] = [
        ("auction", ucfg.auction_completed),
        ("shop", ucfg.shop_completed),
        ("national", ucfg.national_completed),
        ("etender", ucfg.etender),
    ]
    active: list[tuple[LotType, bool]] = [
        ("auction", ucfg.auction_active),
        ("shop", ucfg.shop_active),
        ("national", ucfg.national_active),
    ]
    scanners: list[UzexScanner] = [
        CompletedScanner(ucfg, t, deps.with_archive(archive(t))) for t, on in completed if on
    ]
    scanners += [ActiveScanner(ucfg, t, deps.with_archive(archive(t))) for t, on in active if on]
    if ucfg.reference:
        scanners.append(ReferenceScanner(ucfg, deps.with_archive(archive("reference"))))
    return scanners


def max_stale_s(cfg: Config, scanner: str) -> float:
    # one limit for all: a page of 100 lots with their item requests at 2 rps takes minutes
    return cfg.section(UzexConfig).max_stale_s


def config_warnings(cfg: Config) -> list[str]:
    return []
