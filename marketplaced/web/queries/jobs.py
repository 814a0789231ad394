"""Reads of what the scheduled jobs write (004_jobs.sql): their runs, daily analytics, alert rules
and events, health-check results. Each reader first checks its table exists, so the dashboard works
on a database where the jobs' migration or their first run has not happened yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from marketplaced.web.listing import Column, ListQuery, Where

JOB_RUN_COLUMNS = (
    Column("id", "Run", "int"),
    Column("job", "Job"),
    Column("started_at", "Started", "datetime"),
    Column("finished_at", "Finished", "datetime"),
    Column("outcome", "Outcome"),
    Column("rows_touched", "Rows", "int"),
    Column("error", "Error"),
)

EVENT_COLUMNS = (
    Column("id", "Event", "int"),
    Column("created_at", "When", "datetime"),
    Column("rule", "Rule"),
    Column("kind", "Kind"),
    Column("title", "Title"),
    Column("message", "Message"),
    Column("old_value", "Old", "int"),
    Column("new_value", "New", "int"),
    Column("product_id", "Product", "int", link="/products/{product_id}"),
    Column("status", "Delivery"),
)

DAY_SELLER_COLUMNS = (
    Column("rank_revenue", "Rank", "int"),
    Column("seller_id", "Seller ID", "int", link="/sellers/{seller_id}"),
    Column("seller", "Seller", link="/sellers/{seller_id}"),
    Column("revenue", "Revenue, so'm", "money"),
    Column("sales", "Sales", "int"),
    Column("orders", "Orders", "int"),
    Column("products_with_sales", "Products with sales", "int"),
    Column("quality", "Quality"),
)


async def latest_day(pool: asyncpg.Pool) -> asyncpg.Record | None:
    """The newest day the analytics job computed, with its completeness."""
    return await pool.fetchrow(
        "SELECT day, complete, observed_pct, computed_at FROM analytics_days "
        "ORDER BY day DESC LIMIT 1"
    )


def sellers_of_day(day: date, offset: int, limit: int) -> ListQuery:
    w = Where()
    w.add("d.day = {}", day)
    off = w.param(offset)
    sql = (
        "SELECT d.rank_revenue, d.seller_id, s.title AS seller, d.revenue, d.sales, d.orders, "  # noqa: S608 - constant fragments, values are $n parameters
        "d.products_with_sales, d.quality FROM analytics_seller_daily d "
        f"LEFT JOIN sellers s ON s.id = d.seller_id WHERE {w.sql} "
        f"ORDER BY d.revenue DESC, d.seller_id DESC OFFSET {off} LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), DAY_SELLER_COLUMNS, limit, offset=offset)


async def categories_of_day(pool: asyncpg.Pool, day: date, ids: list[int]) -> list[asyncpg.Record]:
    """The analytics job's figures of `day` for the given categories (any tree level)."""
    return await pool.fetch(
        "SELECT d.category_id, c.title, d.revenue, d.orders, d.sales, d.products_listed, "
        "d.sellers_with_sales, d.avg_price, d.price_bands, d.quality "
        "FROM analytics_category_daily d LEFT JOIN categories c ON c.id = d.category_id "
        "WHERE d.day = $1 AND d.category_id = ANY($2::integer[]) ORDER BY d.revenue DESC",
        day,
        ids,
    )


def bands(raw: Any) -> list[dict[str, Any]]:
    data = json.loads(raw) if isinstance(raw, str) else raw
    return [b for b in data if isinstance(b, dict)] if isinstance(data, list) else []


# -- runs -----------------------------------------------------------------------------------------


def job_runs(job: str | None, cursor: tuple[Any, ...] | None, limit: int) -> ListQuery:
    w = Where()
    if job:
        w.add("job = {}", job)
    if cursor is not None:
        w.add("id < {}", cursor[0])
    sql = (
        "SELECT id, job, started_at, finished_at, outcome, rows_touched, error FROM job_runs "  # noqa: S608 - constant fragments, values are $n parameters
        f"WHERE {w.sql} ORDER BY id DESC LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), JOB_RUN_COLUMNS, limit, keyset=("id",))


async def last_job_runs(pool: asyncpg.Pool) -> dict[str, asyncpg.Record]:
    """The latest run of every job (index job_runs_job_started)."""
    rows = await pool.fetch(
        "SELECT DISTINCT ON (job) job, started_at, finished_at, outcome, rows_touched, error "
        "FROM job_runs ORDER BY job, started_at DESC"
    )
    return {r["job"]: r for r in rows}


async def job_run_counts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT job, outcome, count(*) AS n, max(finished_at) AS last FROM job_runs "
        "GROUP BY job, outcome ORDER BY job, outcome"
    )


# -- alerts ---------------------------------------------------------------------------------------


async def alert_rules(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT r.*, (SELECT max(created_at) FROM alert_events e WHERE e.rule_id = r.id) AS last "
        "FROM alert_rules r ORDER BY r.name"
    )


def alert_events(
    rule_id: int | None, kind: str | None, cursor: tuple[Any, ...] | None, limit: int
) -> ListQuery:
    w = Where()
    if rule_id is not None:
        w.add("e.rule_id = {}", rule_id)
    if kind:
        w.add("e.kind = {}", kind)
    if cursor is not None:
        w.add("e.id < {}", cursor[0])
    sql = (
        "SELECT e.id, e.created_at, r.name AS rule, e.kind, e.title, e.message, e.old_value, "  # noqa: S608 - constant fragments, values are $n parameters
        "e.new_value, e.product_id, e.status FROM alert_events e "
        f"LEFT JOIN alert_rules r ON r.id = e.rule_id WHERE {w.sql} "
        f"ORDER BY e.id DESC LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), EVENT_COLUMNS, limit, keyset=("id",))


async def recent_deliveries(pool: asyncpg.Pool, limit: int = 20) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT created_at, channel, status, attempts, error, cardinality(event_ids) AS events "
        "FROM alert_deliveries ORDER BY id DESC LIMIT $1",
        limit,
    )


# -- health ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedCheck:
    name: str
    ok: bool
    detail: str
    checked_at: datetime


async def latest_health(pool: asyncpg.Pool) -> list[RecordedCheck]:
    """The checks of the newest health_checks row (empty before the first run)."""
    row = await pool.fetchrow(
        "SELECT checked_at, checks FROM health_checks ORDER BY checked_at DESC LIMIT 1"
    )
    if row is None:
        return []
    checks = json.loads(row["checks"]) if isinstance(row["checks"], str) else row["checks"]
    out = []
    for name, result in sorted((checks or {}).items()):
        if isinstance(result, dict):
            out.append(
                RecordedCheck(
                    name, bool(result.get("ok")), str(result.get("detail", "")), row["checked_at"]
                )
            )
    return out
