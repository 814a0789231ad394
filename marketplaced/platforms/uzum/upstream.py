"""The Uzum API as the fetcher reaches it: its host, how politely, and the request headers."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from marketplaced.config import Config
from marketplaced.http import HostPolicy, Route
from marketplaced.platforms.uzum.config import UzumConfig

#: the platform's name (command-line choice, first part of its scanners' names)
NAME: Final = "uzum"


def policy(cfg: Config) -> HostPolicy:
    u = cfg.section(UzumConfig)
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


def headers(cfg: Config) -> dict[str, str]:
    # docs/upstreams.md: browser-like UA, JSON accept, Russian first; never a stale Authorization
    return {
        "User-Agent": cfg.section(UzumConfig).user_agent,
        "Accept": "application/json",
        "Accept-Language": "ru-RU,ru;q=0.9",
    }


def routes(cfg: Config) -> dict[str, Route]:
    return {urlsplit(cfg.section(UzumConfig).base_url).netloc: Route(policy(cfg), headers(cfg))}
