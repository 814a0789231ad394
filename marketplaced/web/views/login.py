"""The login form, login and logout: a session per login, rate-limited wrong tokens."""

from __future__ import annotations

from aiohttp import web

from marketplaced import db, log
from marketplaced.web.security import SESSION_COOKIE, local_next, set_session
from marketplaced.web.views.common import db_failure, render, state

_log = log.get(__name__)

WRONG_TOKEN = "That token is not right."


async def login_form(request: web.Request) -> web.Response:
    nxt = local_next(request.rel_url.query.get("next"))
    return await _form(request, nxt, None, 200)


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    guard = state(request).guard
    nxt = local_next(str(form.get("next", "")))
    if not guard.enabled or guard.sessions is None:
        raise web.HTTPSeeOther(nxt)
    client = guard.proxies.client(request)
    wait = guard.limiter.retry_after(client)
    if wait is not None:
        # refused before the comparison, like a Bearer header: a blocked guess teaches nothing
        msg = f"Too many wrong tokens from your address: try again in {wait} s."
        resp = await _form(request, nxt, msg, 429)
        resp.headers["Retry-After"] = str(wait)
        return resp
    token = form.get("token")
    if not (isinstance(token, str) and guard.token_ok(token)):
        guard.limiter.failed(client)
        _log.warning("web_login_failed", peer=client)
        return await _form(request, nxt, WRONG_TOKEN, 401)
    try:
        value = await guard.sessions.create(client)
    except db.UNAVAILABLE_ERRORS as exc:
        _log.error("web_login_not_recorded", peer=client, error=db_failure(exc))
        msg = (
            "PostgreSQL is unreachable, so no login can be recorded now: try again in a moment "
            "(API clients can use Authorization: Bearer meanwhile)."
        )
        return await _form(request, nxt, msg, 503)
    _log.info("web_login", peer=client)
    resp = web.HTTPSeeOther(nxt)
    set_session(
        resp, value, max_age_s=guard.sessions.max_age_s, secure=guard.proxies.secure(request)
    )
    raise resp


async def logout(request: web.Request) -> web.Response:
    guard = state(request).guard
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and guard.sessions is not None:
        try:
            await guard.sessions.revoke(cookie)
        except db.UNAVAILABLE_ERRORS as exc:
            # the cookie stays: deleting it here would pretend a logout that did not happen
            _log.error(
                "web_logout_not_recorded", peer=guard.proxies.client(request), error=db_failure(exc)
            )
            raise web.HTTPServiceUnavailable(
                text="PostgreSQL is unreachable, so the logout could not be recorded: "
                "try again in a moment"
            ) from None
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp


async def _form(request: web.Request, nxt: str, failed: str | None, status: int) -> web.Response:
    ctx = {"title": "Log in", "next": nxt, "failed": failed}
    return await render(request, "login.html", ctx, status=status)
