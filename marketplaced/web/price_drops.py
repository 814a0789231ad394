"""The price drops of the last 14 days, kept current by the summaries refresh without redoing them.

A drop is a SKU's price row below the row before it. Recomputing every row of the window at
each refresh (one backward probe of every history partition per row) took minutes at full
scale for what a half hour of scanning changes in a few SKUs. So the table is maintained: each
refresh drops the rows that left the window and recomputes only the SKUs that batches committed
since the last refresh (the commit log, in commit order: a late batch is never skipped) wrote
rows for — all of that SKU's window, since a late row between two earlier ones changes the drop
of the row after it. The recomputation is one pass over those SKUs' window rows (`lag`) and a
probe only for each SKU's first row in the window. The first refresh (no number kept yet)
builds the whole window the same way. Readers see the old rows until the refresh commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from marketplaced import commit_log
from marketplaced.db import Conn
from marketplaced.sales.carry_sql import latest_before

NAME = "web_price_drops"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: two refreshes at once would insert the same rows: the second waits ('drop')
_LOCK = "SELECT pg_advisory_xact_lock(1685221232)"

# one instant for the whole refresh: the transaction's now()
_WINDOW_START = "now() - interval '14 days'"
_SEQ = "SELECT commit_seq FROM web_summary_refreshes WHERE name = $1"
_SAVE_SEQ = """
INSERT INTO web_summary_refreshes (name, refreshed_at, duration_ms, commit_seq)
VALUES ($1, now(), 0, $2) ON CONFLICT (name) DO UPDATE SET commit_seq = EXCLUDED.commit_seq"""
_EXPIRE = f"DELETE FROM web_price_drops WHERE observed_at < {_WINDOW_START}"  # noqa: S608 - constant
_CLEAR = "DELETE FROM web_price_drops"
_FORGET = "DELETE FROM web_price_drops WHERE sku_id = ANY($1::bigint[])"
# the SKUs of the batches stamped $1, whatever their age: an old row can be the one before a
# row of the window
_CHANGED = "SELECT DISTINCT sku_id FROM price_history WHERE observed_at = ANY($1::timestamptz[])"
# the SKU's price before the window (newest month first, as the analytics' carry-in)
_BEFORE_WINDOW = latest_before(
    "price_history", "h.sku_id = w.sku_id", "h.purchase_price", f"({_WINDOW_START})"
)
# each window row against the row before it: within the window by lag, the first one of each
# SKU by one probe (coalesce evaluates it only there; purchase_price is never NULL)
_INSERT = f"""
INSERT INTO web_price_drops (sku_id, product_id, observed_at, old_price, new_price, drop_pct)
SELECT sku_id, product_id, observed_at, old_price, new_price,
       round(100.0 * (old_price - new_price) / old_price, 2)
FROM (
    SELECT w.sku_id, w.product_id, w.observed_at, w.purchase_price AS new_price,
           coalesce(w.prev, {_BEFORE_WINDOW}) AS old_price
    FROM (
        SELECT sku_id, product_id, observed_at, purchase_price,
               lag(purchase_price) OVER (PARTITION BY sku_id ORDER BY observed_at) AS prev
        FROM price_history WHERE observed_at >= {_WINDOW_START} {{skus}}
    ) w
) d
WHERE old_price > 0 AND new_price < old_price"""  # noqa: S608 - constant fragments
INSERT_ALL = _INSERT.format(skus="")
INSERT_SKUS = _INSERT.format(skus="AND sku_id = ANY($1::bigint[])")


async def refresh(conn: Conn) -> int:
    """Bring the table up to the committed history; returns the SKUs recomputed (every SKU of
    the window on the first refresh: -1). Runs in one transaction; the caller records it."""
    async with conn.transaction():
        await conn.execute(_LOCK)
        upto = await commit_log.top(conn)
        seq = await conn.fetchval(_SEQ, NAME)
        if seq is None:
            await conn.execute(_CLEAR)
            await conn.execute(INSERT_ALL)
            changed = -1
        else:
            await conn.execute(_EXPIRE)
            stamps = await commit_log.stamps_after(conn, int(seq), upto, _EPOCH)
            skus = [r["sku_id"] for r in await conn.fetch(_CHANGED, stamps)] if stamps else []
            if skus:
                await conn.execute(_FORGET, skus)
                await conn.execute(INSERT_SKUS, skus)
            changed = len(skus)
        await conn.execute(_SAVE_SEQ, NAME, upto)
    return changed
