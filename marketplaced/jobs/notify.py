"""Notification delivery through Apprise (Telegram, e-mail, Slack, webhooks … by URL).

Apprise is synchronous (it uses `requests`), so each attempt runs in a worker thread with
`asyncio.to_thread` and the event loop never waits on a slow chat API. Every configured URL is
its own channel with its own retries (exponential backoff between attempts, awaited on the loop,
not slept in the thread) and its own result, so one broken channel neither blocks the others
nor makes them send twice when the failed one is retried later. Channels are named by Apprise's
privacy-masked URL: tokens never reach logs or the database.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from marketplaced import log

_log = log.get(__name__)

_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class ChannelResult:
    channel: str
    ok: bool
    attempts: int
    error: str | None


def split_urls(text: str) -> list[str]:
    return [u for u in _SPLIT.split(text.strip()) if u]


class _Channel:
    def __init__(self, url: str) -> None:
        # Apprise's e-mail plugin imports the stdlib `imghdr`, deprecated since 3.11; that
        # warning is Apprise's to fix and says nothing about this program, so it is muted here
        # (the plugins load on add()). Imported late: loading a config need not pay for it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import apprise

            self.app = apprise.Apprise()
            self.valid = bool(self.app.add(url))
        scheme = url.split("://", 1)[0]
        plugin: Any = self.app[0] if self.valid else None  # url() is untyped in Apprise
        self.name = str(plugin.url(privacy=True)) if plugin else f"{scheme}://(invalid)"

    def send(self, title: str, body: str, timeout_s: float) -> str | None:
        """Blocking; runs in a worker thread. None on success, else why it failed."""
        result: Any = self.app.notify(body=body, title=title, timeout=timeout_s)
        if result:
            return None
        logs = getattr(result, "logs", None)
        messages = [e.message for e in logs() if e.level in ("WARNING", "ERROR")] if logs else []
        return (messages[-1] if messages else "delivery failed")[:1000]


class Notifier:
    """Sends one message to every channel; `skip` names channels that already have it."""

    def __init__(
        self, urls: Sequence[str], *, attempts: int, backoff_s: float, timeout_s: float
    ) -> None:
        self._channels = [_Channel(u) for u in urls]
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        for ch in self._channels:
            if not ch.valid:
                _log.error("notify_url_invalid", channel=ch.name)

    @property
    def channels(self) -> list[str]:
        return [ch.name for ch in self._channels]

    async def send(self, title: str, body: str, skip: Collection[str] = ()) -> list[ChannelResult]:
        todo = [ch for ch in self._channels if ch.name not in skip]
        return list(await asyncio.gather(*(self._send_one(ch, title, body) for ch in todo)))

    async def _send_one(self, ch: _Channel, title: str, body: str) -> ChannelResult:
        if not ch.valid:
            return ChannelResult(ch.name, False, 0, "invalid or unsupported Apprise URL")
        delay = self._backoff_s
        error: str | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                error = await asyncio.to_thread(ch.send, title, body, self._timeout_s)
            except Exception as exc:  # a plugin bug must cost one attempt, not the job
                error = f"{type(exc).__name__}: {exc}"[:1000]
            if error is None:
                _log.info("notification_sent", channel=ch.name, attempts=attempt)
                return ChannelResult(ch.name, True, attempt, None)
            _log.warning("notification_failed", channel=ch.name, attempt=attempt, error=error)
            if attempt < self._attempts:
                await asyncio.sleep(delay)
                delay *= 2
        return ChannelResult(ch.name, False, self._attempts, error)
