"""Tests of the lean HTTP/1.1 GET client (marketplaced/http/h1.py) against raw asyncio servers
on free loopback ports: the bytes on the wire are written by hand, so chunked bodies, a
connection cut mid-body, a slow or garbage status line are exactly what the test says."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer
from yarl import URL

from marketplaced.errors import TransportError
from marketplaced.http import Fetcher
from marketplaced.http.h1 import (
    MAX_HEADER_BYTES,
    ConnectionClosedError,
    H1Client,
    MalformedResponseError,
)
from tests.helpers.http import FAST, host_stats, policy, start
from tests.helpers.tls import self_signed

#: (reader, writer, connection number from 1) -> None; the server closes when it returns
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class RawServer:
    """A TCP server that runs `script` on every connection it accepts, and counts them."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    def url(self, path: str = "/p") -> URL:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        scheme = "https" if self.tls is not None else "http"
        return URL(f"{scheme}://127.0.0.1:{port}{path}")

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        return head

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(reader, writer, self.connections)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def answer(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def keep_answering(server_box: list[RawServer], body: bytes) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await server_box[0].read_request(reader)
            writer.write(answer(body))
            await writer.drain()

    return script


@pytest.fixture
async def client() -> AsyncIterator[H1Client]:
    lean = H1Client(keepalive_s=30.0)
    yield lean
    await lean.close()


async def test_chunked_body_is_joined(client: H1Client) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b'{"a":', b"[1,2]", b"}"):
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
            await asyncio.sleep(0.01)  # separate segments: the parser sees the chunks apart
        writer.write(b"0\r\n\r\n")
        await reader.read()

    async with RawServer(script) as server:
        status, headers, body = await client.get(server.url(), {}, 5.0)
    assert (status, body) == (200, b'{"a":[1,2]}')
    assert headers["transfer-encoding"] == "chunked"  # case-insensitive, as aiohttp's


async def test_keep_alive_reuses_one_connection(client: H1Client) -> None:
    box: list[RawServer] = []
    async with RawServer(keep_answering(box, b"[1]")) as server:
        box.append(server)
        bodies = [(await client.get(server.url(f"/p{i}"), {}, 5.0))[2] for i in range(3)]
    assert bodies == [b"[1]"] * 3
    assert server.connections == 1
    assert [r.split(b" ")[1] for r in server.requests] == [b"/p0", b"/p1", b"/p2"]


async def test_connection_close_is_not_reused(client: H1Client) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(b"[%d]" % n, b"Connection: close\r\n"))
        await writer.drain()
        await reader.read()  # the client closes; the server never does

    async with RawServer(script) as server:
        bodies = [(await client.get(server.url(), {}, 5.0))[2] for _ in range(2)]
    assert bodies == [b"[1]", b"[2]"]
    assert server.connections == 2


async def test_body_until_the_connection_ends(client: H1Client) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[1,")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"2]")

    async with RawServer(script) as server:
        status, _, body = await client.get(server.url(), {}, 5.0)
    assert (status, body) == (200, b"[1,2]")


async def test_connection_closed_mid_body_is_a_transport_error(client: H1Client) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()

    async with RawServer(script) as server:
        with pytest.raises(ConnectionClosedError, match="during the body"):
            await client.get(server.url(), {}, 5.0)
        # bytes had arrived: not a stale connection, so it is not sent again
        assert server.connections == 1

        async with Fetcher(FAST) as fetcher:
            with pytest.raises(TransportError, match="ConnectionClosedError"):
                await fetcher.get_json(str(server.url()))
            stats = fetcher.stats()[f"127.0.0.1:{server.url().port}"]
    # the fetcher's own retries, each one exchange: 3 attempts, 3 transport failures
    assert (stats.requests, stats.outcomes["transport"], stats.retries) == (3, 3, 2)
    assert stats.in_flight == 0


async def test_stale_connection_is_retried_once_and_counted_once() -> None:
    """The server closes a kept-alive connection the moment the next request arrives on it
    (the race of a server's idle timeout): the GET goes out again on a new connection."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(b"[%d]" % n))
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")  # the second request on this one: hang up

    async with RawServer(script) as server, Fetcher(FAST) as fetcher:
        first = await fetcher.get_json(str(server.url()))
        second = await fetcher.get_json(str(server.url()))
        stats = fetcher.stats()[f"127.0.0.1:{server.url().port}"]
    assert (first.data, second.data) == ([1], [2])
    assert server.connections == 2
    assert (stats.requests, stats.retries, stats.outcomes["ok"]) == (2, 0, 2)
    assert stats.outcomes["transport"] == 0


async def test_a_server_that_always_hangs_up_is_tried_twice_per_attempt(client: H1Client) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")

    async with RawServer(script) as server:
        with pytest.raises(ConnectionClosedError, match="before the answer"):
            await client.get(server.url(), {}, 5.0)
    assert server.connections == 2  # the request and its one resend, no more


async def test_slow_headers_time_out(client: H1Client) -> None:
    release = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-")  # and the rest only after the test
        await writer.drain()
        await release.wait()

    async with RawServer(script) as server:
        try:
            with pytest.raises(TimeoutError):
                await client.get(server.url(), {}, 0.1)
            async with Fetcher(policy(timeout_s=0.1, max_retries=1)) as fetcher:
                with pytest.raises(TransportError, match=r"no answer within 0\.1s"):
                    await fetcher.get_json(str(server.url()))
                stats = fetcher.stats()[f"127.0.0.1:{server.url().port}"]
        finally:
            release.set()
    assert (stats.outcomes["timeout"], stats.in_flight) == (2, 0)
    assert server.connections == 3  # a timed-out connection is never reused


async def test_garbage_status_line_is_a_transport_error(client: H1Client) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await reader.read()

    async with RawServer(script) as server:
        with pytest.raises(MalformedResponseError, match="malformed HTTP response"):
            await client.get(server.url(), {}, 5.0)
        async with Fetcher(FAST) as fetcher:
            with pytest.raises(TransportError, match="MalformedResponseError"):
                await fetcher.get_json(str(server.url()))
            stats = fetcher.stats()[f"127.0.0.1:{server.url().port}"]
    assert stats.outcomes["transport"] == 3


async def test_gzip_is_asked_for_and_decoded(client: H1Client) -> None:
    box: list[RawServer] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await box[0].read_request(reader)
        body = gzip.compress(b'{"ok":true}')
        writer.write(answer(body, b"Content-Encoding: gzip\r\n"))
        await reader.read()

    async with RawServer(script) as server:
        box.append(server)
        status, _, body = await client.get(server.url(), {"User-Agent": "ua/1"}, 5.0)
    assert (status, body) == (200, b'{"ok":true}')
    head = server.requests[0].lower()
    assert b"\r\naccept-encoding: gzip, deflate\r\n" in head
    assert b"\r\nuser-agent: ua/1\r\n" in head
    assert b"\r\nhost: 127.0.0.1:" in head


async def test_a_redirect_is_followed_through_aiohttp(aiohttp_server: AiohttpServer) -> None:
    async def moved(request: web.Request, n: int) -> web.StreamResponse:
        raise web.HTTPFound("/there")

    async def there(request: web.Request, n: int) -> web.StreamResponse:
        return web.json_response({"here": True})

    upstream = await start(aiohttp_server, {"/here": moved, "/there": there})
    async with Fetcher(FAST) as fetcher:
        response = await fetcher.get_json(upstream.url("/here"))
        stats = host_stats(fetcher, upstream)
    assert response.data == {"here": True}
    # one exchange for the fetcher (whichever client carried it), the 302 asked twice: once
    # by the lean client, once by aiohttp that followed it
    assert (stats.requests, stats.outcomes["ok"]) == (1, 1)
    assert upstream.hits == {"/here": 2, "/there": 1}


async def test_headers_past_the_cap_are_refused(client: H1Client) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(MAX_HEADER_BYTES // 1000 + 1):  # 1 KiB lines, never the blank one
            writer.write(b"X-Filler-%d: %s\r\n" % (i, b"f" * 1000))
            await writer.drain()
        await reader.read()

    async with RawServer(script) as server:
        with pytest.raises(MalformedResponseError, match="headers longer than"):
            await client.get(server.url(), {}, 5.0)


async def test_https_is_verified_and_kept_alive(tmp_path: Path) -> None:
    server_tls, cert = self_signed(tmp_path)
    box: list[RawServer] = []
    async with RawServer(keep_answering(box, b'{"tls":1}'), server_tls) as server:
        box.append(server)
        trusting = H1Client(keepalive_s=30.0, ssl_context=ssl.create_default_context(cafile=cert))
        try:
            bodies = [(await trusting.get(server.url(), {}, 5.0))[2] for _ in range(2)]
        finally:
            await trusting.close()
        assert bodies == [b'{"tls":1}'] * 2
        assert server.connections == 1

        # the fetcher's client trusts only the system's authorities: a self-signed host is a
        # transport failure, as it is through aiohttp
        async with Fetcher(FAST) as fetcher:
            with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
                await fetcher.get_json(str(server.url()))
            stats = fetcher.stats()[f"127.0.0.1:{server.url().port}"]
    assert stats.outcomes["transport"] == 3


async def test_a_name_is_resolved_once_for_many_connections(
    client: H1Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localhost` may resolve to ::1 first, where nothing listens: the next address is tried;
    and a server closing every connection costs one resolution, not one per request."""
    asked: list[str] = []
    resolve = socket.getaddrinfo

    def counting(host: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(b"[%d]" % n, b"Connection: close\r\n"))
        await reader.read()

    async with RawServer(script) as server:
        url = server.url().with_host("localhost")
        bodies = [(await client.get(url, {}, 5.0))[2] for _ in range(3)]
    assert bodies == [b"[1]", b"[2]", b"[3]"]
    assert asked == ["localhost"]


async def test_credentials_in_the_url_go_through_aiohttp(aiohttp_server: AiohttpServer) -> None:
    async def who(request: web.Request, n: int) -> web.StreamResponse:
        return web.json_response({"auth": request.headers.get("Authorization")})

    upstream = await start(aiohttp_server, {"/who": who})
    url = URL(upstream.url("/who")).with_user("me").with_password("secret")
    async with Fetcher(FAST) as fetcher:
        response = await fetcher.get_json(str(url))
    assert response.data == {"auth": "Basic bWU6c2VjcmV0"}
