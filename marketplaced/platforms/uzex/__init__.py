"""UZEX (government procurement exchange): what the daemon and the CLI call.

- `host_policies(cfg)`: the fetcher policies of the UZEX hosts (merge into the fetcher's map);
- `sinks()`: the writer sinks storing UZEX records (add to the writer's list);
- `build_scanners(cfg, pool=…, fetcher=…, writer=…, archive_root=…)`: the enabled scanners, each
  with `name`, `stats` and `async run()` (supervise them like the Uzum scanner);
- `download(cfg, lot_type, target, out)` and `process_raw(cfg, out)`: the one-shot commands.

The modules: `records`, `parser` (payloads → records), `client` (URLs, bodies, headers, upstream
refusals), `storage` (the sink), `walk` (durable page positions), `scanner` (the shared loop),
`completed`, `active`, `reference` (the scanners), `oneshot` (the commands).
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from marketplaced import archive as archive_mod
from marketplaced.archive import Archive
from marketplaced.config import Config
from marketplaced.http import Fetcher, HostPolicy
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzex import client
from marketplaced.platforms.uzex.active import ActiveScanner
from marketplaced.platforms.uzex.completed import CompletedScanner
from marketplaced.platforms.uzex.oneshot import UzexRunResult, download, process_raw
from marketplaced.platforms.uzex.records import LOT_TYPES, LotType
from marketplaced.platforms.uzex.reference import ReferenceScanner
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScanner, UzexScannerStats
from marketplaced.platforms.uzex.storage import UzexSink
from marketplaced.writer import Sink, Writer

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
    "download",
    "host_policies",
    "process_raw",
    "sinks",
]


def host_policies(cfg: Config) -> dict[str, HostPolicy]:
    """Fetcher policy per UZEX host key; one entry when UZEX_BASE_URL points all at one origin."""
    return client.host_policies(cfg.uzex)


def sinks() -> list[Sink]:
    return [UzexSink()]


def build_scanners(
    cfg: Config,
    *,
    pool: asyncpg.Pool,
    fetcher: Fetcher,
    writer: Writer,
    archive_root: Path | None,
) -> list[UzexScanner]:
    """The enabled UZEX scanners (none when `uzex.enabled` is false).

    `archive_root` (`cfg.archive_dir` when `archive.enabled`, else None) receives raw pages
    under `<archive_root>/uzex/<lot type>/`; each scanner flushes its archive when it stops.
    """
    ucfg = cfg.uzex
    if not ucfg.enabled:
        return []
    archives: dict[str, Archive] = {}

    def archive(kind: str) -> Archive | None:
        if archive_root is None:
            return None
        if kind not in archives:  # one archive per lot type, shared by its scanners
            archives[kind] = archive_mod.for_config(cfg.archive, archive_root, "uzex", kind)
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
    deps = ScanDeps(pool, fetcher, writer)
    scanners: list[UzexScanner] = [
        CompletedScanner(ucfg, t, deps.with_archive(archive(t))) for t, on in completed if on
    ]
    scanners += [ActiveScanner(ucfg, t, deps.with_archive(archive(t))) for t, on in active if on]
    if ucfg.reference:
        scanners.append(ReferenceScanner(ucfg, deps.with_archive(archive("reference"))))
    return scanners
