"""Price and stock alerts: evaluate rules on new history, store events, deliver them.

Each run looks at the history rows of the writer batches committed since the last run — the
watermark is the commit log's number (commit_log.py), not a time, so a batch that committed
late is not skipped and one still committing is not half-seen — and asks every enabled rule for
candidates (alerts_sql.py). Hygiene, in this order: a rule fires once per change and is then
disarmed for that item until `rearm_h` has passed (hysteresis: a price flapping around a
threshold is one alert); beyond the rule's daily cap an event is stored as `capped`, not sent;
in digest mode events wait for the digest. Events, rule state and the watermark commit in one
transaction, so a crash cannot fire twice. Delivery runs after the commit (delivery.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import asyncpg

from marketplaced import commit_log, log
from marketplaced.jobs import alerts_sql as q
from marketplaced.jobs.config import AlertsConfig
from marketplaced.jobs.rules import RuleSpec
from marketplaced.jobs.state import load_state, save_state

_log = log.get(__name__)

#: on the very first run (no watermark yet) look back this far
_FIRST_LOOKBACK = timedelta(hours=1)
#: after a long outage evaluate at most this much history: older changes are stale news
_MAX_WINDOW = timedelta(days=1)
_PRODUCT_URL = "https://uzum.uz/product/{}"


@dataclass(frozen=True, slots=True)
class AlertSettings:
    rearm: timedelta
    daily_cap: int
    digest: bool
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
    """Turn the batches committed since the last run into events; returns the new event ids.
    Events, rule state and the watermark commit together."""
    async with pool.acquire() as conn, conn.transaction():
        created, window = await _evaluate(conn, settings, now)
    if created:
        _log.info("alerts_fired", events=len(created), **window)
    return created


async def preview(pool: asyncpg.Pool, settings: AlertSettings, now: datetime) -> list[Any]:
    """What `evaluate` would store now (kind, item, status, title per event), changing nothing:
    the same work in a transaction that is rolled back."""
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            created, _ = await _evaluate(conn, settings, now)
            return list(await conn.fetch(q.EVENTS_BY_ID, created))
        finally:
            await tr.rollback()


async def _evaluate(
    conn: Any, settings: AlertSettings, now: datetime
) -> tuple[list[int], dict[str, Any]]:
    """The batches numbered after the watermark (commit order, see commit_log), whatever their
    stamps: a batch that committed late is still new to us. The first run (or the first after
    the time-based watermark of older versions) takes the batches stamped after that time."""
    state = await load_state(conn, "alerts")
    upto = await commit_log.top(conn)
    # stale news: after a long outage only the last day of changes is worth telling
    oldest = now - _MAX_WINDOW
    if "seq" in state:
        stamps = await commit_log.stamps_after(conn, int(state["seq"]), upto, oldest)
    else:
        since = (
            datetime.fromisoformat(state["until"]) if "until" in state else now - _FIRST_LOOKBACK
        )
        stamps = await commit_log.stamps_since(conn, upto, max(since, oldest))
    created: list[int] = []
    rules = await conn.fetch(q.RULES)
    if rules and stamps:
        for statement in (q.SKU_CHANGES, q.PRODUCT_CHANGES, q.NEW_PRODUCTS):
            await conn.execute(statement, stamps, stamps[0], stamps[-1])
        await conn.execute(q.CLOSURE)
        for rule in rules:
            created += await _apply_rule(conn, rule, settings)
    await save_state(conn, "alerts", {"seq": upto})
    return created, {"batches": len(stamps), "upto": upto}


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
    return q.NEW_PRODUCT, (rule["created_at"],)


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


async def recent(pool: asyncpg.Pool, limit: int = 50) -> list[dict[str, Any]]:
    """The latest events, newest first, for the dashboard."""
    return [dict(r) for r in await pool.fetch(q.RECENT, limit)]
