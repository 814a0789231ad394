"""What every view shares: the app's keys and state, rendering with CSRF and navigation,
value formatting for templates, and links that keep the current filters."""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import asyncpg
from aiohttp import web

from marketplaced.config import Config
from marketplaced.web import export, list_table, listing, localtime
from marketplaced.web.count_cache import CountCache
from marketplaced.web.daemon_interface import Controls, StatusSource
from marketplaced.web.listing import ListQuery, Page
from marketplaced.web.param_spec import Param
from marketplaced.web.params import Params
from marketplaced.web.queries.catalog import CategoryCache, CategoryTree
from marketplaced.web.security import Guard, csrf_id

POOL: web.AppKey[asyncpg.Pool] = web.AppKey("pool")
CONFIG: web.AppKey[Config] = web.AppKey("config")
STATUS: web.AppKey[StatusSource] = web.AppKey("status")
CONTROLS: web.AppKey[Controls] = web.AppKey("controls")
STATE: web.AppKey[WebState] = web.AppKey("web_state")

NAV = (
    ("/status", "Status"),
    ("/products", "Products"),
    ("/sellers", "Sellers"),
    ("/trends", "Trends"),
    ("/analytics", "Analytics"),
    ("/uzex/lots", "UZEX"),
    ("/alerts", "Alerts"),
    ("/how-we-count", "How we count"),
)


@dataclass
class WebState:
    """The web app's own state (one per app, no module globals)."""

    guard: Guard
    categories: CategoryCache = field(default_factory=CategoryCache)
    #: product searches' totals (the page and the API), kept for a minute
    search_counts: CountCache = field(default_factory=CountCache)
    #: (wall clock, {scanner: rate}) samples for the status page's rate chart
    rates: deque[tuple[float, dict[str, float]]] = field(default_factory=lambda: deque(maxlen=360))
    #: the zone pages show times in (`[web] timezone`)
    zone: tzinfo = UTC


def db_failure(exc: BaseException) -> str:
    """A one-line reason for a database failure, for a banner or an error page."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def pool(request: web.Request) -> asyncpg.Pool:
    return request.app[POOL]


def state(request: web.Request) -> WebState:
    return request.app[STATE]


async def category_tree(request: web.Request) -> CategoryTree:
    return await state(request).categories.get(pool(request))


async def render(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    guard = state(request).guard
    ctx = {
        **context,
        "nav": NAV,
        "export_links": EXPORT_LINKS,
        "path": request.path,
        "csrf_token": guard.csrf_token(csrf_id(request)),
        "auth_enabled": guard.enabled,
        "generated_at": datetime.now(UTC),
        "zone_label": localtime.label(state(request).zone),
    }
    return aiohttp_jinja2.render_template(template, request, ctx, status=status)


def params(request: web.Request, table: Sequence[Param] = ()) -> Params:
    """The request's query string read against `table` (no table: no parameter accepted)."""
    return Params(request.rel_url.query, table)


async def list_response(
    request: web.Request, q: ListQuery, template: str, context: Mapping[str, Any], filename: str
) -> web.StreamResponse:
    """The page, or its export twin (`.csv`, `.semicolon.csv`, `.xlsx`: same query, same rows)."""
    if is_export(request):
        return await export.stream_export(request, pool(request), q, filename, state(request).zone)
    return await page_response(
        request, await listing.fetch_page(pool(request), q), template, context
    )


async def page_response(
    request: web.Request, page: Page, template: str, context: Mapping[str, Any]
) -> web.Response:
    """A list's page of rows, already read, with its links."""
    return await render(
        request, template, {**context, "page": page, "links": page_links(request, page)}
    )


# -- links ----------------------------------------------------------------------------------------


def with_query(request: web.Request, **changes: Any) -> str:
    """The current URL with some parameters changed (None removes one)."""
    query = {k: v for k, v in request.rel_url.query.items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return request.path + ("?" + urlencode(query) if query else "")


#: the export twins offered next to every list, with their link text
EXPORT_LINKS = (("CSV", ".csv"), ("CSV ; (Excel ru/uz)", ".semicolon.csv"), ("XLSX", ".xlsx"))


def is_export(request: web.Request) -> bool:
    """Whether the request asks for a list's export twin rather than its page."""
    return export.export_format(request.path) is not None


def _exports(path: str, qs: str) -> list[tuple[str, str]]:
    suffix = export.export_format(path)
    base = path[: -len(suffix)] if suffix else path
    return [(label, base + ext + ("?" + qs if qs else "")) for label, ext in EXPORT_LINKS]


def csv_link(request: web.Request) -> list[tuple[str, str]]:
    """This page's rows in each export format: (link text, URL)."""
    return _exports(request.path, request.rel_url.query_string)


def csv_all_link(request: web.Request, limit: int) -> list[tuple[str, str]]:
    """Every matching row (up to `limit`) in each export format."""
    query = {
        k: v for k, v in request.rel_url.query.items() if k not in ("cursor", "offset", "limit")
    }
    query["limit"] = str(limit)
    return _exports(request.path, urlencode(query))


# -- formatting -----------------------------------------------------------------------------------


#: the whole numbers a float holds exactly: below this, an integer is written as it is
_EXACT_INT = 2**53


def fmt(value: Any, kind: str = "text", *, tz: tzinfo = UTC) -> str:
    # the two cells a list is mostly made of first, written as the general rules below write
    # them (a list page formats some 650 values)
    if type(value) is str:
        return value
    if type(value) is int and kind in ("int", "money") and -_EXACT_INT < value < _EXACT_INT:
        return f"{value:,}".replace(",", " ")
    if value is None or listing.is_infinite(value):
        return "—"
    if kind in ("int", "money") and isinstance(value, int | float | Decimal):
        number = float(value)
        if kind == "money" and isinstance(value, Decimal) and value != value.to_integral():
            return f"{number:,.2f}".replace(",", " ")
        return f"{round(number):,}".replace(",", " ")
    if kind == "pct" and isinstance(value, int | float | Decimal):
        return f"{float(value):.1f} %"
    if kind == "rating" and isinstance(value, int | float):
        return f"{value:.1f}"
    if isinstance(value, datetime):
        return localtime.markup(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def ago(moment: float | datetime | None) -> str:
    if moment is None:
        return "never"
    if listing.is_infinite(moment):
        return "—"
    epoch = moment.timestamp() if isinstance(moment, datetime) else moment
    seconds = max(0.0, time.time() - epoch)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def ts(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def template_globals(zone: tzinfo) -> dict[str, Any]:
    local_fmt = functools.partial(fmt, tz=zone)
    return {
        "fmt": local_fmt,
        "list_table": functools.partial(list_table.render, fmt=local_fmt),
        "ago": ago,
        "fmt_bytes": fmt_bytes,
        "ts": ts,
    }


def zone(request: web.Request) -> tzinfo:
    return state(request).zone


def page_links(request: web.Request, page: Page) -> dict[str, Any]:
    next_link = None
    if page.next_cursor:
        next_link = with_query(request, cursor=page.next_cursor, offset=None)
    elif page.next_offset is not None:
        next_link = with_query(request, offset=page.next_offset, cursor=None)
    first = None
    if "cursor" in request.rel_url.query or "offset" in request.rel_url.query:
        first = with_query(request, cursor=None, offset=None)
    return {"next": next_link, "first": first, "csv": csv_link(request)}
