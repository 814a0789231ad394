"""The dashboard's app factory: a guest of the daemon, given everything it uses.

`create_app(WebDeps(...))` builds the aiohttp application: dependencies under `web.AppKey`s
(pool, config, status source, controls, the app's own metrics registry), Jinja2 with
autoescaping, request counting, the security middleware, error handling (bad parameters → 400,
JSON under /api), routes, and two background tasks
owned by the app (cleanup contexts): the rate sampler for the status chart and the summary
refresher. `start_site(app, cfg)` serves it on `[web] host/port` and returns the runner the
daemon cleans up on shutdown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp_jinja2
import asyncpg
import jinja2
from aiohttp import web

from marketplaced import db, log, price_bands
from marketplaced.config import Config
from marketplaced.web import endpoints, localtime, openapi, prometheus, summaries
from marketplaced.web.daemon_interface import Controls, StatusSource
from marketplaced.web.export import EXPORT_SUFFIXES, export_format
from marketplaced.web.figures_cache import FIGURES, WORD_SHARES, schedule_cache, word_shares_cache
from marketplaced.web.listing import RESPONSE_STARTED
from marketplaced.web.params import ParamError
from marketplaced.web.peer import Proxies
from marketplaced.web.security import Guard, add_security_headers, guard_middleware, is_api
from marketplaced.web.sessions import SessionStore
from marketplaced.web.views import (
    alerts,
    analytics,
    catalog,
    category_page,
    how_we_count,
    login,
    product,
    seller,
    status_page,
    trends,
    uzex,
)
from marketplaced.web.views.common import (
    CONFIG,
    CONTROLS,
    POOL,
    STATE,
    STATUS,
    WebState,
    db_failure,
    render,
    template_globals,
)

_log = log.get(__name__)
HERE = Path(__file__).resolve().parent
#: 10 s samples: 360 points make the hour of the rate chart
RATE_SAMPLE_S = 10.0
#: how long start_site lets open requests finish on shutdown
SHUTDOWN_GRACE_S = 2.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class WebDeps:
    pool: asyncpg.Pool
    config: Config
    status: StatusSource
    controls: Controls
    #: summary refresh period; None = never in the background (tests refresh explicitly)
    summary_refresh_s: float | None = summaries.REFRESH_INTERVAL_S
    rate_sample_s: float = RATE_SAMPLE_S


def create_app(deps: WebDeps) -> web.Application:
    web_cfg = deps.config.web
    guard = Guard(
        token=web_cfg.token,
        bind_host=web_cfg.host,
        sessions=SessionStore(deps.pool, web_cfg.token) if web_cfg.token else None,
        proxies=Proxies.parse(web_cfg.trusted_proxies),
    )
    app = web.Application(
        middlewares=[_request_metrics_middleware, guard_middleware(guard), _error_middleware],
        client_max_size=64 * 1024,  # forms here are tiny; refuse large bodies early
    )
    app[POOL] = deps.pool
    app[CONFIG] = deps.config
    app[STATUS] = deps.status
    app[CONTROLS] = deps.controls
    zone = localtime.zone(deps.config.web.timezone)
    app[STATE] = WebState(guard=guard, zone=zone)
    app[prometheus.METRICS] = prometheus.create_metrics(deps.status)
    app[FIGURES] = schedule_cache(deps.pool)
    app[WORD_SHARES] = word_shares_cache(deps.pool)
    app.on_cleanup.append(_close_caches)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # titles, seller names, lot items: all written by strangers
        undefined=jinja2.StrictUndefined,
        # the templates are the installed package's: checking each one's file on every page
        # (three stat calls a list page) would only ever find them unchanged
        auto_reload=False,
    )
    env.globals.update(template_globals(zone))
    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.append(_rate_sampler(deps.rate_sample_s))
    app.cleanup_ctx.append(
        summaries.Refresher(
            deps.pool, deps.summary_refresh_s, price_bands.edges(deps.config.jobs.price_bands)
        ).ctx
    )
    _routes(app)
    env.globals["asset"] = _asset_urls(app)
    return app


def _asset_urls(app: web.Application) -> Callable[[str], str]:
    """A static file's URL with its content's hash (`?v=`, so a browser may keep it for good),
    worked out once: aiohttp reads and hashes the file for each URL it builds, three files a
    page. The files are the installed package's and change only with it (and a restart)."""
    static, root = app.router["static"], HERE / "static"
    names = [path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()]
    urls = {name: str(static.url_for(filename=name)) for name in names}
    return urls.__getitem__  # a file that is not there fails the page, not a silent 404


async def _close_caches(app: web.Application) -> None:
    """The caches' background reads end with the app (cancelled, not left running)."""
    await app[FIGURES].close()
    await app[WORD_SHARES].close()


def _routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", _home)
    r.add_get("/login", login.login_form)
    r.add_post("/login", login.login)
    r.add_post("/logout", login.logout)
    for probe in endpoints.PROBES:  # /healthz, /metrics
        r.add_get(probe.path, probe.handler)
    r.add_get("/status", status_page.status_page)
    r.add_post("/status/scanners/{name}/{action:pause|resume}", status_page.scanner_action)
    r.add_post("/status/dead-letters/retry", status_page.retry_dead_letters)
    r.add_post("/status/jobs/{name}/run", status_page.run_job)
    r.add_get("/products/{id}", product.product_page)
    r.add_get("/how-we-count", how_we_count.how_we_count)
    r.add_get("/trends", trends.trends_page)
    r.add_get("/categories/{id}", category_page.category_page)
    r.add_get("/sellers/{id}", seller.seller_page)
    r.add_get("/seller-comparison", seller.comparison_page)
    r.add_get("/analytics", analytics.overview)
    r.add_get("/uzex", _to_lots)
    r.add_get("/uzex/lots/{type}/{id}", uzex.lot_page)
    r.add_get("/uzex/customers/{inn}", uzex.party_page)
    r.add_get("/uzex/providers/{inn}", uzex.party_page)
    lists: dict[str, Handler] = {
        "/products": catalog.products_page,
        "/sellers": catalog.sellers_page,
        "/analytics/price-drops": analytics.price_drops,
        "/analytics/top-sellers": analytics.top_sellers,
        "/analytics/compare": analytics.compare,
        "/analytics/categories": analytics.categories,
        "/uzex/lots": uzex.lots_page,
        "/status/dead-letters": status_page.dead_letters_page,
        "/status/job-runs": status_page.job_runs_page,
        "/alerts": alerts.alerts_page,
    }
    for path, handler in lists.items():
        r.add_get(path, handler)
        for suffix in EXPORT_SUFFIXES:  # the export twins: same handler, same query
            r.add_get(path + suffix, handler)
    r.add_get("/api/v1/openapi.json", openapi.openapi_json)
    for endpoint in endpoints.API:
        r.add_get(endpoint.path, endpoint.handler)
    r.add_static("/static/", HERE / "static", name="static", append_version=True)


async def start_site(app: web.Application, cfg: Config) -> web.AppRunner:
    """Serve `app` on `[web] host/port`; the caller awaits `runner.cleanup()` on shutdown."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S)
    await runner.setup()
    site = web.TCPSite(runner, cfg.web.host, cfg.web.port, reuse_address=True)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    _log.info(
        "web_started",
        url=f"http://{cfg.web.host}:{cfg.web.port}/",
        auth="token" if cfg.web.token else "loopback-only",
    )
    return runner


# -- middlewares ---------------------------------------------------------------------------------


@web.middleware
async def _request_metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request by route pattern, method and the status it finally answered with
    (outermost, so error pages and redirects count with their own status)."""
    started = time.perf_counter()
    status = 500  # an exception no middleware turned into a response: aiohttp answers 500
    try:
        resp = await handler(request)
        status = resp.status
        return resp
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = prometheus.CLIENT_CLOSED
        raise
    finally:
        elapsed = time.perf_counter() - started
        request.app[prometheus.METRICS].observe(
            prometheus.route_name(request), request.method, status, elapsed
        )


@web.middleware
async def _error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bad parameters → 400 with the reason; HTTP errors under /api as JSON; PostgreSQL
    unreachable → 503; anything else uncaught → 500. Every error answers with the styled page
    (JSON under /api and for CSV) instead of aiohttp's bare text."""
    try:
        return await handler(request)
    except ParamError as exc:
        return await _error(request, 400, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return await _error(request, exc.status, (exc.text or exc.reason).strip(), exc)
    except db.UNAVAILABLE_ERRORS as exc:
        if _response_started(request):
            raise  # a CSV already streaming: the download breaks off, nothing else can be sent
        reason = db_failure(exc)
        _log.warning("web_database_unreachable", path=request.path, error=reason)
        return await _error(request, 503, f"The database is unreachable ({reason}). {_DB_HINT}")
    except Exception as exc:
        if _response_started(request):
            raise
        _log.exception("web_request_failed", path=request.path, method=request.method)
        message = f"Internal error ({type(exc).__name__}); the daemon's log has the details."
        return await _error(request, 500, message)


_DB_HINT = "The status page still shows what the daemon itself knows."


def _response_started(request: web.Request) -> bool:
    """Whether the handler already sent headers (a streamed CSV): then no error page fits."""
    return RESPONSE_STARTED in request


async def _error(
    request: web.Request, status_code: int, message: str, exc: web.HTTPException | None = None
) -> web.Response:
    if is_api(request.path) or export_format(request.path):
        resp = web.json_response({"error": message}, status=status_code)
    else:
        resp = await render(
            request,
            "error.html",
            {"title": f"Error {status_code}", "message": message, "code": status_code},
            status=status_code,
        )
    if exc is not None:
        for key in ("WWW-Authenticate", "Location", "Allow"):
            if key in exc.headers:
                resp.headers[key] = exc.headers[key]
    return resp


# -- small handlers ------------------------------------------------------------------------------


async def _home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/status")


async def _to_lots(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/uzex/lots")


def _rate_sampler(interval_s: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context sampling scanner rates: the daemon keeps only the current smoothed
    rate, the hour of history for the chart is the dashboard's own business."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                status_page.sample_rates(app[STATE], app[STATUS])
                await asyncio.sleep(interval_s)

        task = asyncio.create_task(loop(), name="web_rate_sampler")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return ctx


__all__ = ["WebDeps", "create_app", "start_site"]
