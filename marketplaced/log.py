"""Logging: structlog everywhere, stdlib loggers of libraries routed through the same renderer.

Three renderings, chosen by `[log] format` (auto picks one):
- journal: under systemd (`JOURNAL_STREAM` set) every line starts with the syslog priority
  prefix (`<3>` error, `<4>` warning, `<6>` info, `<7>` debug) so `journalctl -p warning` works;
- console: colourless key=value lines for a human on a TTY;
- json: one JSON object per line for log shippers.
The level lives on the stdlib root logger, so `set_level` (SIGHUP) changes it everywhere at once.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import structlog

#: syslog priorities journald understands as line prefixes (sd-daemon(3))
_PRIORITY = {"critical": 2, "error": 3, "exception": 3, "warning": 4, "info": 6, "debug": 7}


def _journal_prefix(_: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    event["_prio"] = _PRIORITY.get(event.get("level", method), 6)
    return event


class _JournalRenderer:
    """Render `<prio>event key=value …` for journald's stdout stream parsing."""

    def __init__(self) -> None:
        self._inner = structlog.processors.KeyValueRenderer(
            key_order=["event"], drop_missing=True, sort_keys=False
        )

    def __call__(self, logger: Any, method: str, event: dict[str, Any]) -> str:
        prio = event.pop("_prio", 6)
        event.pop("timestamp", None)  # journald stamps every line itself
        return f"<{prio}>{self._inner(logger, method, event)}"


def choose_format(configured: str, stream: TextIO | None = None) -> str:
    if configured != "auto":
        return configured
    if os.environ.get("JOURNAL_STREAM"):
        return "journal"
    stream = stream or sys.stderr
    return "console" if stream.isatty() else "json"


def setup(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog and the stdlib root logger; safe to call again (tests, reload)."""
    stream = stream or sys.stderr
    fmt = choose_format(fmt, stream)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: Any
    if fmt == "journal":
        shared.append(_journal_prefix)
        renderer = _JournalRenderer()
    elif fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    set_level(level)
    # asyncio's debug chatter and aiohttp's per-request access lines are noise in a daemon log
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def set_level(level: str) -> None:
    logging.getLogger().setLevel(level.upper())


def current_level() -> str:
    return logging.getLevelName(logging.getLogger().level).lower()


def get(name: str, **context: Any) -> Any:
    """A bound structlog logger (typed Any: structlog's BoundLogger API is dynamic)."""
    return structlog.get_logger(name).bind(**context) if context else structlog.get_logger(name)
