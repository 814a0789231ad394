"""Delivery of stored alert events to the notification channels, each channel on its own.

Every channel works through the events it has not received yet in a task of its own, so a
hanging or failing channel costs only its own time: the others are done long before it times
out, and its circuit (notify.py) stops it being tried again and again within a run. What it
missed stays owed to it — an event is `sent` only when every channel has it, `failed` (retried
by later runs for `redeliver_h`) otherwise. Each message is recorded in `alert_deliveries` the
moment its channel answered, in a task shielded from cancellation: a run cut short by its budget
or a shutdown keeps the record of what already arrived, so nothing is sent twice. Events over
a rule's daily cap are not sent one by one; each channel gets one summary of them per run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from marketplaced import log
from marketplaced.jobs.alerts import AlertSettings
from marketplaced.jobs.notify import AppriseNotifier

_log = log.get(__name__)

#: events delivered per channel per run at most; the rest wait for the next run
_BATCH = 200
#: lines of a summary message; beyond them it says how many more there were
_SUMMARY_LINES = 50

# $1 channel, $2 failed events younger than this are retried, $3 limit
_OWED = """
SELECT e.id, e.title, e.message FROM alert_events e
WHERE (e.status = 'pending' OR (e.status = 'failed' AND e.created_at > $2))
  AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.channel = $1 AND d.status = 'sent'
                  AND d.event_ids @> ARRAY[e.id])
ORDER BY e.id LIMIT $3"""
_UNSENT = """
SELECT id FROM alert_events
WHERE status = 'pending' OR (status = 'failed' AND created_at > $1) ORDER BY id LIMIT $2"""
# $1 channel, $2 status ('capped' or 'digest'), $3 events younger than this (NULL: any age)
_OWED_SUMMARY = """
SELECT e.id, e.title FROM alert_events e
WHERE e.status = $2 AND ($3::timestamptz IS NULL OR e.created_at > $3)
  AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.channel = $1 AND d.status = 'sent'
                  AND d.event_ids @> ARRAY[e.id])
ORDER BY e.id"""
_DIGEST_QUEUE = "SELECT id FROM alert_events WHERE status = 'digest' ORDER BY id"
_RECORD = """
INSERT INTO alert_deliveries (event_ids, channel, status, attempts, error)
VALUES ($1, $2, $3, $4, $5)"""
# $1 events, $2 channels, $3 statuses to settle, $4 the status of an event some channel lacks
_SETTLE = """
UPDATE alert_events e
SET status = CASE WHEN got.n = cardinality($2::text[]) THEN 'sent' ELSE $4 END,
    sent_at = CASE WHEN got.n = cardinality($2::text[]) THEN now() END
FROM (SELECT x.id, (SELECT count(DISTINCT d.channel) FROM alert_deliveries d
                    WHERE d.event_ids @> ARRAY[x.id] AND d.status = 'sent'
                      AND d.channel = ANY($2::text[])) AS n
      FROM unnest($1::bigint[]) AS x (id)) got
WHERE e.id = got.id AND e.status = ANY($3::text[])
RETURNING e.status"""
_STORE = "UPDATE alert_events SET status = 'stored' WHERE id = ANY($1::bigint[])"
_INSERT_HEALTH_EVENT = """
INSERT INTO alert_events (kind, item, observed_at, title, message, status)
VALUES ('health', 'daemon', $1, $2, $3, 'pending') RETURNING id"""


async def deliver(
    pool: asyncpg.Pool, notifier: AppriseNotifier, s: AlertSettings, now: datetime
) -> int:
    """Owed events to every channel, side by side; returns how many every channel now has."""
    since = now - s.redeliver
    ids = [r["id"] for r in await pool.fetch(_UNSENT, since, _BATCH)]
    if not notifier.channels:
        await pool.execute(_STORE, ids)
        return 0
    async with asyncio.TaskGroup() as tg:
        for channel in notifier.channels:
            tg.create_task(_channel_run(pool, notifier, channel, since, now, s.digest))
    return await _settle(pool, ids, notifier.channels, ("pending", "failed"), "failed")


async def _channel_run(
    pool: asyncpg.Pool,
    notifier: AppriseNotifier,
    channel: str,
    since: datetime,
    now: datetime,
    digest: bool,
) -> None:
    # a send a cancelled run left in flight finishes (and is recorded) before the list is made
    async with notifier.lock(channel):
        pass
    for e in await pool.fetch(_OWED, channel, since, _BATCH):
        if not notifier.available(channel, now):
            _log.info("notify_channel_waiting", channel=channel, reason="circuit open")
            return
        await send_recorded(pool, notifier, channel, [e["id"]], e["title"], e["message"], now)
    if digest:
        return  # the capped ones go with the digest
    capped = await pool.fetch(_OWED_SUMMARY, channel, "capped", since)
    if capped and notifier.available(channel, now):
        title, body = summary([], capped)
        await send_recorded(pool, notifier, channel, [e["id"] for e in capped], title, body, now)


async def send_recorded(
    pool: asyncpg.Pool,
    notifier: AppriseNotifier,
    channel: str,
    event_ids: list[int],
    title: str,
    body: str,
    now: datetime,
) -> bool:
    """Send one message to one channel and record it; True when it arrived. Shielded: once a
    message is on its way, its record is written even if the caller is cancelled."""
    return await asyncio.shield(_send(pool, notifier, channel, event_ids, title, body, now))


async def _send(
    pool: asyncpg.Pool,
    notifier: AppriseNotifier,
    channel: str,
    event_ids: list[int],
    title: str,
    body: str,
    now: datetime,
) -> bool:
    async with notifier.lock(channel):
        r = await notifier.send(channel, title, body, now)
        status = "sent" if r.ok else "failed"
        await pool.execute(_RECORD, event_ids, channel, status, r.attempts, r.error)
    return r.ok


async def _settle(
    pool: asyncpg.Pool,
    ids: list[int],
    channels: Sequence[str],
    statuses: Sequence[str],
    incomplete: str,
) -> int:
    rows = await pool.fetch(_SETTLE, ids, list(channels), list(statuses), incomplete)
    return sum(1 for r in rows if r["status"] == "sent")


def summary(events: Sequence[asyncpg.Record], capped: Sequence[asyncpg.Record]) -> tuple[str, str]:
    """Title and body of one message standing for many events: the digest's, then the ones
    over their rule's daily cap (listed too, so a flood ends in one message, not silence)."""
    parts = [f"{len(events)} alert(s)"] if events else []
    if capped:
        parts.append(
            f"{len(capped)} over the daily cap"
            if events
            else f"{len(capped)} alert(s) over the daily cap"
        )
    lines = _bullets(events)
    if capped:
        lines += ["Over the daily cap:"] if events else []
        lines += _bullets(capped)
    return "marketplaced: " + ", ".join(parts), "\n".join(lines)


def _bullets(events: Sequence[asyncpg.Record]) -> list[str]:
    lines = [f"• {e['title']}" for e in events[:_SUMMARY_LINES]]
    if len(events) > _SUMMARY_LINES:
        lines.append(f"… and {len(events) - _SUMMARY_LINES} more")
    return lines


async def send_digest(
    pool: asyncpg.Pool, notifier: AppriseNotifier, s: AlertSettings, now: datetime
) -> int:
    """One message per channel with every event waiting for the digest that it lacks (and the
    capped ones of the redelivery window); returns the digest events every channel now has."""
    ids = [r["id"] for r in await pool.fetch(_DIGEST_QUEUE)]
    if not notifier.channels:
        return 0

    async def one(channel: str) -> None:
        async with notifier.lock(channel):
            pass
        # a digest event waits for its channels as long as it takes: no age limit
        events = await pool.fetch(_OWED_SUMMARY, channel, "digest", None)
        capped = await pool.fetch(_OWED_SUMMARY, channel, "capped", now - s.redeliver)
        if (events or capped) and notifier.available(channel, now):
            title, body = summary(events, capped)
            covered = [e["id"] for e in (*events, *capped)]
            await send_recorded(pool, notifier, channel, covered, title, body, now)

    async with asyncio.TaskGroup() as tg:
        for channel in notifier.channels:
            tg.create_task(one(channel))
    return await _settle(pool, ids, notifier.channels, ("digest",), "digest")


async def notify_health(
    pool: asyncpg.Pool, notifier: AppriseNotifier, now: datetime, title: str, body: str
) -> None:
    """A health transition as an event of its own (kind 'health'), delivered at once."""
    event_id = await pool.fetchval(_INSERT_HEALTH_EVENT, now, title, body)
    if not notifier.channels:
        await pool.execute(_STORE, [event_id])
        return
    async with asyncio.TaskGroup() as tg:
        for channel in notifier.channels:
            if notifier.available(channel, now):
                tg.create_task(send_recorded(pool, notifier, channel, [event_id], title, body, now))
    await _settle(pool, [event_id], notifier.channels, ("pending",), "failed")
