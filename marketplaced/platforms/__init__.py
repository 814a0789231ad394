"""Marketplace platforms, each implementing the small `Platform` interface of base.py.

`ALL` is the list the daemon and the one-shot commands iterate: adding a marketplace means
adding its package here (see the README's "Adding a marketplace").
"""

from __future__ import annotations

from marketplaced.config import Config
from marketplaced.http import Fetcher, HostPolicy
from marketplaced.platforms import uzex, uzum
from marketplaced.platforms.base import Platform
from marketplaced.writer import Sink

ALL: tuple[Platform, ...] = (uzex, uzum)


def host_policies(cfg: Config) -> dict[str, HostPolicy]:
    """Per-host politeness for every upstream. Later platforms win a shared host key, so when
    the simulator serves everything from one origin, Uzum's policy is the one that applies."""
    merged: dict[str, HostPolicy] = {}
    for platform in ALL:
        merged.update(platform.host_policies(cfg))
    return merged


def max_stale_s(cfg: Config, scanner: str) -> float:
    """How long `scanner` may go without progress before it counts as stalled: its own
    platform's limit (a UZEX page of items legitimately takes far longer than an Uzum id).
    The supervisor restarts by it and /healthz reports by it, so both judge alike."""
    return cfg.uzex.max_stale_s if scanner.startswith("uzex.") else cfg.uzum.max_stale_s


def sinks() -> list[Sink]:
    return [sink for platform in ALL for sink in platform.sinks()]


def new_fetcher(cfg: Config) -> Fetcher:
    """The one shared fetcher (enter it with `async with`)."""
    return Fetcher(uzum.policy(cfg), host_policies(cfg), uzum.headers(cfg))


def update_fetcher(fetcher: Fetcher, cfg: Config) -> None:
    """SIGHUP: new rates and concurrency, live."""
    fetcher.update_policies(uzum.policy(cfg), host_policies(cfg))
