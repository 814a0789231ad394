"""Notification delivery through Apprise (Telegram, e-mail, Slack, webhooks … by URL).

Apprise is synchronous (it uses `requests`), so each attempt runs in a worker thread with
`asyncio.to_thread` and the event loop never waits on a slow chat API. Every configured URL is
its own channel with its own retries (exponential backoff between attempts, awaited on the loop,
not slept in the thread), its own time limit, its own circuit and its own result, so one broken
or hanging channel neither delays the others nor makes them send twice (delivery.py runs the
channels side by side). Channels are named by Apprise's
privacy-masked URL: tokens never reach logs or the database.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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


@dataclass(slots=True)
class _Circuit:
    """Consecutive failed deliveries of one channel, and until when it is skipped."""

    failures: int = 0
    open_until: datetime | None = None


class AppriseNotifier:
    """The configured channels, each delivered on its own: `send(channel, …)` tries one
    channel with retries under its own time limit, and a channel whose last `circuit_failures`
    deliveries failed is skipped (`available` is False) for `circuit_cooldown_s`; after the
    cool-down one delivery probes it again. The circuit lives as long as the AppriseNotifier (the
    daemon keeps it across runs); `lock(channel)` lets a channel carry one message at a time,
    so a run never overlaps a send that a cancelled run left in flight."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        attempts: int,
        backoff_s: float,
        timeout_s: float,
        circuit_failures: int = 3,
        circuit_cooldown_s: float = 900.0,
    ) -> None:
        self._channels = {ch.name: ch for ch in (_Channel(u) for u in urls)}
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        self._trip_after = circuit_failures
        self._cooldown = timedelta(seconds=circuit_cooldown_s)
        self._circuits = {name: _Circuit() for name in self._channels}
        self._locks = {name: asyncio.Lock() for name in self._channels}
        for ch in self._channels.values():
            if not ch.valid:
                _log.error("notify_url_invalid", channel=ch.name)

    @property
    def channels(self) -> list[str]:
        return list(self._channels)

    def available(self, channel: str, now: datetime) -> bool:
        """False while the channel's circuit is open (too many failures, cool-down running)."""
        until = self._circuits[channel].open_until
        return until is None or now >= until

    def lock(self, channel: str) -> asyncio.Lock:
        return self._locks[channel]

    async def send(self, channel: str, title: str, body: str, now: datetime) -> ChannelResult:
        """One message to one channel (with retries); updates the channel's circuit."""
        result = await self._send_one(self._channels[channel], title, body)
        circuit = self._circuits[channel]
        if result.ok:
            circuit.failures, circuit.open_until = 0, None
            return result
        circuit.failures += 1
        if circuit.failures >= self._trip_after:
            circuit.open_until = now + self._cooldown
            _log.warning(
                "notify_channel_skipped",
                channel=channel,
                failures=circuit.failures,
                until=circuit.open_until.isoformat(),
            )
        return result

    async def _send_one(self, ch: _Channel, title: str, body: str) -> ChannelResult:
        if not ch.valid:
            return ChannelResult(ch.name, False, 0, "invalid or unsupported Apprise URL")
        delay = self._backoff_s
        error: str | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                # Apprise gets the limit too, but a plugin may not honour it: the wait is capped
                # here (the worker thread then ends on its own socket timeout)
                error = await asyncio.wait_for(
                    asyncio.to_thread(ch.send, title, body, self._timeout_s), self._timeout_s
                )
            except TimeoutError:
                error = f"no answer within {self._timeout_s:g} s"
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
