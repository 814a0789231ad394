"""Who sent a request and how: client address, scheme and site, proxy-aware.

`X-Forwarded-For`, `-Proto` and `-Host` are believed only when the TCP peer is one of
`[web] trusted_proxies`: from anyone else they are ignored, or any client could claim TLS or
another address. `same_site` compares a browser's `Origin` (or `Referer`) with this site: the
second CSRF layer behind the form tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from marketplaced import access
from marketplaced.access import IPNetwork

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Proxies:
    networks: Sequence[IPNetwork] = ()

    @classmethod
    def parse(cls, text: str) -> Proxies:
        nets, _ = access.parse_networks(text)  # config validation already refused bad entries
        return cls(tuple(nets))

    def trusted(self, request: web.Request) -> bool:
        return access.in_networks(request.remote, self.networks)

    def client(self, request: web.Request) -> str:
        """The client's address: the TCP peer, or behind trusted proxies the nearest hop
        they did not add themselves (the right-most untrusted X-Forwarded-For entry)."""
        remote = request.remote or "unknown"
        if not self.trusted(request):
            return remote
        hops = [
            h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
        ]
        for hop in reversed([h for h in hops if h]):
            if access.parse_ip(hop) is None:
                break  # a forged or garbled entry: stop believing the chain here
            if not access.in_networks(hop, self.networks):
                return hop
        return remote

    def scheme(self, request: web.Request) -> str:
        """'https' when the request came over TLS, to us or to a trusted proxy."""
        if self.trusted(request):
            proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
            if proto in DEFAULT_PORTS:
                return proto
        return request.scheme

    def secure(self, request: web.Request) -> bool:
        return self.scheme(request) == "https"

    def authority(self, request: web.Request) -> str:
        if self.trusted(request) and (fwd := request.headers.get("X-Forwarded-Host")):
            return fwd.split(",")[0].strip()
        return request.host

    def site(self, request: web.Request) -> tuple[str, int]:
        """(host, port) this request addressed, the port defaulted by its scheme."""
        return _site(f"{self.scheme(request)}://{self.authority(request)}")

    def same_site(self, request: web.Request) -> tuple[bool, str]:
        """Whether the browser says the request comes from one of our own pages, and what it
        said. A request with neither Origin nor Referer is not from a browser form on another
        site (browsers send Origin on every cross-site POST) and passes to the CSRF token."""
        sent = request.headers.get("Origin") or request.headers.get("Referer")
        if sent is None:
            return True, ""
        try:
            return _site(sent) == self.site(request), sent
        except ValueError:
            return False, sent  # "null" (sandboxed frames, file: pages) and garbage alike


def _site(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(url)
    return parts.hostname.lower(), parts.port or DEFAULT_PORTS[parts.scheme]
