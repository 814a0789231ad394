"""The size of the database and of its main tables (partitions included), for the status page."""

from __future__ import annotations

import asyncpg

#: the tables whose sizes the status page lists (the big ones first in practice)
_SIZE_TABLES = (
    "price_history",
    "product_stats_history",
    "products",
    "skus",
    "sellers",
    "categories",
    "uzex_lots",
    "uzex_lot_items",
    "dead_letters",
    "job_runs",
)


async def sizes(pool: asyncpg.Pool) -> tuple[int, list[asyncpg.Record]]:
    """Database size and the sizes of the main tables (partitions included)."""
    db_size = await pool.fetchval("SELECT pg_database_size(current_database())")
    rows = await pool.fetch(
        """
        SELECT t.name,
               coalesce((SELECT sum(pg_total_relation_size(i.inhrelid))
                         FROM pg_inherits i WHERE i.inhparent = c.oid), 0)
               + pg_total_relation_size(c.oid) AS bytes
        FROM unnest($1::text[]) AS t(name) JOIN pg_class c ON c.oid = to_regclass(t.name)
        ORDER BY bytes DESC""",
        list(_SIZE_TABLES),
    )
    return int(db_size), rows
