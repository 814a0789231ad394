"""A lean HTTP/1.1 GET client: the fetcher's hot path (one GET per product visit).

Why not aiohttp for this path: a profile of an unchanged re-scan (the body is only
fingerprinted, never decoded) put half of the daemon's CPU inside aiohttp's client, most of it
per-request Python machinery this daemon never uses on a GET — request and response objects,
trace and middleware hooks, cookie handling, redirect and auth bookkeeping, a stream reader and
a timer context per request. This module does only what a GET to a JSON API needs: an asyncio
Protocol per connection, the `httptools` (llhttp) parser for the response, a keep-alive pool per
origin. The fetcher keeps aiohttp for everything else (POST, a URL with credentials, and a
redirect, which it asks again through aiohttp so that aiohttp follows it), so retries, breaker,
limits and counters are the same whichever client carried the bytes.
Tuning aiohttp instead (skipping auto headers, no decompression, a bigger read buffer,
pre-built URLs, no per-request timeout) changed nothing measurable; this client takes about
45 % less CPU per GET (tests/benchmarks/bench_fetcher.py prints both, same run).

What it keeps of aiohttp's behaviour, so that an upstream sees the same client:
- the same default headers (``Accept: */*``, ``Accept-Encoding: gzip, deflate`` and aiohttp's
  User-Agent unless the request sets one) and gzip/deflate bodies decoded;
- keep-alive per ``scheme://host:port``, idle connections closed after `keepalive_s`, a
  connection the server marks ``Connection: close`` (or an HTTP/1.0 answer) not reused;
- a GET whose connection dies before any byte of the answer arrived (the server closed an idle
  connection just as we reused it) is sent once more on a new connection, inside the same
  exchange (the fetcher counts one request), as aiohttp resends an idempotent request once;
- connections are opened as aiohttp opens them: names resolved once per `dns_ttl_s`, the
  addresses tried "happy eyeballs" style (RFC 8305, 0.25 s apart);
- `timeout_s` bounds the whole exchange (connect, send, headers and body), like aiohttp's
  ``ClientTimeout(total=…)``, and raises TimeoutError;
- no cap on the body size (aiohttp's client has none either); header lines are capped at
  `MAX_HEADER_BYTES` in all;
- every other failure (refused, reset, closed mid-body, a garbage status line, a bad gzip
  stream, TLS) raises an OSError (`H1Error` or the socket's own), which the fetcher maps to a
  transport failure exactly as it maps aiohttp's.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import zlib
from collections.abc import Mapping
from typing import Final, cast

import aiohappyeyeballs
import httptools
from aiohappyeyeballs import AddrInfoType
from aiohttp.http import SERVER_SOFTWARE
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

#: statuses the fetcher hands to aiohttp, which follows them
REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
SCHEMES: Final = frozenset({"http", "https"})
_DEFAULTS: Final = {"accept": "*/*", "accept-encoding": "gzip, deflate"}
#: distinct header sets whose encoded block is kept (a platform has one or two)
_HEAD_CACHE_MAX: Final = 64
#: an answer's header lines may take this much, no more: a server streaming headers forever
#: must not grow our memory until the timeout (aiohttp refuses a line over 8 KiB)
MAX_HEADER_BYTES: Final = 64 * 1024
#: aiohttp's connection attempt delay: an address family that does not answer (an IPv6 route
#: that drops packets) costs a quarter second before the next address is tried, not a timeout
HAPPY_EYEBALLS_DELAY_S: Final = 0.25

Response = tuple[int, CIMultiDictProxy[str], bytes]


class H1Error(ConnectionError):
    """The server or the connection failed the exchange (an OSError, as socket errors are)."""


class ConnectionClosedError(H1Error):
    """The connection ended before the answer did."""


class MalformedResponseError(H1Error):
    """The bytes received are not an HTTP/1.x answer (or not a body in its declared coding)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.chunks: list[bytes] = []
        self.received = False
        self.headers_done = False
        self.keep_alive = False
        #: the answer is complete: whatever the parser reports after it is not part of it
        self.done = False

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():  # bytes nobody asked for: unusable
            self.abort()
            return
        self.received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(MalformedResponseError("the server switched protocols on a GET"))
        except httptools.HttpParserError as exc:
            cause = exc.__context__  # what one of our callbacks raised, if one did
            if not isinstance(cause, H1Error):
                cause = MalformedResponseError(f"malformed HTTP response: {exc}")
            self._fail(cause)

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost settles the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self.headers_done and self._until_eof():
            self._finish(keep_alive=False)  # a body delimited by the end of the connection
            return
        where = "during the body" if self.headers_done else "before the answer ended"
        reason = f": {exc}" if exc is not None else ""
        self._fail(ConnectionClosedError(f"server closed the connection {where}{reason}"))

    # -- httptools callbacks -----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes | None) -> None:
        if self._extra():
            return
        value = value or b""
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > MAX_HEADER_BYTES:
            raise MalformedResponseError(f"answer headers longer than {MAX_HEADER_BYTES} bytes")
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._extra():
            return
        self.status = self._parser.get_status_code()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        if self._extra():
            return
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self._extra():
            return
        if 100 <= self.status < 200:  # an interim answer: the real one follows
            self._reset()
            self.received = True
            return
        self._finish(keep_alive=self._parser.should_keep_alive())

    # -- the exchange ------------------------------------------------------------------------

    async def exchange(self, head: bytes) -> None:
        """Send one request and wait until its answer is complete (or the connection fails)."""
        assert self.transport is not None
        self._reset()
        self._waiter = self._loop.create_future()
        self.transport.write(head)
        try:
            await self._waiter
        finally:
            self._waiter = None

    def timed_out(self) -> None:
        self._fail(TimeoutError())

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _extra(self) -> bool:
        """True (and the connection not reusable) for bytes past the end of the answer."""
        if self.done:
            self.keep_alive = False
        return self.done

    def _finish(self, *, keep_alive: bool) -> None:
        self.done = True
        self.keep_alive = keep_alive
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        self.abort()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    def _until_eof(self) -> bool:
        """True when the answer has neither a length nor chunks: its body ends with the
        connection (HTTP/1.1 §6.3, last rule)."""
        for name, value in self.headers:
            lower = name.lower()
            if lower == b"content-length" or (
                lower == b"transfer-encoding" and b"chunked" in value.lower()
            ):
                return False
        return True


class H1Client:
    """Keep-alive GETs over plain TCP or TLS; see the module docstring for what it does."""

    def __init__(
        self,
        *,
        keepalive_s: float,
        dns_ttl_s: float = 300.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._keepalive_s = keepalive_s
        self._dns_ttl_s = dns_ttl_s
        self._ssl = ssl_context
        #: (host, port) → (resolved at, addresses): a server that closes every connection must
        #: not cost a resolver round trip per request
        self._dns: dict[tuple[str, int], tuple[float, list[AddrInfoType]]] = {}
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._heads: dict[tuple[tuple[str, str], ...], bytes] = {}

    @staticmethod
    def handles(url: URL) -> bool:
        # credentials in the URL are aiohttp's to turn into an Authorization header
        return url.scheme in SCHEMES and url.raw_host is not None and url.raw_user is None

    async def get(self, url: URL, headers: Mapping[str, str], timeout_s: float) -> Response:
        """GET `url`; raises TimeoutError past `timeout_s`, an OSError on any transport failure."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        head = self._head(url, headers)
        key = (url.scheme, url.raw_host or "", url.port or 0)
        for attempt in (1, 2):
            conn = (self._pooled(key) if attempt == 1 else None) or await self._connect(
                loop, key, deadline
            )
            timer = loop.call_at(deadline, conn.timed_out)
            try:
                await conn.exchange(head)
            except ConnectionClosedError:
                conn.abort()
                if attempt == 2 or conn.received:
                    raise
                continue  # nothing came back: a stale connection, or one the server dropped
            except BaseException:
                conn.abort()  # a cancelled or failed exchange leaves the connection unusable
                raise
            finally:
                timer.cancel()
            return self._settle(key, conn)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.abort()
        self._idle.clear()

    # -- connections -------------------------------------------------------------------------

    def _pooled(self, key: tuple[str, str, int]) -> _Connection | None:
        conns = self._idle.get(key)
        if not conns:
            return None
        oldest_kept = time.monotonic() - self._keepalive_s
        while conns:
            conn = conns.pop()  # the most recently used: the least likely to be stale
            if not conn.closed and conn.idle_since >= oldest_kept:
                return conn
            conn.abort()
        return None

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, key: tuple[str, str, int], deadline: float
    ) -> _Connection:
        scheme, host, port = key
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            tls = self._ssl
        async with asyncio.timeout_at(deadline):
            addresses = await self._resolve(loop, host, port)
            sock = await aiohappyeyeballs.start_connection(
                addresses, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY_S
            )
            try:
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop),
                    sock=sock,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                )
            except BaseException:
                sock.close()
                raise
        return conn

    async def _resolve(
        self, loop: asyncio.AbstractEventLoop, host: str, port: int
    ) -> list[AddrInfoType]:
        now = time.monotonic()
        cached = self._dns.get((host, port))
        if cached is not None and now - cached[0] < self._dns_ttl_s:
            return cached[1]
        addresses = _literal(host, port)
        if addresses is None:
            found = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG
            )
            addresses = list(found)
        self._dns[(host, port)] = (now, addresses)
        return addresses

    def _settle(self, key: tuple[str, str, int], conn: _Connection) -> Response:
        """Hand the finished answer out; pool the connection when it may be reused."""
        status, raw_headers, chunks = conn.status, conn.headers, conn.chunks
        if conn.keep_alive and not conn.closed:
            now = time.monotonic()
            conn.idle_since = now
            conns = self._idle.setdefault(key, [])
            while conns and conns[0].idle_since < now - self._keepalive_s:
                conns.pop(0).abort()
            conns.append(conn)
        else:
            conn.abort()
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in raw_headers:
            headers.add(name.decode("latin-1"), value.decode("utf-8", "surrogateescape"))
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        coding = headers.get("Content-Encoding", "").strip().lower()
        if body and coding in ("gzip", "x-gzip", "deflate"):
            body = _decompress(body, coding)
        return status, CIMultiDictProxy(headers), body

    def _head(self, url: URL, headers: Mapping[str, str]) -> bytes:
        """The request line and headers, the header block cached per distinct header set."""
        items = tuple(headers.items())
        block = self._heads.get(items)
        if block is None:
            merged = dict(_DEFAULTS)
            merged["user-agent"] = SERVER_SOFTWARE
            names = {"accept": "Accept", "accept-encoding": "Accept-Encoding"}
            names["user-agent"] = "User-Agent"
            for name, value in items:
                if any(c in name or c in value for c in "\r\n") or ":" in name:
                    raise ValueError(f"header {name!r} holds a line break or a colon")
                merged[name.lower()] = value
                names[name.lower()] = name
            merged.pop("host", None)
            lines = "".join(f"{names[k]}: {v}\r\n" for k, v in merged.items())
            block = lines.encode("utf-8") + b"\r\n"
            if len(self._heads) >= _HEAD_CACHE_MAX:
                self._heads.clear()
            self._heads[items] = block
        start = f"GET {url.raw_path_qs} HTTP/1.1\r\nHost: {url.host_port_subcomponent}\r\n"
        return start.encode("ascii") + block


def _literal(host: str, port: int) -> list[AddrInfoType] | None:
    """The address of an IP literal without asking the resolver (a thread round trip), as
    asyncio's own create_connection does; None for a name."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.inet_pton(family, host)
    except OSError:
        return None
    address = (host, port, 0, 0) if family == socket.AF_INET6 else (host, port)
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]


def _decompress(body: bytes, coding: str) -> bytes:
    try:
        if coding == "deflate":
            try:
                return zlib.decompress(body)  # zlib-wrapped, as the RFC says
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some send
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        raise MalformedResponseError(f"bad {coding} body: {exc}") from exc
