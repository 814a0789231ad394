"""What a query's plan reads: the nodes of `EXPLAIN (ANALYZE, FORMAT JSON)`, for tests that
check how a query is answered (which index, how many rows read) rather than how fast."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import asyncpg

Node = dict[str, Any]


async def explain(
    conn: asyncpg.Connection, sql: str, *args: Any, index_walks: bool = False
) -> Node:
    """The executed plan's root node. `index_walks`: no whole-table or bitmap scans — the
    tables of a test are tiny, so those always win there, while the point is which walk of
    an index the query offers the planner of a full-size table."""
    async with conn.transaction():
        if index_walks:
            await conn.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        raw = await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args)
    plan: Node = json.loads(raw)[0]["Plan"]
    return plan


def nodes(plan: Node) -> Iterator[Node]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def scans(plan: Node, table: str) -> list[Node]:
    """The nodes reading `table` (a scan of its heap or of one of its indexes)."""
    return [n for n in nodes(plan) if n.get("Relation Name") == table]


def rows_read(node: Node) -> int:
    """Rows a scan node produced plus those its filter threw away, over all its loops."""
    return int(node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * int(
        node["Actual Loops"]
    )
