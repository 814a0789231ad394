"""The UZEX client: which URL, body and headers each lot type's requests need.

Everything goes through the shared `Fetcher` (rate limit, retries, breaker per host). This module
only knows the upstream's shapes: one host per module (base URLs from config; `UZEX_BASE_URL`
points them all at one origin with the simulator's path prefixes), list windows as inclusive
1-based `from`/`to` (capitalised `From`/`To`/`System_Id` on e-tender), the shop host's switches
that pick e-shop or national shop, and browser-like `User-Agent`/`Origin`/`Referer` headers.

It also recognises the two HTTP 500 answers that retrying cannot fix: "Not Valid" (the auction
host wants a `Validation` header made by its website's JavaScript — an anti-automation control we
do not forge) becomes `UpstreamBlockedError`, and "Missing User-Agent header" becomes
`UserAgentRejectedError`, whose message tells the operator to fix `uzex.user_agent`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final, Literal
from urllib.parse import urlsplit

from marketplaced.config import BROWSER_USER_AGENT, Config
from marketplaced.errors import FetchError, UpstreamBlockedError
from marketplaced.http import HostPolicy, JsonFetcher, JsonResponse, Route
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.records import LotType

Host = Literal["auction", "shop", "etender", "trade"]

#: the shop host serves both e-shop and national shop; these body switches pick one
_SHOP_SWITCHES: Mapping[LotType, Mapping[str, int]] = {
    "shop": {"display_on_shop": 1, "display_on_national": 0},
    "national": {"display_on_shop": 0, "display_on_national": 1},
}
#: only this much of an error body is searched: the real messages are a few dozen bytes
_ERROR_PREVIEW_BYTES = 4096


class UserAgentRejectedError(FetchError):
    """UZEX refused our User-Agent: a configuration problem, not an outage."""

    kind = "user_agent_rejected"


#: which host serves each lot type
HOST_OF: Mapping[LotType, Host] = {
    "auction": "auction",
    "shop": "shop",
    "national": "shop",
    "etender": "etender",
}


def host_of(lot_type: LotType) -> Host:
    return HOST_OF[lot_type]


def base_urls(cfg: UzexConfig) -> dict[Host, str]:
    return {
        "auction": cfg.auction_url.rstrip("/"),
        "shop": cfg.shop_url.rstrip("/"),
        "etender": cfg.etender_url.rstrip("/"),
        "trade": cfg.trade_url.rstrip("/"),
    }


#: the platform's name (command-line choice, first part of its scanners' names)
NAME: Final = "uzex"


def routes(cfg: Config) -> dict[str, Route]:
    """Each distinct UZEX host with its policy and the browser-like headers it demands."""
    send = headers(cfg.section(UzexConfig))
    return {
        host: Route(policy, send) for host, policy in host_policies(cfg.section(UzexConfig)).items()
    }


def host_policies(cfg: UzexConfig) -> dict[str, HostPolicy]:
    """One policy per distinct host (`host[:port]`, as the fetcher keys them).

    With `UZEX_BASE_URL` every host is one origin, so one policy (one rate) covers them all.
    """
    policy = HostPolicy(
        rps=cfg.rps,
        concurrency=cfg.concurrency,
        timeout_s=cfg.timeout_s,
        max_retries=cfg.max_retries,
        rate_window_s=cfg.rate_window_s,
        rate_limited_pct=cfg.rate_limited_pct,
        rate_recover_factor=cfg.rate_recover_factor,
    )
    return {urlsplit(url).netloc: policy for url in base_urls(cfg).values()}


def headers(cfg: UzexConfig) -> dict[str, str]:
    """What the website's own requests carry; the hosts answer 500 to a non-browser client."""
    return {
        "User-Agent": cfg.user_agent,
        "Origin": cfg.origin,
        "Referer": cfg.referer,
        "Accept": "application/json, text/plain, */*",
        "Accept-Language": "ru-RU,ru;q=0.9",
    }


def classify(status: int, _headers: Mapping[str, str], body: bytes) -> FetchError | None:
    """Turn the upstream's deliberate refusals into errors raised at once (no retry)."""
    if status != 500:
        return None
    message = _error_message(body)
    if message.endswith("Not Valid"):
        return UpstreamBlockedError(
            "UZEX answered HTTP 500 'Not Valid': the host demands a Validation header made by "
            "its website's JavaScript (an anti-automation control we do not forge); this lot "
            "type is blocked by the upstream"
        )
    if "Missing User-Agent header" in message:
        return UserAgentRejectedError(
            "UZEX answered HTTP 500 'Missing User-Agent header': it accepts only a full browser "
            "User-Agent; set uzex.user_agent in the configuration to one (e.g. the default, "
            f"'{BROWSER_USER_AGENT}') and reload"
        )
    return None


def _error_message(body: bytes) -> str:
    """The `message` of a `{"status": 500, "message": "Приложение : Not Valid"}` body, else text."""
    text = body[:_ERROR_PREVIEW_BYTES].decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # a deeply nested error body recurses in the decoder
        return text
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"]).strip()
    return text


class UzexClient:
    """Requests of every UZEX endpoint; answers are `JsonResponse`s (404 included) or errors."""

    def __init__(self, cfg: UzexConfig, fetcher: JsonFetcher) -> None:
        self._fetcher = fetcher
        self._bases = base_urls(cfg)
        self._headers = headers(cfg)

    def url(self, host: Host, path: str) -> str:
        return f"{self._bases[host]}/{path.lstrip('/')}"

    async def _post(self, host: Host, path: str, body: object) -> JsonResponse:
        return await self._fetcher.post_json(
            self.url(host, path), body, headers=self._headers, classify=classify
        )

    async def _get(self, host: Host, path: str) -> JsonResponse:
        return await self._fetcher.get_json(
            self.url(host, path), headers=self._headers, classify=classify
        )

    async def completed_page(self, lot_type: LotType, first: int, last: int) -> JsonResponse:
        """Rows `first`..`last` (inclusive, 1-based, newest first) of completed deals."""
        if lot_type == "etender":
            return await self._post("etender", "common/DealsList", etender_window(first, last))
        body = list_body(lot_type, first, last)
        return await self._post(host_of(lot_type), "Common/GetCompletedDeals", body)

    async def active_page(self, lot_type: LotType, first: int, last: int) -> JsonResponse:
        """Rows `first`..`last` of lots still open for bidding."""
        if lot_type == "etender":
            raise ValueError("e-tender active trades are not scanned")
        path = (
            "Common/GetMinimizedLotsList"
            if lot_type == "auction"
            else "Common/GetNotCompletedDeals"
        )
        return await self._post(host_of(lot_type), path, list_body(lot_type, first, last))

    async def deal_products(self, lot_id: int) -> JsonResponse:
        """Items of a completed auction."""
        return await self._get("auction", f"Common/GetCompletedDealProducts/{lot_id}")

    async def lot_detail(self, lot_type: LotType, lot_id: int) -> JsonResponse:
        """An active lot with its items (`js_details`)."""
        return await self._get(host_of(lot_type), f"Common/GetLot/{lot_id}")

    async def trade(self, trade_id: int) -> JsonResponse:
        """An e-tender trade; its `budget_products` is JSON inside a string."""
        return await self._get("etender", f"common/GetTrade/{trade_id}/0")

    async def categories(self) -> JsonResponse:
        return await self._get("trade", "Lib/GetCategories")

    async def regions(self) -> JsonResponse:
        return await self._get("trade", "Lib/GetRegions")


def list_body(lot_type: LotType, first: int, last: int) -> dict[str, object]:
    """Body of a GetCompletedDeals / GetMinimizedLotsList / GetNotCompletedDeals request.

    An empty `region_ids` means every region (as the website sends it).
    """
    return {"region_ids": [], **_SHOP_SWITCHES.get(lot_type, {}), "from": first, "to": last}


def etender_window(first: int, last: int) -> dict[str, object]:
    """e-tender's DealsList wants capitalised keys; System_Id 0 is the public deal list."""
    return {"From": first, "To": last, "System_Id": 0}
