"""Uzum storage: the writer's sink for product snapshots and misses.

Per batch: COPY every table's rows into temp tables (de-duplicated by key, last wins), append
history rows only where a tracked value changed (compared with the current row before it is
overwritten), then upsert categories → sellers → products → SKUs with `INSERT … ON CONFLICT`.
Misses flip bits in `uzum_missing` (one row per 8192 ids) instead of writing a row per id.
An id that answered (a product or a miss) resolves its dead letter and its parse failure in the
same transaction, so both lists only ever hold ids that are still failing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from marketplaced import log
from marketplaced.checkpoint import DeadLetter, write_dead_letters
from marketplaced.platforms.uzum import schedule, visits
from marketplaced.platforms.uzum.records import (
    CategoryRecord,
    Missing,
    ProductRecord,
    ProductSnapshot,
    SellerRecord,
    SkuRecord,
)
from marketplaced.platforms.uzum.visits import Revisit
from marketplaced.writer import copy_rows

_log = log.get(__name__)

SCOPE = "uzum.product"
#: ids per row of uzum_missing (a bit(8192) column: 1 KiB per 8192 ids)
MISSING_CHUNK = 8192

_CATEGORY_COLS = ("id", "title", "parent_id", "product_amount")
_SELLER_COLS = (
    "id",
    "title",
    "link",
    "description",
    "registration_date",
    "rating",
    "reviews",
    "orders",
    "official",
    "account_id",
)
_PRODUCT_COLS = (
    "id",
    "title",
    "title_uz",
    "title_ru",
    "category_id",
    "seller_id",
    "rating",
    "reviews_amount",
    "orders_amount",
    "r_orders_amount",
    "total_available",
    "is_eco",
    "adult",
    "is_perishable",
    "description",
    "photo_keys",
    "attributes",
    "tags",
    "characteristics",
    "badges",
    "warranty",
)
SKU_COLS = (
    "id",
    "product_id",
    "full_price",
    "purchase_price",
    "available_amount",
    "barcode",
    "stock_type",
    "delivery_days",
    "characteristics",
    "discount_badge",
)

_TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS tmp_categories (LIKE categories INCLUDING DEFAULTS)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_sellers (LIKE sellers INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_products (LIKE products INCLUDING DEFAULTS)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_skus (LIKE skus INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
"""


def _upsert(table: str, cols: tuple[str, ...], *, seen: str = "", stamp: str = "") -> str:
    """INSERT … SELECT FROM tmp_<table> ON CONFLICT (id) DO UPDATE, only where a stored column
    differs: an unchanged row is neither rewritten nor WAL-logged (issue: an unchanged visit
    must cost a fraction of a first one). `seen` names the table's first/last-seen columns
    stamped with $1; a row whose `last_seen` is older than a day is refreshed even when
    unchanged (categories and sellers: a coarse "still listed" at a write a day per row, where
    a per-visit time is not worth a row each). `stamp` names a column set to $1 on every write
    (products.updated_at: the last time a stored value changed)."""
    names = ", ".join(cols)
    data = [c for c in cols if c != "id"]
    sets = [f"{c} = EXCLUDED.{c}" for c in data]
    extra_cols: list[str] = []
    if seen == "first_last":
        extra_cols += ["first_seen", "last_seen"]
        sets.append("last_seen = EXCLUDED.last_seen")
    elif seen == "first":
        extra_cols.append("first_seen")
    if stamp:
        extra_cols.append(stamp)
        sets.append(f"{stamp} = EXCLUDED.{stamp}")
    old = ", ".join(f"{table}.{c}" for c in data)
    new = ", ".join(f"EXCLUDED.{c}" for c in data)
    where = f"({old}) IS DISTINCT FROM ({new})"
    if seen == "first_last":
        where += f" OR {table}.last_seen < EXCLUDED.last_seen - interval '1 day'"
    cols_sql = ", ".join([names, *extra_cols])
    vals_sql = ", ".join([names, *(["$1"] * len(extra_cols))])
    return (
        f"INSERT INTO {table} ({cols_sql}) "  # noqa: S608 - identifiers are constants
        f"SELECT {vals_sql} FROM tmp_{table} "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(sets)} WHERE {where}"
    )


_UPSERT_CATEGORIES = _upsert("categories", _CATEGORY_COLS, seen="first_last")
_UPSERT_SELLERS = _upsert("sellers", _SELLER_COLS, seen="first_last")
# products' and SKUs' last visit is in uzum_visits (visits.py); the RETURNING ids say which
# products really changed (the visit's outcome)
_UPSERT_PRODUCTS = _upsert("products", _PRODUCT_COLS, seen="first", stamp="updated_at") + (
    " RETURNING id"
)
#: last_seen is NULL in tmp_skus (listed now): a SKU that had dropped out is listed again
_UPSERT_SKUS = _upsert("skus", (*SKU_COLS, "last_seen"), seen="first") + " RETURNING product_id"

# History rows only where a tracked value changed (or the SKU/product is new); they are
# computed BEFORE the upsert overwrites the current values they are compared with.
_PRICE_HISTORY = """
INSERT INTO price_history
    (sku_id, observed_at, product_id, purchase_price, full_price, available_amount)
SELECT t.id, $1, t.product_id, t.purchase_price, t.full_price, t.available_amount
FROM tmp_skus t LEFT JOIN skus s ON s.id = t.id
WHERE s.id IS NULL
   OR (s.purchase_price, s.full_price, s.available_amount)
      IS DISTINCT FROM (t.purchase_price, t.full_price, t.available_amount)
ON CONFLICT DO NOTHING"""

_STATS_HISTORY = """
INSERT INTO product_stats_history
    (product_id, observed_at, orders_amount, reviews_amount, rating, total_available)
SELECT t.id, $1, t.orders_amount, t.reviews_amount, t.rating, t.total_available
FROM tmp_products t LEFT JOIN products p ON p.id = t.id
WHERE p.id IS NULL
   OR (p.orders_amount, p.reviews_amount, p.rating, p.total_available)
      IS DISTINCT FROM (t.orders_amount, t.reviews_amount, t.rating, t.total_available)
ON CONFLICT DO NOTHING"""

_ENSURE_CHUNKS = """
INSERT INTO uzum_missing (chunk, bits, updated_at)
SELECT c, B'0'::bit(8192), $2 FROM unnest($1::bigint[]) AS c
ON CONFLICT (chunk) DO NOTHING"""

# `(bits & ~clear) | set` under the row lock: concurrent shards touching one chunk stay correct
_UPDATE_CHUNKS = """
UPDATE uzum_missing u SET bits = (u.bits & ~m.clr) | m.setb, updated_at = $4
FROM unnest($1::bigint[], $2::bit(8192)[], $3::bit(8192)[]) AS m(chunk, setb, clr)
WHERE u.chunk = m.chunk"""

_MISS_FORMS = """
INSERT INTO uzum_miss_forms (form, seen, last_id, last_seen)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[])
ON CONFLICT (form) DO UPDATE SET seen = uzum_miss_forms.seen + EXCLUDED.seen,
    last_id = EXCLUDED.last_id, last_seen = EXCLUDED.last_seen"""

_RESOLVE_DEAD = "DELETE FROM dead_letters WHERE scope = $1 AND entity_id = ANY($2::bigint[])"
_RESOLVE_PARSE_FAILURES = (
    "DELETE FROM parse_failures WHERE scope = $1 AND entity_id = ANY($2::bigint[]::text[])"
)
_KNOWN_PRODUCTS = "SELECT id FROM products WHERE id = ANY($1::bigint[])"
#: the miss form of a 200 answer with an empty body (parser.py)
EMPTY_BODY_FORM = "empty_body"


class UzumSink:
    """Writer sink for `ProductSnapshot` and `Missing`."""

    types: tuple[type, ...] = (ProductSnapshot, Missing, Revisit)

    async def write(
        self, conn: asyncpg.Connection, groups: Mapping[type, list[Any]], now: datetime
    ) -> int:
        snapshots: dict[int, ProductSnapshot] = {
            s.product.id: s for s in groups.get(ProductSnapshot, ())
        }
        misses: dict[int, Missing] = {m.product_id: m for m in groups.get(Missing, ())}
        for pid in snapshots.keys() & misses.keys():
            # the same id both found and missing in one batch: keep whichever came last
            found_last = _last_index(groups[ProductSnapshot], pid) > _last_index(
                groups[Missing], pid
            )
            (misses if found_last else snapshots).pop(pid)
        # a revisit beside a stored body or a miss of the same id: the substantive record wins
        revisits = {
            r.product_id: r
            for r in groups.get(Revisit, ())
            if r.product_id not in snapshots and r.product_id not in misses
        }
        await conn.execute(_TEMP_TABLES)
        rows = await self._write_snapshots(conn, list(snapshots.values()), now)
        rows += await _write_revisits(conn, list(revisits.values()), now)
        rows += await self._hold_known_empty(conn, misses, now)
        rows += await self._write_misses(conn, list(misses.values()), set(snapshots), now)
        if misses:
            await conn.execute(visits.MISSED, list(misses), now)
        seen = [*snapshots, *misses, *revisits]
        if seen:
            await conn.execute(_RESOLVE_DEAD, SCOPE, seen)
            await conn.execute(_RESOLVE_PARSE_FAILURES, SCOPE, seen)
        # last: the next due time of every scheduled id commits with its visit's data
        await schedule.after_visits(conn, [*snapshots, *revisits], list(misses), now)
        return rows

    async def _hold_known_empty(
        self, conn: asyncpg.Connection, misses: dict[int, Missing], now: datetime
    ) -> int:
        """An empty body for an id that holds a product is not evidence of a deletion: the
        real "not found" form is unverified (docs/upstreams.md), and empty answers for live
        products are a known transient fault (a stale session, a hiccup). Such misses become
        dead letters (retried later) instead of missing bits, and leave `misses`. Decided here,
        in the transaction that would store the miss, so no shard, retry or re-parse can flip a
        known product to missing between the check and the write."""
        empty = [pid for pid, m in misses.items() if m.form == EMPTY_BODY_FORM]
        if not empty:
            return 0
        known = [r["id"] for r in await conn.fetch(_KNOWN_PRODUCTS, empty)]
        letters = []
        for pid in known:
            del misses[pid]
            reason = "empty 200 body for a product seen before; kept, not recorded as missing"
            letters.append(DeadLetter(SCOPE, pid, EMPTY_BODY_FORM, reason))
        if letters:
            _log.warning("empty_body_for_known_products", count=len(letters), ids=known[:20])
            await write_dead_letters(conn, letters, now)
        return len(letters)

    def identify(self, item: Any) -> tuple[str, int]:
        if isinstance(item, ProductSnapshot):
            return SCOPE, item.product.id
        if isinstance(item, Revisit):
            return SCOPE, item.product_id
        return SCOPE, int(item.product_id)

    async def _write_snapshots(
        self, conn: asyncpg.Connection, snaps: list[ProductSnapshot], now: datetime
    ) -> int:
        if not snaps:
            return 0
        categories: dict[int, CategoryRecord] = {}
        sellers: dict[int, SellerRecord] = {}
        skus: dict[int, SkuRecord] = {}
        for snap in snaps:
            for cat in snap.categories:
                categories[cat.id] = cat
            if snap.seller is not None:
                sellers[snap.seller.id] = snap.seller
            for sku in snap.skus:
                skus[sku.id] = sku
        await copy_rows(
            conn, "tmp_categories", _CATEGORY_COLS, (_category_row(c) for c in categories.values())
        )
        await copy_rows(
            conn, "tmp_sellers", _SELLER_COLS, (_seller_row(s) for s in sellers.values())
        )
        await copy_rows(
            conn, "tmp_products", _PRODUCT_COLS, (_product_row(s.product) for s in snaps)
        )
        await copy_rows(conn, "tmp_skus", SKU_COLS, (sku_row(k) for k in skus.values()))
        await conn.execute(_STATS_HISTORY, now)
        await conn.execute(_PRICE_HISTORY, now)
        if categories:
            await conn.execute(_UPSERT_CATEGORIES, now)
        if sellers:
            await conn.execute(_UPSERT_SELLERS, now)
        changed = {r[0] for r in await conn.fetch(_UPSERT_PRODUCTS, now)}
        changed.update(r[0] for r in await conn.fetch(visits.DELIST_SKUS, now))
        if skus:
            changed.update(r[0] for r in await conn.fetch(_UPSERT_SKUS, now))
        # last: the fingerprints commit with the rows they describe (this transaction)
        await conn.execute(
            visits.UPSERT_FOUND,
            [s.product.id for s in snaps],
            [s.fingerprint for s in snaps],
            now,
            list(changed),
        )
        return len(categories) + len(sellers) + len(snaps) + len(skus)

    async def _write_misses(
        self, conn: asyncpg.Connection, misses: list[Missing], found: set[int], now: datetime
    ) -> int:
        set_bits: dict[int, bytearray] = {}
        clear_bits: dict[int, bytearray] = {}
        for miss in misses:
            _set_bit(set_bits, miss.product_id)
        for pid in found:
            _set_bit(clear_bits, pid)
        chunks = sorted(set_bits.keys() | clear_bits.keys())
        if not chunks:
            return 0
        empty = bytes(MISSING_CHUNK // 8)
        setb = [
            asyncpg.BitString.frombytes(bytes(set_bits.get(c, empty)), MISSING_CHUNK)
            for c in chunks
        ]
        clrb = [
            asyncpg.BitString.frombytes(bytes(clear_bits.get(c, empty)), MISSING_CHUNK)
            for c in chunks
        ]
        await conn.execute(_ENSURE_CHUNKS, chunks, now)
        await conn.execute(_UPDATE_CHUNKS, chunks, setb, clrb, now)
        if misses:
            forms = Counter(m.form for m in misses)
            last_id = {m.form: m.product_id for m in misses}
            names = sorted(forms)
            await conn.execute(
                _MISS_FORMS,
                names,
                [forms[f] for f in names],
                [last_id[f] for f in names],
                [now] * len(names),
            )
        return len(misses)


async def _write_revisits(conn: asyncpg.Connection, revisits: list[Revisit], now: datetime) -> int:
    """Unchanged bodies: one narrow visit row each, nothing parsed or copied."""
    if not revisits:
        return 0
    ids = [r.product_id for r in revisits]
    touched = {
        r[0]
        for r in await conn.fetch(
            visits.TOUCH_UNCHANGED, ids, [r.fingerprint for r in revisits], now
        )
    }
    if lost := [pid for pid in ids if pid not in touched]:
        # the stored fingerprint moved since the scanner read it (another batch stored other
        # content, or a miss cleared it): this body was never compared with what is stored now
        _log.info("revisits_unmatched", count=len(lost), ids=lost[:20])
        await conn.execute(visits.FORGET, lost)
    return len(touched)


def _last_index(items: list[Any], pid: int) -> int:
    for i in range(len(items) - 1, -1, -1):
        item = items[i]
        if (item.product.id if isinstance(item, ProductSnapshot) else item.product_id) == pid:
            return i
    return -1


def _set_bit(chunks: dict[int, bytearray], pid: int) -> None:
    chunk, bit = divmod(pid, MISSING_CHUNK)
    buf = chunks.get(chunk)
    if buf is None:
        buf = chunks[chunk] = bytearray(MISSING_CHUNK // 8)
    buf[bit >> 3] |= 0x80 >> (bit & 7)


def _category_row(c: CategoryRecord) -> tuple[Any, ...]:
    return (c.id, c.title, c.parent_id, c.product_amount)


def _seller_row(s: SellerRecord) -> tuple[Any, ...]:
    return (
        s.id,
        s.title,
        s.link,
        s.description,
        s.registration_date,
        s.rating,
        s.reviews,
        s.orders,
        s.official,
        s.account_id,
    )


def _product_row(p: ProductRecord) -> tuple[Any, ...]:
    return (
        p.id,
        p.title,
        p.title_uz,
        p.title_ru,
        p.category_id,
        p.seller_id,
        p.rating,
        p.reviews_amount,
        p.orders_amount,
        p.r_orders_amount,
        p.total_available,
        p.is_eco,
        p.adult,
        p.is_perishable,
        p.description,
        list(p.photo_keys),
        list(p.attributes),
        list(p.tags),
        p.characteristics_json,
        list(p.badges),
        p.warranty,
    )


def sku_row(k: SkuRecord) -> tuple[Any, ...]:
    return (
        k.id,
        k.product_id,
        k.full_price,
        k.purchase_price,
        k.available_amount,
        k.barcode,
        k.stock_type,
        k.delivery_days,
        k.characteristics,
        k.discount_badge,
    )
