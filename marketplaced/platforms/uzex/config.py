"""[uzex]: the UZEX platform's configuration section, declared by the platform itself
(`platforms.load_config` reads it; `Config.section(UzexConfig)` returns it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from marketplaced.config import BROWSER_USER_AGENT, RateControlOptions
from marketplaced.config_loader import option

#: an http(s) URL with a host and an optional path (UZEX's e-tender API lives under /api)
_URL = r"^https?://[^\s/]+(/.*)?$"


@dataclass(frozen=True, slots=True)
class UzexConfig(RateControlOptions):
    """UZEX procurement exchange: one host per module (real hosts in docs/upstreams.md)."""

    SECTION: ClassVar[str] = "uzex"
    #: see UzumConfig.RESTART_KEYS: the stall limit is handed to the supervisor at start
    RESTART_KEYS: ClassVar[frozenset[str]] = frozenset({"max_stale_s"})

    enabled: bool = option(True, "run the UZEX procurement scanners (the flags below pick which)")
    auction_completed: bool = option(True, "scan completed auctions and their items")
    auction_active: bool = option(True, "refresh active auctions (GetLot per lot) until they close")
    shop_completed: bool = option(True, "scan completed e-shop deals")
    shop_active: bool = option(True, "refresh active e-shop offers")
    national_completed: bool = option(True, "scan completed national-shop deals")
    national_active: bool = option(True, "refresh active national-shop offers")
    etender: bool = option(True, "scan completed e-tender deals and their trade items")
    reference: bool = option(True, "refresh the category and region lists")
    auction_url: str = option(
        "https://xarid-api-auction.uzex.uz",
        "auction host (env UZEX_BASE_URL sets every host)",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/auction",
    )
    shop_url: str = option(
        "https://xarid-api-shop.uzex.uz",
        "e-shop and national-shop host",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/shop",
    )
    etender_url: str = option(
        "https://apietender.uzex.uz/api",
        "e-tender API base",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/etender/api",
    )
    trade_url: str = option(
        "https://xarid-api-trade.uzex.uz",
        "reference-list host",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/trade",
    )
    rps: float = option(2.0, "requests per second per UZEX host, 0 = unlimited", lo=0, hi=10_000)
    concurrency: int = option(4, "requests in flight per UZEX host at most", lo=1, hi=1000)
    # 60 s: the hosts answer within 30-60 s even on bad days; beyond that the request is retried
    timeout_s: float = option(
        60.0, "per-request timeout (the hosts take 30-60 s on bad days)", lo=0.1, hi=600
    )
    max_retries: int = option(4, "retries for timeouts, resets, 5xx, 429", lo=0, hi=50)
    # 100 rows is what the website itself asks for; bigger windows make 60 s answers likelier
    page_size: int = option(100, "rows per list page (the from/to window)", lo=1, hi=1000)
    recheck_pages: int = option(
        3, "newest pages re-read every cycle to see payment-status changes", lo=1, hi=1000
    )
    # hours, not minutes: the Validation gate is a deliberate anti-automation control, asking
    # again soon only annoys its owner; a few times a day notices when it is lifted
    blocked_backoff_h: float = option(
        6.0,
        "hours a lot type waits after the upstream blocks it (HTTP 500 Not Valid)",
        lo=0.01,
        hi=168,
    )
    user_agent: str = option(
        BROWSER_USER_AGENT, "User-Agent sent to UZEX (a non-browser one gets HTTP 500)"
    )
    origin: str = option("https://xarid.uzex.uz", "Origin header sent to UZEX", pattern=_URL)
    referer: str = option("https://xarid.uzex.uz/", "Referer header sent to UZEX", pattern=_URL)
    # 5 min: deals arrive every few minutes; a cycle costs a few requests per lot type
    cycle_pause_s: float = option(
        300.0, "pause between cycles that pick up new deals and refresh active lots", lo=0, hi=86400
    )
    reference_interval_h: float = option(
        24.0, "refresh the reference lists this often", lo=0.01, hi=720
    )
    # 15 min: one request may take 5 attempts x 60 s plus backoff, a page of items ~1 min at 2 rps
    max_stale_s: float = option(
        900.0, "restart a UZEX scanner whose progress stalls this long", lo=5, hi=86400
    )
    dead_letter_retry_s: float = option(
        3600.0, "retry lots whose items failed this often", lo=10, hi=10**7
    )
