"""Uzum Market: what the daemon and the CLI call (the `Platform` interface of base.py).

- `host_policies(cfg)`: the fetcher policy of the API host;
- `sinks()`: the writer sink storing products, SKUs, sellers, categories, history and misses;
- `build_scanners(cfg, pool=…, fetcher=…, writer=…, archive_root=…)`: the product scanner.

Modules: `records`, `parser` (payload → records), `storage` (the sink), `scanner`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from marketplaced import archive as archive_mod
from marketplaced.config import Config
from marketplaced.http import Fetcher, HostPolicy
from marketplaced.platforms.base import ScanDeps
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.platforms.uzum.storage import UzumSink
from marketplaced.writer import Sink, Writer

__all__ = [
    "ScanPlan",
    "UzumScanner",
    "build_scanners",
    "headers",
    "host_policies",
    "policy",
    "sinks",
]


def policy(cfg: Config) -> HostPolicy:
    u = cfg.uzum
    return HostPolicy(
        rps=u.rps,
        concurrency=u.concurrency,
        timeout_s=u.timeout_s,
        max_retries=u.max_retries,
        breaker_failures=u.breaker_failures,
        breaker_cooldown_s=u.breaker_cooldown_s,
        rate_window_s=u.rate_window_s,
        rate_limited_pct=u.rate_limited_pct,
        rate_recover_factor=u.rate_recover_factor,
    )


def host_policies(cfg: Config) -> dict[str, HostPolicy]:
    return {urlsplit(cfg.uzum.base_url).netloc: policy(cfg)}


def headers(cfg: Config) -> dict[str, str]:
    # docs/upstreams.md: browser-like UA, JSON accept, Russian first; never a stale Authorization
    return {
        "User-Agent": cfg.uzum.user_agent,
        "Accept": "application/json",
        "Accept-Language": "ru-RU,ru;q=0.9",
    }


def sinks() -> list[Sink]:
    return [UzumSink()]


def build_scanners(
    cfg: Config, *, pool: asyncpg.Pool, fetcher: Fetcher, writer: Writer, archive_root: Path | None
) -> list[UzumScanner]:
    if not cfg.uzum.enabled:
        return []
    archive = None
    if archive_root is not None:
        archive = archive_mod.for_config(cfg.archive, archive_root, "uzum", "product")
    return [
        UzumScanner(cfg.uzum, ScanDeps(pool, fetcher, writer, archive), shard=cfg.shard_parts())
    ]
