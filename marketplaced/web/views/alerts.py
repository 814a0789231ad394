"""The alerts page: the rules, the events they raised (a list with its CSV twin) and the recent
deliveries of the notification channels."""

from __future__ import annotations

from aiohttp import web

from marketplaced.web import param_spec as ps
from marketplaced.web.queries import jobs
from marketplaced.web.views.common import is_export, list_response, params, pool

ALERT_PARAMS = (
    ps.integer("rule", "alert rule id"),
    ps.text("kind", "alert kind", max_len=50),
    ps.LIMIT,
    ps.CURSOR,
)


async def alerts_page(request: web.Request) -> web.StreamResponse:
    p = params(request, ALERT_PARAMS)
    q = jobs.alert_events(
        p.integer("rule"),
        p.text("kind"),
        p.cursor((int,)),
        p.limit(csv=is_export(request)),
    )
    db = pool(request)
    ctx = {
        "title": "Alerts",
        "form": dict(request.rel_url.query),
        "rules": await jobs.alert_rules(db),
        "deliveries": await jobs.recent_deliveries(db),
    }
    return await list_response(request, q, "alerts.html", ctx, "alert-events.csv")
