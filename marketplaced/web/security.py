"""Authentication, CSRF protection and security headers of the dashboard.

- With a token configured (`MARKETPLACED_WEB_TOKEN`) every page and API call needs it: an
  `Authorization: Bearer` header (API clients, Prometheus) or the session cookie set by the login
  form (HttpOnly, SameSite=Strict; its value is an HMAC of the token, not the token). `/healthz`,
  `/login` and static files stay open.
- Without a token the app only answers Host headers naming a loopback address or the configured
  host: a web page elsewhere cannot reach the dashboard through DNS rebinding.
- Every POST carries a CSRF token bound to a per-browser random cookie (HMAC with a per-process
  secret); a request authenticated by an Authorization header needs none (no ambient credential).
- Every response gets CSP without inline script or style, X-Frame-Options DENY, nosniff and a
  Referrer-Policy.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Middleware

from marketplaced import access

SESSION_COOKIE = "mp_session"
CSRF_COOKIE = "mp_csrf"
CSRF_FIELD = "csrf"
#: a login lasts a working week; the token itself never expires until it is rotated
SESSION_MAX_AGE_S = 7 * 86400

OPEN_PATHS = ("/healthz", "/login")
OPEN_PREFIXES = ("/static/",)

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
    #: per-process secret for CSRF tokens: a restart only invalidates open forms
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def session_value(self) -> str:
        return hmac.new(self.token.encode(), b"marketplaced-session-v1", hashlib.sha256).hexdigest()

    def token_ok(self, candidate: str) -> bool:
        return bool(self.token) and hmac.compare_digest(candidate.encode(), self.token.encode())

    def csrf_token(self, csrf_id: str) -> str:
        return hmac.new(self.secret, csrf_id.encode(), hashlib.sha256).hexdigest()

    def authenticated(self, request: web.Request) -> bool:
        if not self.enabled:
            return True
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.token_ok(header[7:].strip())
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self.session_value().encode())

    def host_allowed(self, request: web.Request) -> bool:
        if self.enabled:
            return True
        host = access.host_of(request.host)
        return access.is_loopback(host) or host == access.host_of(self.bind_host)


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
        path = request.path
        if not guard.host_allowed(request):
            raise web.HTTPMisdirectedRequest(text="unexpected Host header\n")
        open_path = path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
        authed_by_header = request.headers.get("Authorization", "").startswith("Bearer ")
        if not open_path and not guard.authenticated(request):
            if is_api(path) or authed_by_header:
                raise web.HTTPUnauthorized(
                    text='{"error": "authentication required: Authorization: Bearer <token>"}',
                    content_type="application/json",
                    headers={"WWW-Authenticate": 'Bearer realm="marketplaced"'},
                )
            raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
        if request.method not in ("GET", "HEAD", "OPTIONS") and not (
            authed_by_header and guard.enabled
        ):
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
                secure=request.secure,
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


def set_session(response: web.StreamResponse, guard: Guard, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        guard.session_value(),
        httponly=True,
        samesite="Strict",
        path="/",
        max_age=SESSION_MAX_AGE_S,
        secure=secure,
    )
