"""Authentication, CSRF protection and security headers of the dashboard.

- With a token configured (`MARKETPLACED_WEB_TOKEN`) every page and API call needs it: an
  `Authorization: Bearer` header (API clients, Prometheus) or the session cookie set by the login
  form (HttpOnly, SameSite=Strict, Secure over TLS; a random id per login, see `sessions`).
  `/healthz`, `/login` and static files stay open. Wrong tokens are rate-limited per client
  address (`ratelimit`): 429 with Retry-After once a client's bucket is empty.
- Without a token the app only answers Host headers naming a loopback address or the configured
  host: a web page elsewhere cannot reach the dashboard through DNS rebinding.
- Every POST from a browser must come from one of our pages (Origin, else Referer) and carry a
  CSRF token bound to a per-browser random cookie (HMAC with a per-process secret); a request
  authenticated by a valid Authorization header needs neither (no ambient credential).
- Every response gets CSP without inline script or style, X-Frame-Options DENY, nosniff and a
  Referrer-Policy, and no Server header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Middleware

from marketplaced import access, log
from marketplaced.web.peer import Proxies
from marketplaced.web.ratelimit import FailureLimiter

if TYPE_CHECKING:
    from marketplaced.web.sessions import SessionStore

_log = log.get(__name__)

SESSION_COOKIE = "mp_session"
CSRF_COOKIE = "mp_csrf"
CSRF_FIELD = "csrf"

OPEN_PATHS = ("/healthz", "/login")
OPEN_PREFIXES = ("/static/",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: a CSRF id minted for this request, to be set as the browser's cookie with the response
CSRF_NEW = web.RequestKey("csrf_new", str)


@dataclass(frozen=True, slots=True)
class Guard:
    token: str
    bind_host: str
    #: logins; None when no token is configured (nothing to log in to)
    sessions: SessionStore | None = None
    proxies: Proxies = field(default_factory=Proxies)
    limiter: FailureLimiter = field(default_factory=FailureLimiter)
    #: per-process secret for CSRF tokens: a restart only invalidates open forms
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def token_ok(self, candidate: str) -> bool:
        return bool(self.token) and hmac.compare_digest(candidate.encode(), self.token.encode())

    def csrf_token(self, csrf_id: str) -> str:
        return hmac.new(self.secret, csrf_id.encode(), hashlib.sha256).hexdigest()

    async def authenticate(self, request: web.Request) -> bool:
        """Let an authenticated request through (True when by a Bearer header), else raise
        401/429 for API clients or redirect a browser to the login form."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            self._check_bearer(request, header[7:].strip())
            return True
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if cookie and self.sessions is not None and await self.sessions.valid(cookie):
            return False
        if is_api(request.path):
            raise _unauthorized("authentication required: Authorization: Bearer <token>")
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")

    def _check_bearer(self, request: web.Request, candidate: str) -> None:
        client = self.proxies.client(request)
        wait = self.limiter.retry_after(client)
        if wait is not None:
            # refused before the comparison: while blocked, a guess teaches nothing
            raise web.HTTPTooManyRequests(
                text=f'{{"error": "too many wrong tokens from {client}: retry in {wait} s"}}',
                content_type="application/json",
                headers={"Retry-After": str(wait)},
            )
        if not self.token_ok(candidate):
            self.limiter.failed(client)
            _log.warning("web_auth_failed", peer=client, path=request.path)
            raise _unauthorized("wrong token")

    def host_allowed(self, request: web.Request) -> bool:
        if self.enabled:
            return True
        host = access.host_of(request.host)
        return access.is_loopback(host) or host == access.host_of(self.bind_host)

    def check_origin(self, request: web.Request) -> None:
        same, sent = self.proxies.same_site(request)
        if not same:
            host, port = self.proxies.site(request)
            _log.warning("web_cross_origin_refused", peer=self.proxies.client(request), origin=sent)
            raise web.HTTPForbidden(
                text=f"cross-site request refused: it comes from {sent!r}, not from this site "
                f"({host}:{port}). Behind a TLS proxy, list it in [web] trusted_proxies.\n"
            )


def _unauthorized(message: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=f'{{"error": "{message}"}}',
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="marketplaced"'},
    )


def is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/metrics"


def csrf_id(request: web.Request) -> str:
    """This browser's CSRF id: from its cookie, or a new one the response will set."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 16 <= len(existing) <= 64 and existing.isalnum():
        return existing
    if CSRF_NEW not in request:
        request[CSRF_NEW] = secrets.token_hex(16)
    return request[CSRF_NEW]


def local_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/status"


def guard_middleware(guard: Guard) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not guard.host_allowed(request):
            raise web.HTTPMisdirectedRequest(text="unexpected Host header\n")
        open_path = request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES)
        by_bearer = guard.enabled and not open_path and await guard.authenticate(request)
        if request.method not in SAFE_METHODS and not by_bearer:
            guard.check_origin(request)
            await _check_csrf(request, guard)
        response = await handler(request)
        new = request.get(CSRF_NEW)
        if new and not response.prepared:
            response.set_cookie(
                CSRF_COOKIE,
                str(new),
                httponly=True,
                samesite="Strict",
                path="/",
                secure=guard.proxies.secure(request),
            )
        return response

    return middleware


async def _check_csrf(request: web.Request, guard: Guard) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    form = await request.post()
    sent = form.get(CSRF_FIELD)
    if (
        not cookie
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode(), guard.csrf_token(cookie).encode())
    ):
        raise web.HTTPForbidden(text="CSRF check failed: reload the page and try again\n")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: covers handlers, errors, static files and streams alike."""
    # aiohttp announces "Python/3.x aiohttp/3.x": a free hint of which CVEs to try
    response.headers.popall("Server", None)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        # figures and forms are per user and change constantly: never cache them
        response.headers.setdefault("Cache-Control", "no-store")


def set_session(
    response: web.StreamResponse, value: str, *, max_age_s: float, secure: bool
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="Strict",
        path="/",
        max_age=int(max_age_s),
        secure=secure,
    )
