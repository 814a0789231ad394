"""Revenue lost to out-of-stock days: what a product would have sold while it had no stock,
estimated from how it sold before it ran out.

A stock-out is a run of the product's stats rows (`product_stats_history`, change-based: a row
whenever the counters or the total stock changed) at zero total stock, from the first of them
to the next row with stock — or, while it is still out, to the product's last visit
(`uzum_visits.last_seen`): beyond that nothing was observed, so nothing is counted. Its time
inside the period, in days (fractions kept: out from 12:00 is half a day), is priced at the
product's sales rate over the `BASE_DAYS` local days before the day it ran out: the units and
revenue of those days (sales rollups) divided by how many of them were observed (a day never
observed is left out of the average, not counted as a day without sales). A product that sold
nothing in those days gets no estimate — a rate of zero would say "lost nothing", which is no
better founded. Stock-outs that began more than `LOOKBACK_DAYS` before the period start from the
window's first row: the rate before them is then read from days it may already have been out,
which can only make the estimate smaller.

Only the products with a zero-stock row in that window can have a stock-out in it, and each
product's runs are worked out from its own rows alone, so the history is read for those
products only (`OUT_PRODUCTS`, found through the partial index of
sql/026_stats_history_stockouts.sql, then each one's rows through the primary key): the same
figures as reading every product's window, which at full scale meant tens of millions of rows
per request. This serves every period alike (today's and any date range as well as the built
ones), where storing the estimate with the period build would have left the live and custom
periods slow and held the rollup's lock for the same full read once per built period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from marketplaced.web.listing import Reader
from marketplaced.web.sales_window import SalesWindow

#: the days before a stock-out whose sales set the rate: a week evens out weekday swings
BASE_DAYS = 7
#: how far before the period a stock-out may have begun and still be found
LOOKBACK_DAYS = 30


@dataclass(frozen=True, slots=True)
class LostSales:
    id: int
    title: str | None
    #: time out of stock inside the period, in days
    out_of_stock_days: float
    #: the rate before it ran out (per observed day)
    units_per_day: float
    revenue_per_day: int
    lost_units: int
    lost_revenue: int
    #: still out of stock at the period's end (or at its last visit)
    still_out: bool


#: the products whose window ($5 .. $2) holds a zero-stock row: the only ones with a stock-out
OUT_PRODUCTS = """
    AND product_id IN (SELECT DISTINCT product_id FROM product_stats_history
                       WHERE total_available = 0 AND observed_at >= $5 AND observed_at < $2)"""

# $1/$2: the period's start and end (its end is now while it runs); $3: the zone of the days;
# $4: BASE_DAYS; $5: the earliest row read; {products}: OUT_PRODUCTS, or nothing to read every
# product's rows (the same figures, slower: tests compare the two)
LOST_TEMPLATE = """
WITH h AS (
    SELECT product_id, observed_at, total_available,
           lead(observed_at) OVER w AS next_at
    FROM product_stats_history
    WHERE observed_at >= $5 AND observed_at < $2 AND total_available IS NOT NULL{products}
    WINDOW w AS (PARTITION BY product_id ORDER BY observed_at)
), runs AS (
    -- each row with stock opens a group; the zero rows after it are one stock-out
    SELECT h.*, count(*) FILTER (WHERE total_available > 0)
                   OVER (PARTITION BY product_id ORDER BY observed_at) AS grp
    FROM h
), outs AS (
    SELECT r.product_id, min(r.observed_at) AS began,
           max(coalesce(r.next_at, least(coalesce(v.last_seen, r.observed_at), $2))) AS ended,
           bool_or(r.next_at IS NULL) AS still_out
    FROM runs r LEFT JOIN uzum_visits v ON v.product_id = r.product_id
    WHERE r.total_available = 0
    GROUP BY r.product_id, r.grp
), clipped AS (
    SELECT product_id, still_out,
           extract(epoch FROM least(ended, $2) - greatest(began, $1)) / 86400.0 AS out_days,
           (began AT TIME ZONE $3)::date AS out_day
    FROM outs WHERE ended > $1 AND began < $2
), priced AS (
    SELECT c.*, b.units, b.revenue, o.days
    FROM clipped c
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(d.units), 0) AS units, coalesce(sum(d.revenue), 0) AS revenue
        FROM sales_product_daily d
        WHERE d.product_id = c.product_id AND d.day >= c.out_day - $4::int AND d.day < c.out_day
    ) b
    CROSS JOIN LATERAL (
        SELECT count(*) AS days FROM sales_days s
        WHERE s.day >= c.out_day - $4::int AND s.day < c.out_day AND s.observed_pct > 0
    ) o
    WHERE b.units > 0 AND o.days > 0 AND c.out_days > 0
)
SELECT q.product_id AS id, p.title, sum(q.out_days)::float8 AS out_days,
       sum(q.units::float8 / q.days * q.out_days) AS lost_units,
       sum(q.revenue::float8 / q.days * q.out_days) AS lost_revenue,
       bool_or(q.still_out) AS still_out
FROM priced q LEFT JOIN products p ON p.id = q.product_id
GROUP BY q.product_id, p.title
ORDER BY lost_revenue DESC, q.product_id
LIMIT $6"""
LOST = LOST_TEMPLATE.format(products=OUT_PRODUCTS)


def bounds(w: SalesWindow, tz_name: str, now: datetime) -> tuple[datetime, datetime]:
    """The period as instants: its first local midnight to the one after its last day, or now
    while it runs (time yet to come is not out of stock)."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(w.period.first, datetime.min.time(), tz)
    end = datetime.combine(w.period.last + timedelta(days=1), datetime.min.time(), tz)
    return start, min(end, now)


async def lost_sales(
    pool: Reader, w: SalesWindow, tz_name: str, now: datetime, *, limit: int
) -> list[LostSales]:
    """The `limit` products that lost the most revenue to being out of stock in the period."""
    start, end = bounds(w, tz_name, now)
    if end <= start:
        return []
    earliest = start - timedelta(days=LOOKBACK_DAYS)
    rows = await pool.fetch(LOST, start, end, tz_name, BASE_DAYS, earliest, limit)
    return [
        LostSales(
            id=r["id"],
            title=r["title"],
            out_of_stock_days=round(r["out_days"], 2),
            units_per_day=round(r["lost_units"] / r["out_days"], 2),
            revenue_per_day=round(r["lost_revenue"] / r["out_days"]),
            lost_units=round(r["lost_units"]),
            lost_revenue=round(r["lost_revenue"]),
            still_out=r["still_out"],
        )
        for r in rows
    ]
