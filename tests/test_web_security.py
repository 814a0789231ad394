"""Dashboard security: token auth on and off, login cookie, CSRF, Host check, bind address.

Shares the seed and the client factory of tests/helpers/web.py (its own seeded module database)."""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote

import aiohttp
import pytest

from marketplaced import db
from marketplaced.web.app import WebDeps, create_app, start_site
from marketplaced.web.security import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import base_config
from tests.helpers.net import free_port
from tests.helpers.web import ClientFactory, csrf_of, page, static_status

# the seeded database and the client factory of the page tests, for this module too

TOKEN = "s3cret-token-for-tests"


async def test_without_token_everything_is_open_on_loopback(make_client: ClientFactory) -> None:
    client, _ = await make_client()
    assert (await client.get("/status")).status == 200
    assert (await client.get("/api/v1/products")).status == 200
    assert (await client.get("/metrics")).status == 200


async def test_without_token_a_foreign_host_header_is_refused(make_client: ClientFactory) -> None:
    client, _ = await make_client()
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the dashboard
    resp = await client.get("/api/v1/products", headers={"Host": "evil.example:8080"})
    assert resp.status == 421
    assert (await client.get("/status", headers={"Host": "localhost:8080"})).status == 200


async def test_with_token_pages_redirect_to_login_and_api_needs_bearer(
    make_client: ClientFactory,
) -> None:
    client, _ = await make_client(token=TOKEN)
    resp = await client.get("/products?q=redmi", allow_redirects=False)
    assert resp.status == 303
    assert unquote(resp.headers["Location"]) == "/login?next=/products?q=redmi"
    api = await client.get("/api/v1/products")
    assert api.status == 401 and api.headers["WWW-Authenticate"].startswith("Bearer")
    assert "authentication required" in (await api.json())["error"]
    assert (await client.get("/metrics")).status == 401
    bad = await client.get("/api/v1/products", headers={"Authorization": "Bearer wrong"})
    assert bad.status == 401
    good = await client.get("/api/v1/products", headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status == 200 and len((await good.json())["items"]) == 4
    assert (await client.get("/healthz")).status in (200, 503)  # open, whatever it says
    assert (await client.get("/static/style.css")).status == 200
    # a Bearer client needs no CSRF token: it carries no ambient credential
    post = await client.post(
        "/status/jobs/analytics/run",
        headers={"Authorization": f"Bearer {TOKEN}"},
        allow_redirects=False,
    )
    assert post.status == 303


async def test_login_sets_a_strict_httponly_cookie(make_client: ClientFactory) -> None:
    client, _ = await make_client(token=TOKEN)
    form = await page(client, "/login?next=/sellers")
    csrf = csrf_of(form)
    wrong = await client.post("/login", data={"csrf": csrf, "token": "nope", "next": "/sellers"})
    assert wrong.status == 401 and "not right" in await wrong.text()
    no_csrf = await client.post("/login", data={"token": TOKEN})
    assert no_csrf.status == 403
    ok = await client.post(
        "/login", data={"csrf": csrf, "token": TOKEN, "next": "/sellers"}, allow_redirects=False
    )
    assert ok.status == 303 and ok.headers["Location"] == "/sellers"
    cookie = ok.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Aeris.uz" in await page(client, "/sellers")  # the cookie jar now authenticates
    logout = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert logout.status == 303
    assert (await client.get("/sellers", allow_redirects=False)).status == 303


async def test_login_does_not_redirect_off_site(make_client: ClientFactory) -> None:
    client, _ = await make_client(token=TOKEN)
    csrf = csrf_of(await page(client, "/login"))
    for target in ("//evil.example/", "https://evil.example/", "/\\evil"):
        resp = await client.post(
            "/login", data={"csrf": csrf, "token": TOKEN, "next": target}, allow_redirects=False
        )
        assert resp.headers["Location"] == "/status", target


async def test_csrf_cookie_is_strict_and_token_bound_to_it(make_client: ClientFactory) -> None:
    client, source = await make_client()
    resp = await client.get("/status")
    cookie = resp.headers["Set-Cookie"]
    assert (
        cookie.startswith(f"{CSRF_COOKIE}=")
        and "HttpOnly" in cookie
        and "SameSite=Strict" in cookie
    )
    token = csrf_of(await resp.text())
    # another browser (another cookie) cannot replay this token
    other_client, other_source = await make_client()
    await other_client.get("/status")
    stolen = await other_client.post("/status/jobs/analytics/run", data={"csrf": token})
    assert stolen.status == 403 and other_source.actions == []
    mine = await client.post("/status/jobs/analytics/run", data={"csrf": token})
    assert mine.status == 200 and source.actions == [("run", "analytics")]


async def test_get_cannot_change_state(make_client: ClientFactory) -> None:
    client, source = await make_client()
    resp = await client.get("/status/jobs/analytics/run")
    assert resp.status == 405 and source.actions == []


async def test_start_site_binds_the_configured_address(web_db: object) -> None:
    port = free_port()
    cfg = dataclasses.replace(base_config(web={"port": port}), database=web_db)
    assert cfg.web.host == "127.0.0.1"
    pool = await db.create_pool(cfg.database)
    status = static_status()
    runner = await start_site(
        create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None)), cfg
    )
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/api/v1/status") as resp,
        ):
            assert resp.status == 200
        assert [s.name for s in runner.sites] == [f"http://127.0.0.1:{port}"]
        with pytest.raises(
            OSError, match="address already in use"
        ):  # the port is taken: a clear OSError, no half-started app
            await start_site(
                create_app(WebDeps(pool, cfg, status, status, summary_refresh_s=None)), cfg
            )
    finally:
        await runner.cleanup()
        await pool.close()


async def test_no_response_names_the_server_software(make_client: ClientFactory) -> None:
    client, _ = await make_client(token=TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    checks = [
        ("GET", "/status", {}, 303),  # redirect to the login form
        ("GET", "/login", {}, 200),
        ("GET", "/static/style.css", {}, 200),
        ("GET", "/products", bearer, 200),
        ("GET", "/products.csv", bearer, 200),
        ("GET", "/no-such-page", bearer, 404),  # the styled error page
        ("GET", "/api/v1/nope", bearer, 404),
        ("GET", "/api/v1/products", {}, 401),
        ("GET", "/status/jobs/analytics/run", bearer, 405),
        ("GET", "/healthz", {}, None),
        ("GET", "/metrics", bearer, 200),
    ]
    for method, url, headers, status in checks:
        resp = await client.request(method, url, headers=headers, allow_redirects=False)
        await resp.read()
        assert status is None or resp.status == status, (url, resp.status)
        assert "Server" not in resp.headers, (url, resp.headers.get("Server"))
        assert resp.headers["X-Content-Type-Options"] == "nosniff", url
