"""Migrations against real PostgreSQL: order, ledger, lock, version checks, expected schema."""

from __future__ import annotations

import asyncio

import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.errors import DatabaseError, SchemaError

#: tables and columns the code relies on (writer sinks, checkpoints, dashboard)
EXPECTED = {
    "scan_cursors": {"scanner", "position", "cycle", "frontier", "highest_seen", "state"},
    "dead_letters": {"scope", "entity_id", "kind", "reason", "attempts"},
    "parse_failures": {"scope", "entity_id", "reason", "archive_ref", "occurrences"},
    "job_runs": {"job", "started_at", "finished_at", "outcome", "rows_touched", "error"},
    "categories": {"id", "title", "parent_id", "product_amount", "first_seen", "last_seen"},
    "sellers": {"id", "title", "link", "registration_date", "official", "account_id"},
    "products": {
        "id",
        "title",
        "title_uz",
        "title_ru",
        "category_id",
        "seller_id",
        "orders_amount",
        "r_orders_amount",
        "total_available",
        "characteristics",
        "updated_at",
    },
    "skus": {
        "id",
        "product_id",
        "full_price",
        "purchase_price",
        "available_amount",
        "characteristics",
    },
    "price_history": {"sku_id", "observed_at", "purchase_price", "full_price", "available_amount"},
    "product_stats_history": {"product_id", "observed_at", "orders_amount", "reviews_amount"},
    "uzum_missing": {"chunk", "bits"},
    "web_sessions": {"id_hash", "token_tag", "created_at", "expires_at", "peer"},
    "web_price_band_edges": {"only_row", "edges"},
}


async def test_migrate_from_empty_creates_expected_schema(empty_db: DatabaseConfig) -> None:
    conn = await db.connect(empty_db)
    try:
        with pytest.raises(SchemaError, match="marketplaced migrate"):
            await db.check_schema(conn)
        applied = await db.migrate(conn)
        assert [m.version for m in applied] == list(range(1, db.expected_version() + 1))
        assert await db.check_schema(conn) == db.expected_version()
        assert await db.migrate(conn) == []  # idempotent
        for table, cols in EXPECTED.items():
            rows = await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table
            )
            assert cols <= {r["column_name"] for r in rows}, table
        parts = await conn.fetchval(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c "
            "ON c.oid = i.inhparent WHERE c.relname = 'price_history'"
        )
        assert parts >= 5  # default + last month + this month + 3 ahead
    finally:
        await conn.close()


async def test_newer_schema_is_refused(fresh_db: DatabaseConfig) -> None:
    conn = await db.connect(fresh_db)
    try:
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
        with pytest.raises(SchemaError, match="newer than this code"):
            await db.check_schema(conn)
        with pytest.raises(SchemaError, match="newer"):
            await db.migrate(conn)
    finally:
        await conn.close()


async def test_second_migrator_is_refused_while_lock_held(empty_db: DatabaseConfig) -> None:
    holder = await db.connect(empty_db)
    other = await db.connect(empty_db)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", db.MIGRATION_LOCK_KEY)
        with pytest.raises(DatabaseError, match="another process is migrating"):
            await db.migrate(other, lock_timeout_s=0.3)
        assert await db.applied_versions(other) == {}  # nothing half-done
        await holder.execute("SELECT pg_advisory_unlock($1)", db.MIGRATION_LOCK_KEY)
        results = await asyncio.gather(
            db.migrate(holder, lock_timeout_s=30), db.migrate(other, lock_timeout_s=30)
        )
        assert sorted(len(r) for r in results) == [0, db.expected_version()]
    finally:
        await holder.close()
        await other.close()


async def test_unreachable_database_gives_clear_error(fresh_db: DatabaseConfig) -> None:
    import dataclasses

    bad = dataclasses.replace(fresh_db, port=1)
    with pytest.raises(DatabaseError, match=r"cannot connect to PostgreSQL.*after"):
        await db.connect(bad, wait_s=0.5)
    wrong_pw = dataclasses.replace(fresh_db, password="definitely-wrong")
    with pytest.raises(DatabaseError, match="rejected the credentials"):
        await db.connect(wrong_pw)
    missing = dataclasses.replace(fresh_db, name="no_such_db_xyz")
    with pytest.raises(DatabaseError, match="does not exist"):
        await db.connect(missing)
