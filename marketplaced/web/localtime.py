"""How the dashboard shows times: in the configured zone (`[web] timezone`), always named.

The marketplaces, the analytics days and the job schedules all live in Asia/Tashkent time, so
pages show that zone by default; UTC on screen put a 03:00 deal on the previous day. Every page
names the zone in its header, and every time on a page is a `<time>` element whose `datetime`
attribute is ISO 8601 with the offset and whose tooltip gives UTC, so nothing is ambiguous.
The JSON API and CSV stay ISO 8601 with the offset as stored (see `listing.json_value`).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from markupsafe import Markup

#: minutes are what an operator reads; seconds would only add noise to every table
SHOWN = "%Y-%m-%d %H:%M"


def zone(name: str) -> ZoneInfo:
    """The zone of `[web] timezone` (validated when the config was loaded)."""
    return ZoneInfo(name)


def offset(tz: tzinfo, at: datetime | None = None) -> str:
    """'UTC+05:00' for Tashkent (the offset in force at `at`, default now)."""
    moment = (at or datetime.now(UTC)).astimezone(tz)
    raw = moment.strftime("%z") or "+0000"
    return f"UTC{raw[:3]}:{raw[3:]}"


def label(tz: tzinfo, at: datetime | None = None) -> str:
    """'Asia/Tashkent (UTC+05:00)', or just 'UTC'."""
    name = str(tz)
    shown = offset(tz, at)
    return "UTC" if name == "UTC" and shown == "UTC+00:00" else f"{name} ({shown})"


def text(value: datetime, tz: tzinfo) -> str:
    """The local wall-clock text of an aware (or UTC-naive) datetime."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime(SHOWN)


def markup(value: datetime, tz: tzinfo) -> Markup:
    """`<time>` with the local text, ISO 8601 with offset, and the UTC time as tooltip."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    local = aware.astimezone(tz)
    return Markup('<time datetime="{iso}" title="{utc} UTC">{shown}</time>').format(
        iso=local.isoformat(timespec="seconds"),
        utc=aware.astimezone(UTC).strftime(SHOWN),
        shown=local.strftime(SHOWN),
    )
