"""The SQL of the sales rollup (see rollup.py): what it reads of the history, what it writes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from marketplaced.sales.carry_sql import latest_before

TABLES = ("sales_product_daily", "sales_sku_daily", "sales_seller_daily", "sales_category_daily")
DELETE_DAY = tuple(f"DELETE FROM {t} WHERE day = $1" for t in TABLES)  # noqa: S608 - constants

#: one transaction at a time writes the rollup: the minute job and a day's recomputation
LOCK_KEY = 1935764851  # 'sale'
LOCK = f"SELECT pg_advisory_xact_lock({LOCK_KEY})"
# the minute job's transaction commits without waiting for its WAL flush: its rows are derived
# from history (committed durably by the writer) and its watermark commits with them, so a
# crash can only lose a whole fold, which the next run redoes from the older watermark
LOCK_FOLD = f"""
SELECT pg_advisory_xact_lock({LOCK_KEY}), set_config('synchronous_commit', 'off', true)"""

# products with history in [$1, $2): the ones whose figures a day's recomputation needs
PRODUCTS_IN = """
SELECT product_id FROM product_stats_history WHERE observed_at >= $1 AND observed_at < $2
UNION SELECT product_id FROM price_history WHERE observed_at >= $1 AND observed_at < $2"""

# products $2 of the batches stamped $1, with their earliest new row and the observation before
NEW_PRODUCTS = """
WITH n AS (
    SELECT product_id, min(observed_at) AS t FROM (
        SELECT product_id, observed_at FROM product_stats_history
        WHERE observed_at = ANY($1::timestamptz[]) AND product_id = ANY($2::bigint[])
        UNION ALL
        SELECT product_id, observed_at FROM price_history
        WHERE observed_at = ANY($1::timestamptz[]) AND product_id = ANY($2::bigint[])
    ) r GROUP BY product_id
)
SELECT n.product_id, n.t, greatest(
    (SELECT max(observed_at) FROM product_stats_history h
     WHERE h.product_id = n.product_id AND h.observed_at < n.t),
    (SELECT max(observed_at) FROM price_history h
     WHERE h.product_id = n.product_id AND h.observed_at < n.t)) AS prev
FROM n"""

# the values in effect before $2: latest stats row per product, latest row per SKU (newest
# month first, carry_sql.py)
STATS_CARRY = f"""
SELECT p.id AS product_id, c.observed_at, c.orders_amount
FROM unnest($1::bigint[]) AS p(id)
CROSS JOIN LATERAL {
    latest_before(
        "product_stats_history", "h.product_id = p.id", "h.observed_at, h.orders_amount", "$2"
    )
} c"""  # noqa: S608 - constant fragments
SKU_CARRY = f"""
SELECT k.product_id, k.id AS sku_id, c.observed_at, c.purchase_price, c.available_amount
FROM skus k
CROSS JOIN LATERAL {
    latest_before(
        "price_history",
        "h.sku_id = k.id",
        "h.observed_at, h.purchase_price, h.available_amount",
        "$2",
    )
} c
WHERE k.product_id = ANY($1::bigint[])"""  # noqa: S608 - constant fragments

# the rows in [$2, $3): (product, at, sku or NULL for the stats row, price or orders, stock)
ROWS = """
SELECT product_id, observed_at, NULL::bigint AS sku_id, orders_amount AS value,
       NULL::bigint AS stock
FROM product_stats_history
WHERE product_id = ANY($1::bigint[]) AND observed_at >= $2 AND observed_at < $3
UNION ALL
SELECT product_id, observed_at, sku_id, purchase_price, available_amount FROM price_history
WHERE product_id = ANY($1::bigint[]) AND observed_at >= $2 AND observed_at < $3"""

ATTRIBUTION = "SELECT id, seller_id, category_id FROM products WHERE id = ANY($1::bigint[])"


# a day's rows of products other than $2 (none can have rows there: no history reaches it)
STALE_PRODUCTS = """
DELETE FROM sales_product_daily WHERE day = $1 AND product_id <> ALL($2::bigint[]) RETURNING *"""
STALE_SKUS = "DELETE FROM sales_sku_daily WHERE day = $1 AND product_id <> ALL($2::bigint[])"

PRODUCT_FIELDS = (
    "units, revenue, units_orders, units_stock, units_split, revenue_split, restocked, observations"
)
INSERT_PRODUCTS = f"""
INSERT INTO sales_product_daily (day, product_id, seller_id, category_id, {PRODUCT_FIELDS},
    first_seen)
SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[], $4::integer[], $5::bigint[],
    $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
    $12::integer[], $13::boolean[])"""  # noqa: S608 - constant
INSERT_SKUS = """
INSERT INTO sales_sku_daily (day, sku_id, product_id, units, revenue, units_split, restocked)
SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
    $6::bigint[], $7::bigint[])"""

# differences of product rows added to the seller / category rows
_SUMS = (
    "units, revenue, units_orders, units_stock, units_split, revenue_split, observations, "
    "products_with_sales"
)
_ADD = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in _SUMS.split(", "))
_SUMMED_CAST = ", ".join(
    f"sum(d.{c})::{'integer' if c == 'products_with_sales' else 'bigint'}"
    for c in _SUMS.split(", ")
)
_ZEROS = ", ".join("0" for _ in _SUMS.split(", "))


def _differences(key_type: str, first: int) -> str:
    """The rows of 10 array parameters from ${first} on: day, key, then the 8 sums."""
    types = ["date", key_type, *["bigint"] * 7, "integer"]
    arrays = ", ".join(f"${first + i}::{t}[]" for i, t in enumerate(types))
    return f"SELECT * FROM unnest({arrays})"  # noqa: S608 - constant fragments


# $1..$10: day, seller id and the sums; $11..$20: day, leaf category (a product's own) and the
# sums. Each leaf's difference goes to it and every category above it (a category includes its
# subcategories), the tree walked from these leaves only. One statement: one round trip.
ADD_SUMS = f"""
WITH RECURSIVE sellers AS (
    INSERT INTO sales_seller_daily AS t (day, seller_id, {_SUMS})
    {_differences("bigint", 1)}
    ON CONFLICT (day, seller_id) DO UPDATE SET {_ADD}
), d (day, leaf, {_SUMS}) AS (
    {_differences("integer", 11)}
), up (leaf, cat, parent, depth) AS (
    SELECT l.leaf, l.leaf, c.parent_id, 0
    FROM (SELECT DISTINCT leaf FROM d) l LEFT JOIN categories c ON c.id = l.leaf
    UNION ALL
    SELECT up.leaf, c.id, c.parent_id, up.depth + 1
    FROM up JOIN categories c ON c.id = up.parent WHERE up.depth < 12
), closure AS (SELECT DISTINCT leaf, cat FROM up)
INSERT INTO sales_category_daily AS t (day, category_id, {_SUMS})
SELECT d.day, closure.cat, {_SUMMED_CAST}
FROM d JOIN closure USING (leaf)
GROUP BY 1, 2
HAVING ({_SUMMED_CAST}) IS DISTINCT FROM ({_ZEROS})
ON CONFLICT (day, category_id) DO UPDATE SET {_ADD}"""  # noqa: S608 - constant

# seller and category rows of day $1 whose sums came to zero: a day counted from scratch has
# none (a difference that sums to zero is never added)
EMPTY_SUMS = tuple(
    f"DELETE FROM {t} WHERE day = $1 AND ({_SUMS}) = ({_ZEROS})"  # noqa: S608 - constants
    for t in ("sales_seller_daily", "sales_category_daily")
)

UPSERT_DAY = """
INSERT INTO sales_days (day, observed_pct, max_gap_min, complete, final, updated_at)
VALUES ($1, $2, $3, $4, $5, now())
ON CONFLICT (day) DO UPDATE SET observed_pct = EXCLUDED.observed_pct,
    max_gap_min = EXCLUDED.max_gap_min, complete = EXCLUDED.complete, final = EXCLUDED.final,
    updated_at = EXCLUDED.updated_at"""

# -- the incremental fold (increment.py) ------------------------------------------------------

# per product and instant of the batches stamped $1, in that order: the observation (the order
# counter of its stats row, NULL without one; its SKU rows as arrays, NULL without any), what
# the product was last counted against (NULLs: nothing yet) and its attribution — the batch
# in one round trip, a row per observation rather than per history row
BATCH = """
WITH r AS (
    SELECT product_id, observed_at, NULL::bigint AS sku_id, orders_amount AS value,
           NULL::bigint AS stock
    FROM product_stats_history WHERE observed_at = ANY($1::timestamptz[])
    UNION ALL
    SELECT product_id, observed_at, sku_id, purchase_price, available_amount FROM price_history
    WHERE observed_at = ANY($1::timestamptz[])
), o AS (
    SELECT product_id, observed_at, max(value) FILTER (WHERE sku_id IS NULL) AS orders,
           array_agg(sku_id) FILTER (WHERE sku_id IS NOT NULL) AS sku_ids,
           array_agg(value) FILTER (WHERE sku_id IS NOT NULL) AS prices,
           array_agg(stock) FILTER (WHERE sku_id IS NOT NULL) AS stocks
    FROM r GROUP BY product_id, observed_at
)
SELECT o.product_id, o.observed_at, o.orders, o.sku_ids, o.prices, o.stocks,
       c.observed_at, c.orders, c.sku_ids, c.prices, c.stocks, pr.seller_id, pr.category_id
FROM o
LEFT JOIN sales_carry c ON c.product_id = o.product_id
LEFT JOIN products pr ON pr.id = o.product_id
ORDER BY o.product_id, o.observed_at"""

PRODUCT_ROWS_FROM = """
SELECT * FROM sales_product_daily WHERE product_id = ANY($1::bigint[]) AND day >= $2"""

_PRODUCT_SET = ", ".join(
    f"{c} = EXCLUDED.{c}"
    for c in ("seller_id", "category_id", *PRODUCT_FIELDS.split(", "), "first_seen")
)
UPSERT_PRODUCTS = f"""{INSERT_PRODUCTS}
ON CONFLICT (day, product_id) DO UPDATE SET {_PRODUCT_SET}"""

UPSERT_SKUS = f"""{INSERT_SKUS}
ON CONFLICT (day, sku_id) DO UPDATE SET product_id = EXCLUDED.product_id,
    units = EXCLUDED.units, revenue = EXCLUDED.revenue, units_split = EXCLUDED.units_split,
    restocked = EXCLUDED.restocked"""


@dataclass(frozen=True, slots=True)
class DayTable:
    """A per-day table as a recomputation rewrites it: the stored rows of products $1 for the
    days $2..$3 in the order of the rollup's row tuples (the key first: day and id), the upsert
    of new rows and the deletion of rows by key (day[], id[])."""

    select: str
    upsert: str
    delete: str


PRODUCT_TABLE = DayTable(
    select=f"""
SELECT day, product_id, seller_id, category_id, {PRODUCT_FIELDS}, first_seen
FROM sales_product_daily
WHERE product_id = ANY($1::bigint[]) AND day >= $2 AND day <= $3""",  # noqa: S608 - constant
    upsert=UPSERT_PRODUCTS,
    delete="""
DELETE FROM sales_product_daily
WHERE (day, product_id) IN (SELECT * FROM unnest($1::date[], $2::bigint[]))""",
)
SKU_TABLE = DayTable(
    select="""
SELECT day, sku_id, product_id, units, revenue, units_split, restocked FROM sales_sku_daily
WHERE product_id = ANY($1::bigint[]) AND day >= $2 AND day <= $3""",
    upsert=UPSERT_SKUS,
    delete="""
DELETE FROM sales_sku_daily
WHERE (day, sku_id) IN (SELECT * FROM unnest($1::date[], $2::bigint[]))""",
)

ADD_SKUS = """
INSERT INTO sales_sku_daily AS t (day, sku_id, product_id, units, revenue, units_split,
    restocked)
SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
    $6::bigint[], $7::bigint[])
ON CONFLICT (day, sku_id) DO UPDATE SET product_id = EXCLUDED.product_id,
    units = t.units + EXCLUDED.units, revenue = t.revenue + EXCLUDED.revenue,
    units_split = t.units_split + EXCLUDED.units_split,
    restocked = t.restocked + EXCLUDED.restocked
-- adding nothing leaves the row as it is, unwritten (a third of a batch's SKU rows: a price
-- moved, no stock did)
WHERE (EXCLUDED.units, EXCLUDED.revenue, EXCLUDED.units_split, EXCLUDED.restocked,
       EXCLUDED.product_id) IS DISTINCT FROM (0, 0, 0, 0, t.product_id)"""

# per product: the last observation and the values in effect after it ($1: a JSON array)
UPSERT_CARRY = """
INSERT INTO sales_carry (product_id, observed_at, orders, sku_ids, prices, stocks)
SELECT id, at, orders, skus, prices, stocks
FROM json_to_recordset($1::json) AS u(id bigint, at timestamptz, orders bigint,
    skus bigint[], prices bigint[], stocks bigint[])
ON CONFLICT (product_id) DO UPDATE SET observed_at = EXCLUDED.observed_at,
    orders = EXCLUDED.orders, sku_ids = EXCLUDED.sku_ids, prices = EXCLUDED.prices,
    stocks = EXCLUDED.stocks"""


def _renumbered(statement: str, first: int) -> str:
    """`statement` with its parameters $1, $2 … renumbered $first, $first + 1 …"""
    return re.sub(r"\$(\d+)", lambda m: f"${int(m[1]) + first - 1}", statement)


# the minute job's writes of one fold in one statement (one round trip): the product rows
# ($1..$13, UPSERT_PRODUCTS), the SKU rows added to ($14..$20, ADD_SKUS) and each product's
# carry ($21, UPSERT_CARRY); three tables, so no statement sees another's rows
FOLD_WRITES = f"""
WITH product_rows AS ({UPSERT_PRODUCTS}
), sku_rows AS ({_renumbered(ADD_SKUS, 14)}
){_renumbered(UPSERT_CARRY, 21)}"""
