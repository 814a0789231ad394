"""UZEX reads: lots by type with filters, one lot with its items and status history, and the
customer/provider pages. The tables come from 003_uzex.sql; pages check they exist first.

Lots of one type are keyset-paginated on (date, lot id) or (cost, lot id) — indexes in
005_web.sql. A lot's "date" is its deal date, else its start date; its "cost" the deal cost,
else the start cost. The sentinels keep keys NOT NULL so row comparisons stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from marketplaced.web.listing import Column, ListQuery, Where

LOT_TYPES = ("auction", "shop", "national", "etender")
LOT_SORTS = ("date", "cost")
STATUSES = ("active", "completed")
DATE_EXPR = "coalesce(l.deal_date, l.start_date, timestamptz '1970-01-01 00:00:00+00')"
COST_EXPR = "coalesce(l.deal_cost, l.start_cost, -1)"

LOT_COLUMNS = (
    Column("lot_type", "Type"),
    Column("lot_id", "Lot", "int", link="/uzex/lots/{lot_type}/{lot_id}"),
    Column("display_no", "Number", link="/uzex/lots/{lot_type}/{lot_id}"),
    Column("status", "Status"),
    Column("date", "Date", "datetime"),
    Column("category_name", "Category"),
    Column("customer_name", "Customer", link="/uzex/customers/{customer_inn}"),
    Column("customer_inn", "Customer INN"),
    Column("provider_name", "Provider", link="/uzex/providers/{provider_inn}"),
    Column("provider_inn", "Provider INN"),
    Column("customer_region", "Region"),
    Column("start_cost", "Start cost", "money"),
    Column("deal_cost", "Deal cost", "money"),
    Column("participants", "Participants", "int"),
)


@dataclass(frozen=True, slots=True)
class LotFilter:
    lot_type: str = "auction"
    status: str | None = None
    customer_inn: str | None = None
    provider_inn: str | None = None
    category: str | None = None
    region: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    min_cost: Decimal | None = None
    max_cost: Decimal | None = None
    sort: str = "date"
    cursor: tuple[Any, ...] | None = None
    limit: int = 50


def cursor_kinds(sort: str) -> tuple[type, ...]:
    return (datetime, int) if sort == "date" else (Decimal, int)


def lot_list(f: LotFilter) -> ListQuery:
    w = Where()
    w.add("l.lot_type = {}", f.lot_type)
    if f.status:
        w.add("l.status = {}", f.status)
    if f.customer_inn:
        w.add("l.customer_inn = {}", f.customer_inn)
    if f.provider_inn:
        w.add("l.provider_inn = {}", f.provider_inn)
    if f.category:
        w.add("l.category_name = {}", f.category)
    if f.region:
        w.add("l.customer_region = {}", f.region)
    if f.date_from:
        w.add(f"{DATE_EXPR} >= {{}}::date", f.date_from)
    if f.date_to:
        w.add(f"{DATE_EXPR} < {{}}::date + 1", f.date_to)
    if f.min_cost is not None:
        w.add(f"{COST_EXPR} >= {{}}", f.min_cost)
    if f.max_cost is not None:
        w.add(f"{COST_EXPR} <= {{}}", f.max_cost)
    key = DATE_EXPR if f.sort == "date" else COST_EXPR
    if f.cursor is not None:
        w.add(f"({key}, l.lot_id) < ({{}}, {{}})", *f.cursor)
    sql = (
        "SELECT l.lot_type, l.lot_id, l.display_no, l.status, "  # noqa: S608 - constant fragments, values are $n parameters
        f"coalesce(l.deal_date, l.start_date) AS date, {key} AS sort_key, l.category_name, "
        "l.customer_name, l.customer_inn, l.provider_name, l.provider_inn, l.customer_region, "
        "l.start_cost, l.deal_cost, l.participants "
        f"FROM uzex_lots l WHERE {w.sql} ORDER BY {key} DESC, l.lot_id DESC "
        f"LIMIT {w.next_mark()}"
    )
    return ListQuery(sql, tuple(w.args), LOT_COLUMNS, f.limit, keyset=("sort_key", "lot_id"))


async def lot(pool: asyncpg.Pool, lot_type: str, lot_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT * FROM uzex_lots WHERE lot_type = $1 AND lot_id = $2", lot_type, lot_id
    )


async def lot_items(pool: asyncpg.Pool, lot_type: str, lot_id: int) -> list[asyncpg.Record]:
    # a lot has tens of lines, a big tender a few hundred: 1000 bounds a malformed one
    return await pool.fetch(
        "SELECT line_no, name, description, quantity, unit, unit_price, cost, country, currency "
        "FROM uzex_lot_items WHERE lot_type = $1 AND lot_id = $2 ORDER BY line_no LIMIT 1000",
        lot_type,
        lot_id,
    )


async def lot_history(pool: asyncpg.Pool, lot_type: str, lot_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT observed_at, status, deal_cost, kazna_status, kazna_payment_status, "
        "deal_status_name FROM uzex_lot_status_history WHERE lot_type = $1 AND lot_id = $2 "
        "ORDER BY observed_at LIMIT 1000",
        lot_type,
        lot_id,
    )


_PARTY_COL = {"customer": "customer_inn", "provider": "provider_inn"}


async def party(pool: asyncpg.Pool, kind: str, inn: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM uzex_parties WHERE inn = $1 AND kind = $2", inn, kind)


async def party_totals(pool: asyncpg.Pool, kind: str, inn: str) -> list[asyncpg.Record]:
    """Deals per lot type: count, total deal cost, first and last deal date."""
    col = _PARTY_COL[kind]  # a constant chosen by `kind`, never user text
    return await pool.fetch(
        f"SELECT lot_type, count(*) AS lots, sum(deal_cost) AS total, min(deal_date) AS first, "  # noqa: S608
        f"max(deal_date) AS last FROM uzex_lots WHERE {col} = $1 GROUP BY lot_type "
        "ORDER BY lot_type",
        inn,
    )
