"""The products list's total with a price range (`min_price`/`max_price`): the products whose
cheapest SKU is in the range, counted exactly up to PRICE_MAX_COUNT ("1 000+" above it), from
the SKUs in the range — not by working out every product's cheapest price (at full scale that
count read the whole catalogue and took seconds). Real database, a plan property (rows read),
not a timing."""

from __future__ import annotations

import random

import asyncpg
import pytest

from marketplaced.web.queries import catalog
from marketplaced.web.queries.catalog import PRICE_MAX_COUNT, ProductFilter
from tests.helpers.plans import explain, rows_read, scans

PRODUCTS = 3000


@pytest.fixture
async def prices(pool: asyncpg.Pool) -> dict[int, list[int]]:
    """Each product's SKU prices (some products have none, some share a price between SKUs)."""
    rnd = random.Random(3)
    skus = {pid: [rnd.randrange(1, 200) * 5000 for _ in range(rnd.randrange(0, 4))]
            for pid in range(1, PRODUCTS + 1)}  # fmt: skip
    await pool.execute(
        "INSERT INTO products (id, title, category_id, seller_id) "
        "SELECT g, 'Product ' || g, 1, 1 FROM generate_series(1, $1) g",
        PRODUCTS,
    )
    rows = [(pid * 10 + i, pid, p) for pid, ps in skus.items() for i, p in enumerate(ps)]
    await pool.executemany(
        "INSERT INTO skus (id, product_id, purchase_price) VALUES ($1, $2, $3)", rows
    )
    await pool.execute("ANALYZE products; ANALYZE skus")
    return skus


def expected(prices: dict[int, list[int]], lo: int | None, hi: int | None) -> int:
    cheapest = [min(ps) for ps in prices.values() if ps]
    return sum((lo is None or c >= lo) and (hi is None or c <= hi) for c in cheapest)


@pytest.mark.parametrize(
    ("lo", "hi"), [(100_000, 120_000), (None, 30_000), (900_000, None), (50_000, 50_000)]
)
async def test_a_price_range_counts_the_products_whose_cheapest_sku_is_in_it(
    pool: asyncpg.Pool, prices: dict[int, list[int]], lo: int | None, hi: int | None
) -> None:
    for sort in ("orders", "price_asc", "price_desc"):
        count = catalog.product_count(ProductFilter(min_price=lo, max_price=hi, sort=sort))
        want = expected(prices, lo, hi)
        assert 0 < want <= PRICE_MAX_COUNT
        assert await pool.fetchval(count.sql, *count.args) == want


async def test_a_wide_range_stops_at_the_cap_without_reading_the_catalogue(
    pool: asyncpg.Pool, prices: dict[int, list[int]]
) -> None:
    assert expected(prices, 5_000, 600_000) > PRICE_MAX_COUNT + 500
    count = catalog.product_count(ProductFilter(min_price=5_000, max_price=600_000))
    assert count.cap == PRICE_MAX_COUNT
    async with pool.acquire() as conn:
        assert await conn.fetchval(count.sql, *count.args) == PRICE_MAX_COUNT + 1
        plan = await explain(conn, count.sql, *count.args, index_walks=True)
    read = sum(rows_read(n) for n in scans(plan, "products"))
    # counted up to 100 000: every product read and its cheapest price worked out
    assert read < PRODUCTS, plan
