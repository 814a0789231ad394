"""What a stored product costs on disk: measured on a real PostgreSQL database filled by the
writer with the recorded fixtures, as the re-scan benchmark fills it (sizes, not timings)."""

from __future__ import annotations

import dataclasses

import asyncpg

from tests.helpers.writer import renumbered, run_writer, snapshot


async def test_a_product_keeps_each_search_word_once(pool: asyncpg.Pool) -> None:
    """The Uzbek title often repeats the main title: its words are stored once, and the
    product is still found by any of them."""
    await pool.execute(
        "INSERT INTO products (id, title, title_uz, title_ru) "
        "VALUES (1, 'Qoʻl soati Casio', 'Қўл соати Casio', 'Часы наручные Casio')"
    )
    words = await pool.fetchval("SELECT search_words FROM products WHERE id = 1")
    assert words == sorted({"kol", "soati", "casio", "chasi", "naruchnie"})
    for word in ("kol", "casio", "naruchnie"):
        found = await pool.fetchval(
            "SELECT array_agg(id) FROM products WHERE search_words && $1::text[]", [word]
        )
        assert found == [1], word
    stored = await pool.fetchval(
        "SELECT avg(pg_column_size(search_words)) FROM products WHERE id = 1"
    )
    assert stored < 24 + 5 * 12  # the array header and five short words, no repeats


async def test_the_word_index_stays_close_to_its_merged_size(pool: asyncpg.Pool) -> None:
    """Entries waiting to be merged into the word index (its pending list) stay a small part of
    it: written batch by batch by the writer, the index is not much larger than the same index
    built at once from the same rows."""
    templates = [snapshot(1772350), snapshot(2114919)]
    snaps = [renumbered(templates[i % 10 == 0], 10_000 + i) for i in range(1200)]
    await run_writer(pool, snaps, batch_max=400)
    written = await pool.fetchval("SELECT pg_relation_size('products_search_words')")
    await pool.execute("REINDEX INDEX products_search_words")
    merged = await pool.fetchval("SELECT pg_relation_size('products_search_words')")
    # the merged index and a few pending lists of 64 kB; the 4 MB default held every entry
    # written since the last vacuum (here ~500 kB, ~4x the bound's merged part)
    assert written <= 2 * merged + 2 * 64 * 1024


_DUE = """
SELECT c.reltuples,
       coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) o
                 WHERE o.option_name = 'autovacuum_vacuum_scale_factor'),
                current_setting('autovacuum_vacuum_scale_factor'))::float8 AS scale,
       coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) o
                 WHERE o.option_name = 'autovacuum_vacuum_threshold'),
                current_setting('autovacuum_vacuum_threshold'))::float8 AS threshold
FROM pg_class c WHERE c.oid = $1::regclass"""


async def test_a_changed_pass_leaves_its_dead_versions_due_for_autovacuum(
    pool: asyncpg.Pool,
) -> None:
    """1 product in 7 with a new price and order count (the re-scan benchmark's changed pass):
    the SKU and product rows it rewrote are enough dead versions for autovacuum to reclaim
    them (PostgreSQL's rule: dead rows > threshold + scale factor x rows) before the next
    changed pass needs the space."""
    templates = [snapshot(1772350), snapshot(2114919)]
    snaps = [renumbered(templates[i % 10 == 0], 10_000 + i) for i in range(700)]
    await run_writer(pool, snaps, batch_max=2000)
    await pool.execute("ANALYZE skus, products")
    before = {
        t: set(await pool.fetch(f"SELECT id, xmin::text FROM {t}"))  # noqa: S608 - constant names
        for t in ("skus", "products")
    }
    changed = []
    for s in snaps[::7]:
        skus = tuple(dataclasses.replace(k, purchase_price=k.purchase_price + 1000) for k in s.skus)
        product = dataclasses.replace(s.product, orders_amount=s.product.orders_amount + 5)
        changed.append(dataclasses.replace(s, product=product, skus=skus))
    await run_writer(pool, changed)
    for table, rows in before.items():
        after = set(await pool.fetch(f"SELECT id, xmin::text FROM {table}"))  # noqa: S608
        dead = len(rows - after)  # the versions the changed pass replaced
        assert dead >= len(rows) // 8, table
        due = await pool.fetchrow(_DUE, table)
        assert dead > due["threshold"] + due["scale"] * due["reltuples"], (table, dead, dict(due))
