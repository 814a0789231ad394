"""The SQL of the alert evaluation (see alerts.py for the flow).

Candidates are built from the history rows of the batches committed since the last run ($1:
their stamps; $2, $3: the lowest and highest of them, so the time index and the monthly
partitions narrow the scan): a SKU row joined with the row before it (what changed), a product
stats row likewise, and products first seen in those batches. Only real rows are compared: a
product that failed to parse, or a SKU absent from a payload, has no row, so missing data can
never read as a price change or an empty stock.
"""

from __future__ import annotations

from marketplaced.jobs.category_sql import closure_table

SKU_CHANGES = """
CREATE TEMP TABLE t_sku_changes ON COMMIT DROP AS
SELECT h.sku_id, h.product_id, h.observed_at,
       h.purchase_price AS new_price, h.full_price AS new_full, h.available_amount AS new_stock,
       p.purchase_price AS old_price, p.full_price AS old_full, p.available_amount AS old_stock
FROM price_history h
CROSS JOIN LATERAL (
    SELECT x.purchase_price, x.full_price, x.available_amount FROM price_history x
    WHERE x.sku_id = h.sku_id AND x.observed_at < h.observed_at
    ORDER BY x.observed_at DESC LIMIT 1
) p
WHERE h.observed_at >= $2 AND h.observed_at <= $3 AND h.observed_at = ANY($1::timestamptz[])"""

PRODUCT_CHANGES = """
CREATE TEMP TABLE t_product_changes ON COMMIT DROP AS
SELECT h.product_id, h.observed_at, h.total_available AS new_stock, p.total_available AS old_stock
FROM product_stats_history h
CROSS JOIN LATERAL (
    SELECT x.total_available FROM product_stats_history x
    WHERE x.product_id = h.product_id AND x.observed_at < h.observed_at
    ORDER BY x.observed_at DESC LIMIT 1
) p
WHERE h.observed_at >= $2 AND h.observed_at <= $3 AND h.observed_at = ANY($1::timestamptz[])
  AND h.total_available <> p.total_available"""

# the writer stamps a new product's first stats row and first_seen with the same instant
NEW_PRODUCTS = """
CREATE TEMP TABLE t_new_products ON COMMIT DROP AS
SELECT h.product_id, h.observed_at FROM product_stats_history h
JOIN products p ON p.id = h.product_id AND p.first_seen = h.observed_at
WHERE h.observed_at >= $2 AND h.observed_at <= $3 AND h.observed_at = ANY($1::timestamptz[])"""

# leaf → every ancestor (itself included), see category_sql.py
CLOSURE = closure_table("t_alert_closure")


# Scope of a rule: $1 scope, $2 target id. `c` is the candidate, `pr` its product.
def _scope(with_sku: bool) -> str:
    sku = "($1 = 'sku' AND c.sku_id = $2)" if with_sku else "false"
    return f"""
($1 = 'all'
 OR {sku}
 OR ($1 = 'product' AND c.product_id = $2)
 OR ($1 = 'seller' AND pr.seller_id = $2)
 OR ($1 = 'category' AND EXISTS (
        SELECT 1 FROM t_alert_closure cl WHERE cl.leaf = pr.category_id AND cl.cat = $2)))"""  # noqa: S608 - constant fragments only


# Every candidate query returns: item, product_id, sku_id, observed_at, old_value, new_value,
# title, detail. For any scope but 'sku', one candidate per product and instant: the SKU that
# moved most (a repricing of 100 SKUs is one alert, not 100).
_SKU_OUT = """
SELECT DISTINCT ON (CASE WHEN $1 = 'sku' THEN c.sku_id ELSE c.product_id END, c.observed_at)
       CASE WHEN $1 = 'sku' THEN 'sku:' || c.sku_id ELSE 'product:' || c.product_id END AS item,
       c.product_id, c.sku_id, c.observed_at, {old} AS old_value, {new} AS new_value,
       pr.title, k.characteristics AS detail
FROM t_sku_changes c
JOIN products pr ON pr.id = c.product_id
LEFT JOIN skus k ON k.id = c.sku_id
WHERE {cond} AND {scope}
ORDER BY CASE WHEN $1 = 'sku' THEN c.sku_id ELSE c.product_id END, c.observed_at,
         ({old} - {new})::real / greatest({old}, 1) DESC"""


def _sku_query(cond: str, old: str = "c.old_price", new: str = "c.new_price") -> str:
    return _SKU_OUT.format(cond=cond, scope=_scope(True), old=old, new=new)


# $3 pct (a drop of at least), $4 price (at or below); a zero price is missing data, not a drop
PRICE_DROP = _sku_query(
    "c.new_price < c.old_price AND c.new_price > 0"
    " AND ($3::real IS NULL OR (c.old_price - c.new_price) * 100.0 / c.old_price >= $3)"
    " AND ($4::bigint IS NULL OR c.new_price <= $4)"
)

# $3 days: lower than every price in effect during the previous N days, and the SKU was
# already known N days ago (a young SKU's "lowest ever" means nothing)
NEW_LOW = _sku_query(
    "c.new_price < c.old_price AND c.new_price > 0"
    " AND NOT EXISTS (SELECT 1 FROM price_history x WHERE x.sku_id = c.sku_id"
    "     AND x.observed_at > c.observed_at - make_interval(days => $3::int)"
    "     AND x.observed_at < c.observed_at AND x.purchase_price <= c.new_price)"
    " AND (SELECT x.purchase_price FROM price_history x WHERE x.sku_id = c.sku_id"
    "     AND x.observed_at <= c.observed_at - make_interval(days => $3::int)"
    "     ORDER BY x.observed_at DESC LIMIT 1) > c.new_price"
)

# $3 pct, $4 days: a "discount" (price down, list price above it) whose list price was raised
# by at least pct within the last days while the price is no lower than before the raise
# (2 % tolerance: shelf prices end in …990 and get rounded)
FAKE_DISCOUNT = _sku_query(
    "c.new_price < c.old_price AND c.new_full > c.new_price AND EXISTS ("
    " SELECT 1 FROM (SELECT x.purchase_price, x.full_price FROM price_history x"
    "     WHERE x.sku_id = c.sku_id"
    "     AND x.observed_at <= c.observed_at - make_interval(days => $4::int)"
    "     ORDER BY x.observed_at DESC LIMIT 1) before"
    " WHERE c.new_full >= coalesce(before.full_price, before.purchase_price) * (1 + $3 / 100.0)"
    "   AND c.new_price >= before.purchase_price * 0.98)",
    old="coalesce(c.old_full, c.old_price)",
    new="c.new_full",
)

SKU_OUT_OF_STOCK = _sku_query("c.old_stock > 0 AND c.new_stock = 0", "c.old_stock", "c.new_stock")
SKU_BACK_IN_STOCK = _sku_query("c.old_stock = 0 AND c.new_stock > 0", "c.old_stock", "c.new_stock")

# Product level: the total moved to/from zero AND a SKU row of the same observation confirms
# it, so a payload that arrived without its SKU list cannot empty a product.
_PRODUCT_STOCK = """
SELECT 'product:' || c.product_id AS item, c.product_id, NULL::bigint AS sku_id, c.observed_at,
       c.old_stock AS old_value, c.new_stock AS new_value, pr.title, NULL::text AS detail
FROM t_product_changes c
JOIN products pr ON pr.id = c.product_id
WHERE {cond} AND EXISTS (SELECT 1 FROM price_history x WHERE x.product_id = c.product_id
      AND x.observed_at = c.observed_at AND {sku_cond}) AND {scope}
ORDER BY c.product_id, c.observed_at"""
PRODUCT_OUT_OF_STOCK = _PRODUCT_STOCK.format(
    cond="c.old_stock > 0 AND c.new_stock = 0",
    sku_cond="x.available_amount = 0",
    scope=_scope(False),
)
PRODUCT_BACK_IN_STOCK = _PRODUCT_STOCK.format(
    cond="c.old_stock = 0 AND c.new_stock > 0",
    sku_cond="x.available_amount > 0",
    scope=_scope(False),
)

# $3: the rule's creation. New means new since the rule exists, and only once the Uzum scan has
# made a full pass (every shard past its first cycle): until then a product seen for the first
# time is the catalogue being discovered, not a product that just appeared.
NEW_PRODUCT = f"""
SELECT 'product:' || c.product_id AS item, c.product_id, NULL::bigint AS sku_id, c.observed_at,
       NULL::bigint AS old_value,
       (SELECT min(k.purchase_price) FROM skus k WHERE k.product_id = c.product_id) AS new_value,
       pr.title, NULL::text AS detail
FROM t_new_products c JOIN products pr ON pr.id = c.product_id
WHERE c.observed_at > $3
  AND EXISTS (SELECT 1 FROM scan_cursors WHERE scanner LIKE 'uzum.products%' AND cycle > 1)
  AND NOT EXISTS (SELECT 1 FROM scan_cursors WHERE scanner LIKE 'uzum.products%' AND cycle = 1)
  AND {_scope(False)}
ORDER BY c.observed_at, c.product_id"""  # noqa: S608 - constant fragments only

RULES = """
SELECT id, name, kind, scope, target_id, pct, price, days, daily_cap, rearm_h, created_at
FROM alert_rules WHERE enabled ORDER BY id"""

STATE = "SELECT last_fired_at FROM alert_state WHERE rule_id = $1 AND item = $2"
SAVE_STATE = """
INSERT INTO alert_state (rule_id, item, last_fired_at, last_value) VALUES ($1, $2, $3, $4)
ON CONFLICT (rule_id, item) DO UPDATE
SET last_fired_at = EXCLUDED.last_fired_at, last_value = EXCLUDED.last_value"""
FIRED_TODAY = """
SELECT count(*) FROM alert_events
WHERE rule_id = $1 AND status <> 'capped' AND observed_at >= $2 AND observed_at < $3"""
INSERT_EVENT = """
INSERT INTO alert_events (rule_id, kind, item, product_id, sku_id, observed_at, old_value,
    new_value, title, message, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"""

SYNC_RULE = """
INSERT INTO alert_rules (name, source, kind, scope, target_id, pct, price, days, daily_cap,
    rearm_h, enabled)
VALUES ($1, 'config', $2, $3, $4, $5, $6, $7, $8, $9, true)
ON CONFLICT (name) DO UPDATE SET enabled = true"""
DISABLE_STALE_RULES = """
UPDATE alert_rules SET enabled = false
WHERE source = 'config' AND enabled AND NOT (name = ANY($1::text[]))"""

EVENTS_BY_ID = """
SELECT e.kind, e.item, e.status, e.title, r.name AS rule
FROM alert_events e LEFT JOIN alert_rules r ON r.id = e.rule_id
WHERE e.id = ANY($1::bigint[]) ORDER BY e.id"""
RECENT = """
SELECT e.id, e.kind, e.item, e.product_id, e.sku_id, e.observed_at, e.old_value, e.new_value,
       e.title, e.message, e.status, e.created_at, e.sent_at, r.name AS rule
FROM alert_events e LEFT JOIN alert_rules r ON r.id = e.rule_id
ORDER BY e.id DESC LIMIT $1"""
