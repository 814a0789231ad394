"""Logins as server-side sessions, Secure cookies over TLS, the Origin check and the limiter on
wrong tokens — through the real app, PostgreSQL (`web_sessions`) and, for TLS, a real socket.

Shares the seeded database and the client factory of tests/helpers/web.py."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.app import WebDeps, create_app
from marketplaced.web.security import SESSION_COOKIE
from marketplaced.web.sessions import SessionStore
from tests.conftest import base_config
from tests.helpers.net import free_port
from tests.helpers.tls import self_signed
from tests.helpers.web import ClientFactory, csrf_of, page, static_status

TOKEN = "4e1f0b9a7c3d5e2f8a6b0c4d1e9f7a3b"


async def _login(client: TestClient, token: str = TOKEN, **headers: str) -> aiohttp.ClientResponse:
    csrf = csrf_of(await page(client, "/login"))
    return await client.post(
        "/login",
        data={"csrf": csrf, "token": token, "next": "/sellers"},
        headers=headers,
        allow_redirects=False,
    )


def _session_of(resp: aiohttp.ClientResponse) -> str:
    morsel = resp.cookies[SESSION_COOKIE]
    assert morsel.value
    return morsel.value


async def _with_cookie(client: TestClient, value: str) -> int:
    """Status of /sellers for a browser presenting only this session cookie."""
    resp = await client.get(
        "/sellers", headers={"Cookie": f"{SESSION_COOKIE}={value}"}, allow_redirects=False
    )
    return resp.status


async def _sessions(web_db: DatabaseConfig, sql: str = "SELECT count(*) FROM web_sessions") -> int:
    conn = await db.connect(web_db)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


# -- sessions -------------------------------------------------------------------------------------


async def test_every_login_is_its_own_session_and_logout_ends_it(
    make_client: ClientFactory,
) -> None:
    alice, _ = await make_client(token=TOKEN)
    bob, _ = await make_client(token=TOKEN)
    stranger, _ = await make_client(token=TOKEN)  # no cookie jar of its own in play
    a = _session_of(await _login(alice))
    b = _session_of(await _login(bob))
    assert a != b and TOKEN not in a
    assert await _with_cookie(stranger, a) == 200
    csrf = csrf_of(await page(alice, "/sellers"))
    out = await alice.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/login"
    # the old cookie, replayed by anyone, no longer opens anything; Bob's login is untouched
    assert await _with_cookie(stranger, a) == 303
    assert await _with_cookie(stranger, b) == 200
    api = await stranger.get("/api/v1/products", headers={"Cookie": f"{SESSION_COOKIE}={a}"})
    assert api.status == 401


async def test_a_session_survives_a_restart_and_works_on_another_daemon(
    make_client: ClientFactory,
) -> None:
    first, _ = await make_client(token=TOKEN)
    value = _session_of(await _login(first))
    other, _ = await make_client(token=TOKEN)  # a second app on the same database
    assert await _with_cookie(other, value) == 200
    csrf = csrf_of(await page(other, "/login"))
    await other.post(
        "/logout",
        data={"csrf": csrf},
        headers={"Cookie": f"{SESSION_COOKIE}={value}"},
        allow_redirects=False,
    )
    assert await _with_cookie(first, value) == 303  # logged out there, refused here too


async def test_expired_sessions_are_refused_and_pruned_at_the_next_login(
    make_client: ClientFactory, web_db: DatabaseConfig
) -> None:
    client, _ = await make_client(token=TOKEN)
    value = _session_of(await _login(client))
    await _sessions(
        web_db, "UPDATE web_sessions SET expires_at = now() - interval '1 s' RETURNING 1"
    )
    assert await _with_cookie(client, value) == 303
    assert await _sessions(web_db, "SELECT count(*) FROM web_sessions WHERE expires_at <= now()")
    await _login(client)
    assert (
        await _sessions(web_db, "SELECT count(*) FROM web_sessions WHERE expires_at <= now()") == 0
    )


async def test_rotating_the_token_ends_old_sessions(make_client: ClientFactory) -> None:
    client, _ = await make_client(token=TOKEN)
    value = _session_of(await _login(client))
    rotated, _ = await make_client(token=TOKEN[::-1])
    assert await _with_cookie(rotated, value) == 303


async def test_session_cookie_is_secure_only_behind_tls(make_client: ClientFactory) -> None:
    plain, _ = await make_client(token=TOKEN)
    cookie = (await _login(plain, **{"X-Forwarded-Proto": "https"})).headers["Set-Cookie"]
    assert "Secure" not in cookie  # the header is not believed from an unlisted peer
    cfg = base_config(web={"token": TOKEN, "trusted_proxies": "127.0.0.1, ::1"})
    proxied, _ = await make_client(cfg=cfg)
    cookie = (await _login(proxied, **{"X-Forwarded-Proto": "https"})).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    cookie = (await _login(proxied)).headers["Set-Cookie"]
    assert "Secure" not in cookie  # plain HTTP through the proxy: the browser would drop it


async def test_session_cookie_is_secure_over_direct_tls(
    web_db: DatabaseConfig, tmp_path: Path
) -> None:
    cfg = dataclasses.replace(base_config(web={"token": TOKEN}), database=web_db)
    pool = await db.create_pool(web_db)
    status = static_status()
    runner = web.AppRunner(create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None)))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=self_signed(tmp_path)[0]).start()
    base = f"https://127.0.0.1:{port}"
    try:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
        connector = aiohttp.TCPConnector(ssl=False)  # the self-signed certificate
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as s:
            async with s.get(f"{base}/login") as resp:
                csrf = csrf_of(await resp.text())
                assert "Secure" in resp.headers["Set-Cookie"]  # the CSRF cookie too
            async with s.post(
                f"{base}/login",
                data={"csrf": csrf, "token": TOKEN},
                headers={"Origin": base},
                allow_redirects=False,
            ) as resp:
                assert resp.status == 303
                assert "Secure" in resp.headers["Set-Cookie"]
    finally:
        await runner.cleanup()
        await pool.close()


# -- Origin ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
        {"Origin": "http://127.0.0.1.evil.example"},
    ],
)
async def test_a_post_from_another_site_is_refused_even_with_a_csrf_token(
    make_client: ClientFactory, headers: dict[str, str]
) -> None:
    client, source = await make_client()
    csrf = csrf_of(await page(client, "/status"))
    resp = await client.post("/status/jobs/analytics/run", data={"csrf": csrf}, headers=headers)
    assert resp.status == 403 and "cross-site request refused" in await resp.text()
    assert source.actions == []


async def test_a_post_from_our_own_page_passes(make_client: ClientFactory) -> None:
    client, source = await make_client()
    csrf = csrf_of(await page(client, "/status"))
    own = str(client.make_url("/")).rstrip("/")
    for headers in ({"Origin": own}, {"Referer": f"{own}/status"}, {}):
        resp = await client.post("/status/jobs/analytics/run", data={"csrf": csrf}, headers=headers)
        assert resp.status == 200, headers
    assert len(source.actions) == 3


async def test_origin_behind_a_trusted_tls_proxy(make_client: ClientFactory) -> None:
    cfg = base_config(web={"trusted_proxies": "127.0.0.1, ::1"})
    client, source = await make_client(cfg=cfg)
    csrf = csrf_of(await page(client, "/status"))
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dash.example.com"}
    ok = await client.post(
        "/status/jobs/analytics/run",
        data={"csrf": csrf},
        headers={**proxy, "Origin": "https://dash.example.com"},
    )
    assert ok.status == 200 and source.actions == [("run", "analytics")]


# -- failed authentication ------------------------------------------------------------------------


async def test_wrong_bearer_tokens_are_limited_per_address(make_client: ClientFactory) -> None:
    cfg = base_config(web={"token": TOKEN, "trusted_proxies": "127.0.0.1, ::1"})
    client, _ = await make_client(cfg=cfg)
    browser = client.session.cookie_jar
    await _login(client)  # a browser already logged in from the guessing address
    assert len(browser) >= 1
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    statuses = []
    for i in range(200):
        resp = await client.get(
            "/api/v1/status", headers={**guesser, "Authorization": f"Bearer guess-{i}"}
        )
        statuses.append(resp.status)
    assert statuses[:10] == [401] * 10  # a burst of ten mistakes is free
    assert set(statuses[10:]) == {429}
    blocked = await client.get(
        "/api/v1/status", headers={**guesser, "Authorization": f"Bearer {TOKEN}"}
    )
    # not even the right token is compared while blocked: a guess there teaches nothing
    assert blocked.status == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 6
    assert "too many wrong tokens" in (await blocked.json())["error"]
    # the logged-in browser and other addresses are not locked out
    assert (await client.get("/sellers", headers=guesser, allow_redirects=False)).status == 200
    other = {"X-Forwarded-For": "198.51.100.1", "Authorization": f"Bearer {TOKEN}"}
    assert (await client.get("/api/v1/status", headers=other)).status == 200


async def test_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(
    make_client: ClientFactory,
) -> None:
    client, _ = await make_client(token=TOKEN)  # no trusted proxies
    for i in range(12):
        spoof = {"X-Forwarded-For": f"198.51.100.{i}", "Authorization": "Bearer nope"}
        last = await client.get("/api/v1/status", headers=spoof)
    assert last.status == 429  # all counted against the real peer


async def test_wrong_tokens_in_the_login_form_are_limited(make_client: ClientFactory) -> None:
    client, _ = await make_client(token=TOKEN)
    statuses = [(await _login(client, token=f"guess-{i}")).status for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    blocked = await _login(client)
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "Too many wrong tokens" in await blocked.text()
    assert SESSION_COOKIE not in blocked.cookies


async def test_known_sessions_outlive_a_database_outage_until_their_expiry(
    web_db: DatabaseConfig,
) -> None:
    now = [1e9]
    pool = await db.create_pool(web_db)
    store = SessionStore(pool, TOKEN, max_age_s=3600, clock=lambda: now[0])
    seen = await store.create("192.0.2.1")
    assert await store.valid(seen)
    unseen = await SessionStore(pool, TOKEN).create("192.0.2.2")  # opened by another daemon
    await pool.close()  # PostgreSQL unreachable from here on
    now[0] = time.time()
    assert await store.valid(seen)  # the dashboard stays usable to watch the outage
    assert not await store.valid(unseen)  # nothing new is believed without the database
    now[0] += 3601
    assert not await store.valid(seen)  # and nothing outlives its expiry
