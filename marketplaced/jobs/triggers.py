"""Job schedules as text: a 5-field crontab ("0 3 * * *") or an interval ("every 15m").

Config stores schedules as strings so they stay readable in the TOML file; this module turns
them into APScheduler 3.x triggers; the configuration (jobs/config.py) parses each one when
the file is loaded, so a typo is a clear config error, not a failure at 03:00.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_EVERY = re.compile(r"^every (\d+(?:\.\d+)?)([smh])$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0}
#: crontab numbers day-of-week from Sunday = 0 (and 7); APScheduler 3.x from Monday = 0,
#: so numbers are turned into names, which both read the same way
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DOW_NUMBER = re.compile(r"(?<![/\d])\d+")


def timezone(name: str) -> tzinfo:
    return ZoneInfo(name)


def interval_s(spec: str) -> float | None:
    """Seconds of an 'every …' schedule, None for a crontab."""
    match = _EVERY.match(spec.strip())
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def trigger(spec: str, tz: tzinfo) -> BaseTrigger:
    """The APScheduler trigger of a schedule string; ValueError when it does not parse."""
    seconds = interval_s(spec)
    if seconds is not None:
        if seconds <= 0:
            raise ValueError("an interval must be longer than zero")
        return IntervalTrigger(seconds=seconds, timezone=tz)
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 crontab fields or 'every <n>s|m|h', got {len(fields)}")

    def dow_name(m: re.Match[str]) -> str:
        n = int(m.group(0))
        if n > 7:
            raise ValueError(f"day of week {n} is not 0-7")
        return _DOW_NAMES[n]

    fields[4] = _DOW_NUMBER.sub(dow_name, fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=tz)


def first_due(spec: str, tz: tzinfo, after: datetime) -> datetime | None:
    """The first slot of `spec` strictly after `after` (for catch-up after a restart)."""
    seconds = interval_s(spec)
    if seconds is not None:
        return after + timedelta(seconds=seconds)
    due: datetime | None = trigger(spec, tz).get_next_fire_time(
        None, after + timedelta(microseconds=1)
    )
    return due
