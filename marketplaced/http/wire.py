"""How one exchange travels: GETs over the lean HTTP/1.1 client (`h1`), everything else —
POSTs, redirects, URLs it does not take — over one aiohttp session. Both raise the same kinds
of failure (TimeoutError, an OSError or aiohttp.ClientError), which the fetcher judges alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import aiohttp
from yarl import URL

from marketplaced.http.h1 import REDIRECTS, H1Client

#: which client carries GETs: "lean" (`h1`) or "aiohttp" (every request through aiohttp)
Transport = Literal["lean", "aiohttp"]
#: DNS answers are cached 5 minutes: thousands of requests per second must not each resolve,
#: yet a moved host is followed within minutes.
DNS_CACHE_TTL_S: Final = 300
#: Idle keep-alive connections live 30 s: longer than any gap in a running scan, shorter than
#: typical server-side keep-alive (nginx: 75 s) so we rarely reuse a connection the peer closed.
KEEPALIVE_S: Final = 30.0


class Wire:
    """The fetcher's clients; `open` before the first exchange, `close` after the last."""

    def __init__(self, headers: Mapping[str, str], transport: Transport) -> None:
        self._headers = dict(headers)
        self._lean = (
            H1Client(keepalive_s=KEEPALIVE_S, dns_ttl_s=DNS_CACHE_TTL_S)
            if transport == "lean"
            else None
        )
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        connector = aiohttp.TCPConnector(
            # Unlimited here: the per-host slots are the real limit and, unlike the connector's,
            # they can be resized live; a fixed pool would silently cap a raised concurrency.
            limit=0,
            ttl_dns_cache=DNS_CACHE_TTL_S,
            keepalive_timeout=KEEPALIVE_S,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            # Public APIs need no cookies; a shared jar would leak state between platforms.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._lean is not None:
            await self._lean.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        method: str,
        target: URL,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        budget: aiohttp.ClientTimeout,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One exchange: status, headers and the (decompressed) body."""
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        lean, total = self._lean, budget.total
        if lean is not None and method == "GET" and data is None and total and lean.handles(target):
            sent = {**self._headers, **headers} if self._headers and headers else headers
            answer = await lean.get(target, sent or self._headers, total)
            if answer[0] not in REDIRECTS:
                return answer
            # aiohttp follows redirects (and keeps their bookkeeping): ask again through it
        async with self._session.request(
            method, target, data=data, headers=headers, timeout=budget
        ) as resp:
            return resp.status, resp.headers, await resp.read()
