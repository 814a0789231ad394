"""Product search at scale: equally good matches come best-selling first, and a page of the
rows that match every word best is read in best-selling order (stopping at the page's end)
without scoring every match — it gives the same page as scoring them all, for the first page
and the ones after it. A search's total is counted up to a thousand ("1 000+")."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from marketplaced.web import search
from marketplaced.web.listing import fetch_page
from marketplaced.web.params import decode_cursor
from marketplaced.web.queries import catalog
from marketplaced.web.queries.catalog import ProductFilter

pytestmark = pytest.mark.timeout(90)

#: (title, orders): "smartfon" is common, "samsung" less so, "samsun" a near word
TITLES = [
    *((f"Smartfon Xiaomi {i}", (i * 37) % 500) for i in range(1, 1300)),
    *((f"Smartfon Samsung {i}", (i * 53) % 700) for i in range(1, 200)),
    *((f"Samsun kabel {i}", i) for i in range(1, 40)),
    ("Chehol Samsung", 10),
]


async def seed(pool: asyncpg.Pool) -> None:
    await pool.executemany(
        "INSERT INTO products (id, title, orders_amount) VALUES ($1, $2, $3)",
        [(i, t, o) for i, (t, o) in enumerate(TITLES, start=1)],
    )


async def pages(pool: asyncpg.Pool, terms: search.SearchTerms, n: int) -> list[list[int]]:
    """The first `n` pages of 20 of a relevance search."""
    out, cursor = [], None
    for _ in range(n):
        f = ProductFilter(q=terms, sort="relevance", cursor=cursor, limit=20)
        page = await fetch_page(pool, catalog.product_list(f))
        out.append([r["id"] for r in page.rows])
        if page.next_cursor is None:
            break
        cursor = decode_cursor(page.next_cursor, catalog.cursor_kinds("relevance"))
    return out


@pytest.mark.parametrize("q", ["smartfon", "samsyng", "smartfon samsung", "samsun", "kabel"])
async def test_best_matches_come_best_selling_first_as_when_all_are_scored(
    pool: asyncpg.Pool, q: str
) -> None:
    await seed(pool)
    terms = search.search_terms(q)
    assert terms is not None
    resolved = await search.resolve(pool, terms)
    assert resolved.candidates is not None
    walked = await pages(pool, resolved, 8)
    scored = await pages(pool, terms, 8)  # every match scored (the filter's own subqueries)
    assert walked == scored and walked[0]
    # ties of the top score: by orders, best-selling first (then the higher id)
    orders = dict(await pool.fetch("SELECT id, orders_amount FROM products"))
    first = walked[0]
    if q == "smartfon":
        keys = [(orders[i], i) for i in first]
        assert keys == sorted(keys, reverse=True)


async def test_a_typo_of_a_common_word_is_read_by_its_best_candidate(pool: asyncpg.Pool) -> None:
    await seed(pool)
    terms = search.search_terms("samsyng")
    assert terms is not None
    resolved = await search.resolve(pool, terms)
    assert resolved.candidates is not None
    (cands,) = resolved.candidates
    assert cands[0][0] == "samsung" and all(s <= cands[0][1] for _, s in cands)
    page = await fetch_page(pool, catalog.product_list(ProductFilter(q=resolved, limit=5)))
    titles = {r["title"].split()[1] if r["title"].startswith("Smartfon") else r["title"]
              for r in page.rows}  # fmt: skip
    assert titles == {"Samsung"}  # the best selling of the best-matching word


async def test_a_search_total_is_counted_up_to_a_thousand(pool: asyncpg.Pool) -> None:
    await seed(pool)
    terms = await search.resolve(pool, search.search_terms("smartfon"))  # type: ignore[arg-type]
    count = catalog.product_count(ProductFilter(q=terms))
    assert count.cap == catalog.SEARCH_MAX_COUNT == 1000
    assert await pool.fetchval(count.sql, *count.args) == 1001  # 1 498 match: "1 000+"
    kabel = await search.resolve(pool, search.search_terms("kabel"))  # type: ignore[arg-type]
    count = catalog.product_count(ProductFilter(q=kabel))
    assert await pool.fetchval(count.sql, *count.args) == 39


def _products_rows_read(plan: dict[str, Any]) -> int:
    """Rows a plan read from `products` (returned or filtered out), over all its nodes."""
    own = 0
    if plan.get("Relation Name") == "products" and plan.get("Actual Loops", 0):
        own = (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * plan["Actual Loops"]
    return own + sum(_products_rows_read(p) for p in plan.get("Plans", []))


async def test_two_common_words_rarely_together_are_read_through_the_word_index(
    pool: asyncpg.Pool,
) -> None:
    """ "alfa" in 1 of 10 titles, "beta" in 1 of 10, both in 1 of 100: the page's rows are
    among the few hundred holding both, read through the word index, not a walk through the
    best-selling order that passes 100 products per row of the page."""
    await pool.execute(
        "INSERT INTO products (id, title, orders_amount) SELECT g, concat_ws(' ', "
        "CASE WHEN g % 10 = 0 THEN 'alfa' END, CASE WHEN g / 10 % 10 = 0 THEN 'beta' END, "
        "'mahsulot', g), (g * 7919) % 30011 FROM generate_series(1, 30000) g"
    )
    await pool.execute("VACUUM ANALYZE products")
    query = search.search_terms("alfa beta")
    assert query is not None
    terms = await search.resolve(pool, query, await search.word_shares(pool))
    q = catalog.product_list(ProductFilter(q=terms, sort="relevance", limit=20))
    explained = await pool.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {q.sql}", *q.args, q.limit + 1)
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    both = await pool.fetchval("SELECT count(*) FROM products WHERE search_words @> '{alfa,beta}'")
    assert both == 300
    assert _products_rows_read(plan) <= 2 * both, json.dumps(plan, indent=1)
    page = await fetch_page(pool, q)
    expected = await pool.fetch(
        "SELECT id FROM products WHERE search_words @> '{alfa,beta}' "
        "ORDER BY orders_amount DESC, id DESC LIMIT 20"
    )
    assert [r["id"] for r in page.rows] == [r["id"] for r in expected]
