"""Search rules through the real API and pages against real PostgreSQL, on hand-made titles.

Each rule gets its own titles: word order, the six Uzbek apostrophes, Latin/Cyrillic/Russian
spellings of one word, typos, ranking by similarity. The Python folding of the query and the
SQL folding of the stored titles are compared character by character, and EXPLAIN shows that
a search is served by the trigram index on a table large enough for the planner to care.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.web.queries import catalog, sellers
from marketplaced.web.queries.catalog import ProductFilter
from marketplaced.web.search import APOSTROPHES, LETTERS, fold, search_terms
from tests.helpers.web import page, seeded, table_ids

#: id → (title as shown, Uzbek title, Russian title, seller, orders)
PRODUCTS: dict[int, tuple[str, str | None, str | None, int, int]] = {
    2001: ("Qoʻl soati Casio", "Qoʻl soati Casio", "Наручные часы Casio", 300, 50),
    2002: ("Қўл соати Montana", None, None, 301, 40),
    2003: ("Smartfon Samsung Galaxy A54", None, "Смартфон Samsung Galaxy A54", 300, 30),
    2004: ("Телефон кнопочный Nokia 105", None, "Телефон кнопочный Nokia 105", 301, 20),
    2005: ("Televizor Artel 43", None, None, 300, 10),
    2006: ("Televizorlar uchun kronshteyn", None, None, 301, 90),
    2007: ("Ayollar sumkasi", None, None, 300, 5),
    2008: ("Gʻilof iPhone 15 uchun", None, "Чехол для iPhone 15", 301, 15),
}
SELLERS = {300: "Texnomart", 301: "Oʻzbegim savdo"}


async def _seed(conn: asyncpg.Connection) -> None:
    await conn.executemany(
        "INSERT INTO sellers (id, title, orders) VALUES ($1, $2, 0)", list(SELLERS.items())
    )
    await conn.executemany(
        "INSERT INTO products (id, title, title_uz, title_ru, seller_id, orders_amount) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [(pid, *row) for pid, row in PRODUCTS.items()],
    )
    await conn.executemany(
        "INSERT INTO skus (id, product_id, purchase_price, available_amount) "
        "VALUES ($1, $2, $3, 1)",
        [(pid * 10, pid, 100_000 + pid) for pid in PRODUCTS],
    )
    await conn.execute("ANALYZE")


@pytest.fixture(scope="module")
def web_db(module_db: DatabaseConfig) -> DatabaseConfig:
    """This module's own titles instead of the shared seed (make_client reads this fixture)."""
    return seeded(module_db, _seed)


async def _ids(client: TestClient, query: str, path: str = "/api/v1/products") -> list[int]:
    resp = await client.get(f"{path}?q={quote(query)}")
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return [row["id"] for row in data["items"]]


# -- the folding itself ---------------------------------------------------------------------------


async def test_python_and_sql_fold_every_character_alike(web_db: DatabaseConfig) -> None:
    samples = [*LETTERS, *'0123456789 .,-/()[]+%_\\"«»№éß中', "Ё"]
    samples += [
        "Qoʻl soati", "ҚЎЛ СОАТИ", "G‘ilof", "maʼlumot", "Маълумот", "Щётка ЖЁСТКАЯ",
        "Kholodilnik", "zhurnal", "Yetkazib berish", "Ещё  один -- товар!", "Şampun Çay",
        "  «Чайник»  ", "iPhone 15 Pro Max (256GB)", "x-k-h", "кх", "ь", "",
    ]  # fmt: skip
    conn = await db.connect(web_db)
    try:
        rows = await conn.fetch(
            "SELECT s, search_fold(s) AS f FROM unnest($1::text[]) WITH ORDINALITY AS u(s, n) "
            "ORDER BY n",
            samples,
        )
    finally:
        await conn.close()
    mismatches = [(r["s"], r["f"], fold(r["s"])) for r in rows if r["f"] != fold(r["s"])]
    assert mismatches == []


def test_fold_rules() -> None:
    assert fold("Qoʻl soati") == fold("Қўл соати") == fold("кол соати") == "kol soati"
    assert fold("Телефон") == fold("TELEFON") == "telefon"
    assert fold("Холодильник") == fold("Kholodilnik") == fold("xolodilnik") == "xolodilnik"
    assert fold("Етказиб") == fold("Yetkazib") == "etkazib"
    assert fold("Маълумот") == fold("maʼlumot") == fold("ma'lumot") == "malumot"
    assert fold("«Чайник», 2 л.") == "chaynik 2 l"
    assert {fold(f"go{a}zal") for a in APOSTROPHES} == {"gozal"}
    assert search_terms("!!!") is None
    terms = search_terms("Galaxy S 23")
    assert terms is not None and terms.words == ("galaxy", "23") and terms.folded == "galaxy s 23"


# -- the rules through the API and the pages -----------------------------------------------------


async def test_word_order_does_not_matter(client: TestClient) -> None:
    assert await _ids(client, "samsung galaxy") == [2003]
    assert await _ids(client, "galaxy samsung") == [2003]
    assert await _ids(client, "Casio soati") == [2001]
    assert await _ids(client, "soati Casio") == [2001]


@pytest.mark.parametrize("mark", [*APOSTROPHES, ""])
async def test_every_apostrophe_matches_the_others(client: TestClient, mark: str) -> None:
    assert sorted(await _ids(client, f"qo{mark}l soati")) == [2001, 2002]
    assert await _ids(client, f"g{mark}ilof") == [2008]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("telefon", [2004]),  # Latin finds a Russian title
        ("ТЕЛЕФОН", [2004]),
        ("қўл соати", [2001, 2002]),  # Uzbek Cyrillic finds Uzbek Latin
        ("кол соати", [2001, 2002]),  # Russian keyboard, no ў or қ
        ("qoʻl soati", [2001, 2002]),  # Uzbek Latin finds Uzbek Cyrillic
        ("смартфон самсунг", [2003]),  # a Latin brand typed in Cyrillic
        ("chexol iphone", [2008]),  # the Russian title in Latin letters
        ("гилоф", [2008]),
    ],
)
async def test_scripts_match_each_other(
    client: TestClient, query: str, expected: list[int]
) -> None:
    assert sorted(await _ids(client, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("samsyng galaxy", [2003]),  # a wrong letter
        ("telefn", [2004]),  # a missing letter
        ("tellefon", [2004]),  # a doubled letter
        ("kronshtein", [2006]),  # и for й
    ],
)
async def test_typos_are_tolerated(client: TestClient, query: str, expected: list[int]) -> None:
    assert sorted(await _ids(client, query)) == expected


async def test_results_are_ranked_by_similarity_and_page_in_that_order(client: TestClient) -> None:
    # "Televizorlar uchun kronshteyn" has more orders, but the exact word ranks first
    ranked = await _ids(client, "televizor")
    assert ranked == [2005, 2006]
    by_orders = await client.get("/api/v1/products?q=televizor&sort=orders")
    assert [r["id"] for r in (await by_orders.json())["items"]] == [2006, 2005]
    seen: list[int] = []
    url = "/api/v1/products?q=televizor&limit=1"
    while url:
        data = await (await client.get(url)).json()
        seen += [r["id"] for r in data["items"]]
        cursor = data["next_cursor"]
        url = f"/api/v1/products?q=televizor&limit=1&cursor={cursor}" if cursor else ""
    assert seen == ranked


async def test_products_page_searches_and_shows_relevance_order(client: TestClient) -> None:
    html = await page(client, "/products?q=" + quote("кол соати"))
    assert sorted(table_ids(html, "products")) == [2001, 2002]
    assert '<option value="relevance" selected>' in html
    plain = await page(client, "/products")
    assert '<option value="orders" selected>' in plain
    # relevance without a search (a cleared search box) falls back to orders
    cleared = await page(client, "/products?sort=relevance")
    assert table_ids(cleared, "products") == [2006, 2001, 2002, 2003, 2004, 2008, 2005, 2007]


async def test_sellers_and_price_comparison_search_alike(client: TestClient) -> None:
    assert await _ids(client, "техномарт", "/api/v1/sellers") == [300]
    assert await _ids(client, "ozbegim", "/api/v1/sellers") == [301]
    html = await page(client, "/sellers?q=" + quote("Ўзбегим"))
    assert table_ids(html, "sellers") == [301]
    resp = await client.get("/api/v1/compare?q=" + quote("кол соати"))
    rows = (await resp.json())["items"]
    assert sorted(r["seller_id"] for r in rows) == [300, 301]


# -- the index is what serves it -----------------------------------------------------------------


async def test_search_uses_the_trigram_index_on_a_large_table(fresh_db: DatabaseConfig) -> None:
    conn = await db.connect(fresh_db)
    try:
        await conn.execute(
            "INSERT INTO products (id, title, orders_amount) "
            "SELECT g, CASE WHEN g % 100 = 0 THEN 'Qoʻl soati ' ELSE 'Mahsulot ' END "
            "|| md5(g::text), g % 1000 FROM generate_series(1, 50000) g"
        )
        await conn.execute(
            "INSERT INTO sellers (id, title) "
            "SELECT g, 'Dokon ' || md5(g::text) FROM generate_series(1, 20000) g"
        )
        # as autovacuum does in production: fresh GIN entries wait in a pending list, which
        # the planner rightly prices as a scan until a vacuum merges it into the index
        await conn.execute("VACUUM ANALYZE products")
        await conn.execute("VACUUM ANALYZE sellers")
        terms = search_terms("Qoʻl soati")
        assert terms is not None
        products_index = "products_search_words"  # after the vocabulary's trigram index
        queries = [
            (catalog.product_list(ProductFilter(q=terms, sort="relevance")), products_index),
            (catalog.product_list(ProductFilter(q=terms, sort="orders")), products_index),
            (catalog.product_list(ProductFilter(q=terms, sort="price_asc")), products_index),
            (sellers.seller_ranking("relevance", terms, False, None, 50), "sellers_search_trgm"),
        ]
        for q, index in queries:
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {q.sql}", *q.args, q.limit))
            assert f"Bitmap Index Scan on {index}" in plan, plan
            if index == products_index:
                assert "Bitmap Index Scan on search_vocabulary_trgm" in plan, plan
    finally:
        await conn.close()


async def test_words_of_new_and_renamed_titles_become_searchable_with_typos(
    fresh_db: DatabaseConfig,
) -> None:
    """The vocabulary is kept by the database itself, whichever statement writes a title."""
    conn = await db.connect(fresh_db)
    upsert = (
        "INSERT INTO products (id, title) VALUES ($1, $2) "
        "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title"
    )

    async def found(query: str) -> list[int]:
        terms = search_terms(query)
        assert terms is not None
        q = catalog.product_list(ProductFilter(q=terms, sort="relevance"))
        return [r["id"] for r in await conn.fetch(q.sql, *q.args, q.limit)]

    try:
        await conn.execute(upsert, 1, "Shtativ Ulanzi")
        assert await found("shtatif") == [1]  # a typo of a word first seen in this insert
        await conn.execute(upsert, 1, "Monopod Ulanzi")
        assert await found("monopot") == [1]  # and of a word first seen in an update
        assert await found("shtatif") == []  # the old word no longer matches the product
    finally:
        await conn.close()
