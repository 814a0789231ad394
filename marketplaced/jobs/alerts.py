"""Price and stock alerts: evaluate rules on new history, store events, deliver them.

Each run looks at the history rows observed since the last run's watermark (minus a settle
time, so a batch still committing is not half-seen) and asks every enabled rule for
candidates (alerts_sql.py). Hygiene, in this order: a rule fires once per change and is then
disarmed for that item until `rearm_h` has passed (hysteresis: a price flapping around a
threshold is one alert); beyond the rule's daily cap an event is stored as `capped`, not sent;
in digest mode events wait for the digest. Events, rule state and the watermark commit in one
transaction, so a crash cannot fire twice. Delivery runs after the commit: every channel is
tried with retries; a failed one is retried by later runs (only the channels that have not got
it) for `redeliver_h`, and every attempt is recorded in `alert_deliveries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import asyncpg

from marketplaced import log
from marketplaced.config import AlertsConfig
from marketplaced.jobs import alerts_sql as q
from marketplaced.jobs.notify import Notifier
from marketplaced.jobs.rules import RuleSpec
from marketplaced.jobs.state import load_state, save_state

_log = log.get(__name__)

#: on the very first run (no watermark yet) look back this far
_FIRST_LOOKBACK = timedelta(hours=1)
#: after a long outage evaluate at most this much history: older changes are stale news
_MAX_WINDOW = timedelta(days=1)
#: events delivered per run at most; the rest wait for the next run
_DELIVER_BATCH = 200
#: lines of a digest message; beyond them it says how many more there were
_DIGEST_LINES = 50
_PRODUCT_URL = "https://uzum.uz/product/{}"


@dataclass(frozen=True, slots=True)
class AlertSettings:
    rearm: timedelta
    daily_cap: int
    digest: bool
    settle: timedelta
    new_low_days: int
    fake_discount_pct: float
    fake_discount_days: int
    redeliver: timedelta
    tz: tzinfo

    @classmethod
    def from_config(cls, cfg: AlertsConfig, tz: tzinfo) -> AlertSettings:
        return cls(
            rearm=timedelta(hours=cfg.rearm_h),
            daily_cap=cfg.daily_cap,
            digest=cfg.digest,
            settle=timedelta(seconds=cfg.settle_s),
            new_low_days=cfg.new_low_days,
            fake_discount_pct=cfg.fake_discount_pct,
            fake_discount_days=cfg.fake_discount_days,
            redeliver=timedelta(hours=cfg.redeliver_h),
            tz=tz,
        )


async def sync_config_rules(pool: asyncpg.Pool, specs: Sequence[RuleSpec]) -> None:
    """Make the config's rules rows of `alert_rules` (by name); disable ones no longer there."""
    async with pool.acquire() as conn, conn.transaction():
        for s in specs:
            await conn.execute(
                q.SYNC_RULE,
                s.name,
                s.kind,
                s.scope,
                s.target_id,
                s.pct,
                s.price,
                s.days,
                s.cap,
                s.rearm_h,
            )
        await conn.execute(q.DISABLE_STALE_RULES, [s.name for s in specs])


async def evaluate(pool: asyncpg.Pool, settings: AlertSettings, now: datetime) -> list[int]:
    """Turn the changes observed since the last run into events; returns the new event ids."""
    hi = now - settings.settle
    state = await load_state(pool, "alerts")
    lo = datetime.fromisoformat(state["until"]) if "until" in state else hi - _FIRST_LOOKBACK
    lo = max(lo, hi - _MAX_WINDOW)
    if lo >= hi:
        return []
    created: list[int] = []
    async with pool.acquire() as conn, conn.transaction():
        rules = await conn.fetch(q.RULES)
        if rules:
            for statement in (q.SKU_CHANGES, q.PRODUCT_CHANGES, q.NEW_PRODUCTS):
                await conn.execute(statement, lo, hi)
            await conn.execute(q.CLOSURE)
            for rule in rules:
                created += await _apply_rule(conn, rule, settings)
        await save_state(conn, "alerts", {"until": hi.isoformat()})
    if created:
        _log.info("alerts_fired", events=len(created), since=lo.isoformat(), until=hi.isoformat())
    return created


def _query(rule: asyncpg.Record, s: AlertSettings) -> tuple[str, tuple[Any, ...]]:
    """The candidate query of a rule and its option parameters ($3, $4 …)."""
    kind, sku_scope = rule["kind"], rule["scope"] == "sku"
    if kind == "price_drop":
        return q.PRICE_DROP, (rule["pct"], rule["price"])
    if kind == "new_low":
        return q.NEW_LOW, (rule["days"] or s.new_low_days,)
    if kind == "fake_discount":
        days = rule["days"] or s.fake_discount_days
        return q.FAKE_DISCOUNT, (rule["pct"] or s.fake_discount_pct, days)
    if kind == "out_of_stock":
        return (q.SKU_OUT_OF_STOCK if sku_scope else q.PRODUCT_OUT_OF_STOCK), ()
    if kind == "back_in_stock":
        return (q.SKU_BACK_IN_STOCK if sku_scope else q.PRODUCT_BACK_IN_STOCK), ()
    return q.NEW_PRODUCT, ()


async def _apply_rule(conn: Any, rule: asyncpg.Record, s: AlertSettings) -> list[int]:
    sql, options = _query(rule, s)
    candidates = await conn.fetch(sql, rule["scope"], rule["target_id"], *options)
    rearm = timedelta(hours=rule["rearm_h"]) if rule["rearm_h"] is not None else s.rearm
    cap = rule["daily_cap"] or s.daily_cap
    created = []
    for c in sorted(candidates, key=lambda r: (r["observed_at"], r["item"])):
        last = await conn.fetchval(q.STATE, rule["id"], c["item"])
        if last is not None and c["observed_at"] - last < rearm:
            continue  # disarmed: this item already told the user about a change
        day_start = _local_midnight(c["observed_at"], s.tz)
        fired = await conn.fetchval(
            q.FIRED_TODAY, rule["id"], day_start, day_start + timedelta(days=1)
        )
        status = "capped" if fired >= cap else "digest" if s.digest else "pending"
        title, message = describe(rule["kind"], c)
        event_id = await conn.fetchval(
            q.INSERT_EVENT,
            rule["id"],
            rule["kind"],
            c["item"],
            c["product_id"],
            c["sku_id"],
            c["observed_at"],
            c["old_value"],
            c["new_value"],
            title,
            message,
            status,
        )
        await conn.execute(q.SAVE_STATE, rule["id"], c["item"], c["observed_at"], c["new_value"])
        created.append(event_id)
    return created


def _local_midnight(moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _som(value: int | None) -> str:
    return "?" if value is None else f"{value:,}".replace(",", " ") + " so'm"


def describe(kind: str, c: Any) -> tuple[str, str]:
    """Title and body of an event (plain text: every Apprise service renders it)."""
    name = c["title"] if len(c["title"]) <= 80 else c["title"][:79] + "…"
    variant = f" ({c['detail']})" if c["detail"] else ""
    old, new = c["old_value"], c["new_value"]
    if kind in ("price_drop", "new_low"):
        head = "Price drop" if kind == "price_drop" else "Lowest price in a long while"
        pct = f" (-{(old - new) * 100 / old:.1f} %)" if old else ""
        line = f"{_som(old)} → {_som(new)}{pct}"
    elif kind == "fake_discount":
        head, line = "Suspicious discount", f"list price raised to {_som(new)} before the sale"
    elif kind == "out_of_stock":
        head, line = "Out of stock", f"{old} → 0 available"
    elif kind == "back_in_stock":
        head, line = "Back in stock", f"{new} available"
    else:
        head, line = "New product", f"from {_som(new)}"
    url = _PRODUCT_URL.format(c["product_id"])
    return f"{head}: {name}", f"{name}{variant}\n{line}\n{url}"


# -- delivery ------------------------------------------------------------------------------------
async def deliver(pool: asyncpg.Pool, notifier: Notifier, s: AlertSettings, now: datetime) -> int:
    """Send pending (and recently failed) events one by one; returns how many were sent."""
    events = await pool.fetch(q.UNSENT, now - s.redeliver, _DELIVER_BATCH)
    if not events:
        return 0
    if not notifier.channels:
        await pool.execute(q.SET_STATUS, [e["id"] for e in events], "stored")
        return 0
    sent = 0
    for e in events:
        if await send_and_record(pool, notifier, [e["id"]], e["title"], e["message"]):
            sent += 1
    return sent


async def send_and_record(
    pool: asyncpg.Pool, notifier: Notifier, event_ids: list[int], title: str, body: str
) -> bool:
    """Send to the channels that have not got it yet; record each; True when all have it."""
    done = {r["channel"] for r in await pool.fetch(q.SENT_CHANNELS, event_ids[0])}
    results = await notifier.send(title, body, skip=done)
    for r in results:
        status = "sent" if r.ok else "failed"
        await pool.execute(q.INSERT_DELIVERY, event_ids, r.channel, status, r.attempts, r.error)
    ok = all(r.ok for r in results)
    await pool.execute(q.SET_STATUS, event_ids, "sent" if ok else "failed")
    return ok


async def send_digest(pool: asyncpg.Pool, notifier: Notifier) -> int:
    """One message with every event waiting for the digest; returns the events covered."""
    events = await pool.fetch(q.DIGEST_QUEUE)
    if not events or not notifier.channels:
        return 0
    lines = [f"• {e['title']}" for e in events[:_DIGEST_LINES]]
    if len(events) > _DIGEST_LINES:
        lines.append(f"… and {len(events) - _DIGEST_LINES} more")
    title = f"marketplaced: {len(events)} alert(s)"
    ok = await send_and_record(pool, notifier, [e["id"] for e in events], title, "\n".join(lines))
    return len(events) if ok else 0


async def notify_health(
    pool: asyncpg.Pool, notifier: Notifier, now: datetime, title: str, body: str
) -> None:
    """A health transition as an event of its own (kind 'health'), delivered at once."""
    event_id = await pool.fetchval(q.INSERT_HEALTH_EVENT, now, title, body)
    if notifier.channels:
        await send_and_record(pool, notifier, [event_id], title, body)
    else:
        await pool.execute(q.SET_STATUS, [event_id], "stored")


async def recent(pool: asyncpg.Pool, limit: int = 50) -> list[dict[str, Any]]:
    """The latest events, newest first, for the dashboard."""
    return [dict(r) for r in await pool.fetch(q.RECENT, limit)]
