"""A category's market (seller shares, concentration, price bands, best-selling products) and the
sellers list of a category, for yesterday and the last 7 or 30 finished days, are summed from the
period's built sums per product (sales_period_market) into exactly what summing the day rows gives —
products that moved category or seller, sold without a known price or changed band included; read as
worked out per category for the page's named sellers — and a recount of a finished day rebuilds
them. Other price bands than the build's are summed from the day rows."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from marketplaced.sales import periods
from marketplaced.web import sales_window as sw
from marketplaced.web import summaries
from marketplaced.web.listing import fetch_page
from marketplaced.web.queries import category_market, sales, sellers
from marketplaced.web.queries.sales import Period
from tests.helpers.period_seed import NOW, TODAY, TZ, seed

#: the seed prices at 9 000, 10 000 and 12 000 a unit: each band sells
EDGES = (9500, 11000)
SUBTREES = {1: [1, 2, 3], 2: [2], 4: [4, 5]}

pytestmark = pytest.mark.timeout(120)


async def seed_more(pool: asyncpg.Pool) -> None:
    """The seed, plus a product that moved from category 2 and seller 10 to category 5 and
    seller 11 within the week, and one that sold without a known price."""
    await seed(pool)
    rows = []
    for back in range(1, 15):
        day = TODAY - timedelta(days=back)
        cat, seller = (5, 11) if back <= 3 else (2, 10)
        rows.append((day, 500, seller, cat, 2 + back % 3, (2 + back % 3) * 10_500, False))
        rows.append((day, 501, 12, 3, 4, 0, False))
    await pool.execute(
        "INSERT INTO products (id, title, category_id, seller_id) "
        "VALUES (500, 'Moved', 5, 11), (501, 'Unpriced', 3, 12)"
    )
    await pool.executemany(
        "INSERT INTO sales_product_daily VALUES ($1, $2, $3, $4, $5, $6, $5, 0, 0, 0, 0, 2, $7)",
        rows,
    )


async def figures(pool: asyncpg.Pool, period: Period) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cid, subtree in SUBTREES.items():
        for top in (3, category_market.TOP_SELLERS):
            m = await category_market.market(pool, cid, subtree, period, EDGES, top=top)
            out[f"market {cid} {top}"] = dataclasses.replace(m, precomputed=False)
            out[f"built {cid} {top}"] = m.precomputed
        w = await sw.window(pool, period)
        scope = sellers.SellerScope(cid, subtree)
        for sort in ("units", "sales_revenue", "growth"):
            q = sellers.seller_ranking(sort, None, False, None, 5, w, 2, scope)
            out[f"sellers {cid} {sort}"] = (await fetch_page(pool, q)).rows
            count = sellers.seller_count(sort, None, False, w, scope)
            out[f"count {cid} {sort}"] = await pool.fetchval(count.sql, *count.args)
    return out


def without_path(f: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in f.items() if not k.startswith("built")}


@pytest.mark.parametrize("days", [1, 7, 30])
async def test_the_built_market_gives_what_the_day_rows_give(pool: asyncpg.Pool, days: int) -> None:
    await seed_more(pool)
    await summaries.refresh(pool)  # who sells in which category
    period = sales.last_days(days, NOW, TZ)
    direct = await figures(pool, period)
    assert not any(v for k, v in direct.items() if k.startswith("built"))
    m = direct["market 1 3"]
    assert m.unpriced_units and all(b.units for b in m.bands) and m.sellers and m.products
    assert direct["sellers 1 sales_revenue"] and direct["count 4 units"]
    assert await periods.refresh(pool, TZ, NOW, 64, EDGES) > 0
    built = await figures(pool, period)
    assert all(v for k, v in built.items() if k.startswith("built"))
    assert without_path(built) == without_path(direct)
    # a build by other bands is not read: the day rows are summed
    other = await category_market.market(pool, 1, SUBTREES[1], period, (10_000,))
    assert not other.precomputed


async def test_a_recount_of_a_finished_day_rebuilds_the_market(pool: asyncpg.Pool) -> None:
    await seed_more(pool)
    period = sales.last_days(7, NOW, TZ)
    await periods.refresh(pool, TZ, NOW, 64, EDGES)
    before = await category_market.market(pool, 1, SUBTREES[1], period, EDGES)
    assert before.precomputed
    yesterday = TODAY - timedelta(days=1)
    await pool.execute(
        "UPDATE sales_product_daily SET units = units + 50, revenue = revenue + 5000000 "
        "WHERE day = $1 AND product_id = 501",
        yesterday,
    )
    await pool.execute(
        "UPDATE sales_days SET updated_at = $1 WHERE day = $2", NOW + timedelta(hours=2), yesterday
    )
    assert await periods.refresh(pool, TZ, NOW + timedelta(hours=2, minutes=30), 64, EDGES) > 0
    after = await category_market.market(pool, 1, SUBTREES[1], period, EDGES)
    assert after.precomputed and after.revenue == before.revenue + 5_000_000
    await pool.execute("DELETE FROM sales_period_builds")
    direct = await category_market.market(pool, 1, SUBTREES[1], period, EDGES)
    assert not direct.precomputed
    assert dataclasses.replace(after, precomputed=False) == direct


async def test_other_band_edges_rebuild_the_periods(pool: asyncpg.Pool) -> None:
    await seed_more(pool)
    period = sales.last_days(30, NOW, TZ)
    await periods.refresh(pool, TZ, NOW, 64, EDGES)
    assert await periods.refresh(pool, TZ, NOW + timedelta(minutes=1), 64, EDGES) == 0
    assert await periods.refresh(pool, TZ, NOW + timedelta(minutes=2), 64, (10_000,)) > 0
    m = await category_market.market(pool, 1, SUBTREES[1], period, (10_000,))
    assert m.precomputed and len(m.bands) == 2
