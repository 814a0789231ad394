"""Marketplace platforms, each implementing the small `Platform` interface of base.py.

`ALL` is the list the daemon, the one-shot commands, `/healthz` and the health check iterate:
adding a marketplace means adding its package here (see the README's "Adding a marketplace").
Every function takes the list as `among` (default `ALL`), so a caller holding another list —
a test's toy platform beside the real ones — is served by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import asyncpg

from marketplaced import config as config_mod
from marketplaced.config import Config, PlatformSection
from marketplaced.http import Fetcher, HostPolicy, Route
from marketplaced.platforms import uzex, uzum
from marketplaced.platforms.base import Platform, ScanDeps, Scanner
from marketplaced.writer import Sink, Writer

ALL: tuple[Platform, ...] = (uzex, uzum)


def config_sections(among: Sequence[Platform] = ALL) -> list[type[PlatformSection]]:
    return [p.config_section for p in among]


def load_config(
    environ: Mapping[str, str] | None = None,
    path: Path | None = None,
    among: Sequence[Platform] = ALL,
) -> Config:
    """The configuration with every platform's section (`config.load` for these platforms):
    what the daemon, the CLI and SIGHUP read."""
    return config_mod.load(environ, path, platforms=config_sections(among))


def documented_keys(among: Sequence[Platform] = ALL) -> dict[str, str]:
    """Every file-settable key of the core and of these platforms, with its help text."""
    return config_mod.documented_keys(config_sections(among))


def by_name(name: str, among: Sequence[Platform] = ALL) -> Platform | None:
    return next((p for p in among if p.name == name), None)


def of_scanner(scanner: str, among: Sequence[Platform] = ALL) -> Platform | None:
    """The platform a scanner belongs to: the first part of its name (`uzex.auction.active`)."""
    return by_name(scanner.split(".", 1)[0], among)


def max_stale_s(cfg: Config, scanner: str, among: Sequence[Platform] = ALL) -> float:
    """How long `scanner` may go without progress before it counts as stalled, as its platform
    says (a UZEX page of items legitimately takes far longer than an Uzum id). The supervisor
    restarts by it, /healthz and the health check report by it, so all judge alike.

    A name no platform claims (live state left by a platform since removed) gets the most
    lenient limit of all: nothing is known about it, so it must not be called stalled first."""
    platform = of_scanner(scanner, among)
    if platform is not None:
        return platform.max_stale_s(cfg, scanner)
    return max(p.max_stale_s(cfg, f"{p.name}.") for p in among)


def routes(cfg: Config, among: Sequence[Platform] = ALL) -> dict[str, dict[str, Route]]:
    """Each platform's hosts with their policies and headers, by platform (see `Fetcher`)."""
    return {p.name: p.routes(cfg) for p in among}


def sinks(among: Sequence[Platform] = ALL) -> list[Sink]:
    return [sink for platform in among for sink in platform.sinks()]


#: the policy of a host no platform declares (none should be asked): the polite default
_UNDECLARED = HostPolicy()


def new_fetcher(cfg: Config, among: Sequence[Platform] = ALL) -> Fetcher:
    """The one shared fetcher (enter it with `async with`); hand each platform
    `fetcher.for_platform(name)`, which sends that platform's headers and keeps its limits."""
    return Fetcher(_UNDECLARED, routes=routes(cfg, among))


def update_fetcher(fetcher: Fetcher, cfg: Config, among: Sequence[Platform] = ALL) -> None:
    """SIGHUP: new rates and concurrency, live."""
    fetcher.update_policies(_UNDECLARED, routes=routes(cfg, among))


def build_scanners(
    cfg: Config,
    *,
    pool: asyncpg.Pool,
    fetcher: Fetcher,
    writer: Writer,
    among: Sequence[Platform] = ALL,
) -> list[Scanner]:
    """Fresh scanner objects for everything the config enables (cheap: nothing starts)."""
    archive_root = cfg.archive_dir if cfg.archive.enabled else None
    return [
        scanner
        for p in among
        for scanner in p.build_scanners(
            cfg, ScanDeps(pool, fetcher.for_platform(p.name), writer), archive_root
        )
    ]


def config_warnings(cfg: Config, among: Sequence[Platform] = ALL) -> list[str]:
    return [warning for p in among for warning in p.config_warnings(cfg)]
