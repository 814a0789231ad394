"""A category's market over a period: who sells it (seller shares and a concentration index),
at what prices (the configured price bands' shares of units and revenue), which products sell,
and the sales per day — all from the `sales_*_daily` rollups (sql/014_sales.sql).

A category means its whole subtree: the caller passes the ids of the category and every
category below it (the product rows carry their own, leaf, category). Shares are of the
period's measured revenue and units, counted as "How we count" says.

- **Seller shares**: the `top` sellers by revenue, then one "others" row with the rest. Sales
  of products whose seller is unknown count in the totals and in "others" only.
- **Concentration** is the Herfindahl–Hirschman index over the revenue shares of every seller
  with sales (shares in percent, squared and summed: 10 000 is one seller, 100 sellers with
  1 % each make 100). It is computed over all sellers, not the top ones, so "others" does not
  hide a fragmented tail or a second giant. Read against the US merger guidelines' levels:
  below 1 500 unconcentrated, 1 500–2 500 moderately, above 2 500 highly concentrated.
- **Price bands**: a product's units of one day fall in the band of their average price that
  day (revenue ÷ units: each sale already priced at the price in effect when it happened), so
  a product that changed price between days contributes to each band it sold in. Product-days
  with units but no known price (revenue 0) are left out of the bands and counted apart.

For yesterday and the last 7 or 30 finished days by the configured bands, the answer was
worked out per category when the day ended (sales/period_market.py) and is read as it is;
with another number of named sellers, it is summed from the period's sums per (category,
seller, product, band) built then. Any other period sums the day rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import asyncpg

from marketplaced import price_bands
from marketplaced.sales import period_market
from marketplaced.web.queries.sales import Period

#: sellers named on the page before the "others" row
TOP_SELLERS = period_market.TOP_SELLERS
#: best-selling products listed on the page (the products list has them all)
TOP_PRODUCTS = period_market.TOP_PRODUCTS
#: the concentration levels of the US horizontal merger guidelines (2010), HHI on 0–10 000
MODERATE_HHI, HIGH_HHI = 1500, 2500


@dataclass(frozen=True, slots=True)
class SellerShare:
    #: None on the "others" row
    seller_id: int | None
    title: str | None
    units: int
    revenue: int
    #: products with sales in the period
    products: int
    #: how many sellers the row stands for (1, or the sellers in "others")
    sellers: int
    units_share_pct: float | None
    revenue_share_pct: float | None


@dataclass(frozen=True, slots=True)
class BandShare:
    label: str
    #: so'm, `lo` <= average price < `hi`; None: open-ended
    lo: int | None
    hi: int | None
    units: int
    revenue: int
    products: int
    units_share_pct: float | None
    revenue_share_pct: float | None


@dataclass(frozen=True, slots=True)
class ProductSales:
    id: int
    title: str | None
    seller_id: int | None
    seller: str | None
    units: int
    revenue: int
    revenue_share_pct: float | None


@dataclass(frozen=True, slots=True)
class DaySales:
    day: date
    #: None: the day was never observed (unknown, not zero)
    units: int | None
    revenue: int | None
    split_units: int


@dataclass(frozen=True, slots=True)
class Market:
    units: int
    revenue: int
    products_with_sales: int
    sellers_with_sales: int
    #: None without revenue (no shares to square)
    hhi: float | None
    sellers: list[SellerShare]
    bands: list[BandShare]
    #: units sold on product-days without a known price, outside the bands
    unpriced_units: int
    products: list[ProductSales]
    days: list[DaySales]
    #: summed from the period's built sums (the same figures), not from the day rows
    precomputed: bool = False

    @property
    def concentration(self) -> str:
        """The HHI in words."""
        if self.hhi is None:
            return "no sales"
        if self.hhi > HIGH_HHI:
            return "highly concentrated"
        if self.hhi >= MODERATE_HHI:
            return "moderately concentrated"
        return "unconcentrated"


# One pass over the period's product-days of the subtree (materialised once), three answers:
# - part 'seller': one group per top seller and one for every other seller together
#   (top = false), with the sum of squared revenues of the sellers it holds (numeric: exact at
#   any size) for the HHI; products are summed per seller first (a hash aggregate), not
#   counted DISTINCT (a sort);
# - part 'band': units, revenue and products per price band of each product-day's average
#   price (key NULL: units sold without a known price, revenue 0, kept out of the bands);
# - part 'product': the best-selling products (named afterwards: a few rows, not every one).
# $1 top sellers, $2 best-selling products; `{rows}` one of the two sources below, from $3.
_MARKET = """
WITH d AS MATERIALIZED ({rows}), sp AS (
    SELECT seller_id, product_id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue
    FROM d GROUP BY seller_id, product_id
), s AS (
    SELECT seller_id, sum(units)::bigint AS units, sum(revenue)::bigint AS revenue,
           count(*) AS products
    FROM sp GROUP BY seller_id
), r AS (
    SELECT s.*, row_number() OVER (
        ORDER BY s.seller_id IS NULL, s.revenue DESC, s.units DESC, s.seller_id) AS rank
    FROM s
), bp AS (
    SELECT band, product_id, sum(units) AS units, sum(revenue) AS revenue
    FROM d GROUP BY band, product_id
)
SELECT 'seller' AS part, r.rank <= $1 AND r.seller_id IS NOT NULL AS top, min(r.rank) AS rank,
       CASE WHEN r.rank <= $1 THEN r.seller_id END AS key,
       sum(r.units)::bigint AS units, sum(r.revenue)::bigint AS revenue,
       sum(r.products)::bigint AS products, count(r.seller_id) AS sellers,
       coalesce(sum(r.revenue::numeric * r.revenue) FILTER (WHERE r.seller_id IS NOT NULL), 0)
           AS revenue_sq
FROM r GROUP BY 2, 4
UNION ALL
SELECT 'band', NULL, NULL, band, sum(units)::bigint, sum(revenue)::bigint, count(*), NULL, NULL
FROM bp GROUP BY band
UNION ALL
(SELECT 'product', NULL, NULL, product_id, sum(units)::bigint AS units,
        sum(revenue)::bigint AS revenue, NULL, NULL, NULL
 FROM sp GROUP BY product_id ORDER BY revenue DESC, units DESC, product_id LIMIT $2)"""

# the day rows: $3 subtree, $4 first day, $5 last day, $6 band edges
_DAY_ROWS = """
    SELECT seller_id, product_id, units, revenue,
           CASE WHEN revenue > 0 THEN width_bucket(revenue::float8 / units, $6::float8[]) END
               AS band
    FROM sales_product_daily
    WHERE category_id = ANY($3::integer[]) AND day >= $4 AND day <= $5 AND units > 0"""
# the period's sums per (category, seller, product, band) built by the same bands
# (sales/period_market.py): the same groups summed, so the same figures; $3 subtree, $4 days
_BUILT_ROWS = """
    SELECT seller_id, product_id, units, revenue, band
    FROM sales_period_market
    WHERE days = $4 AND NOT previous AND category_id = ANY($3::integer[]) AND sold"""
MARKET_OF_DAYS = _MARKET.format(rows=_DAY_ROWS)
MARKET_BUILT = _MARKET.format(rows=_BUILT_ROWS)
# the same rows worked out per category when the period was built (with TOP_SELLERS and
# TOP_PRODUCTS): $1 the category, $2 days
MARKET_OF_NODE = """
SELECT part, top, rank, key, units, revenue, products, sellers, revenue_sq
FROM sales_period_nodes WHERE days = $2 AND category_id = $1"""
_BUILT = """
SELECT EXISTS (SELECT 1 FROM sales_period_builds
               WHERE days = $1 AND last_day = $2 AND band_edges = $3::integer[])"""

_TITLES = "SELECT id, title FROM sellers WHERE id = ANY($1::bigint[])"

_PRODUCT_NAMES = """
SELECT p.id, p.title, p.seller_id, s.title AS seller
FROM products p LEFT JOIN sellers s ON s.id = p.seller_id WHERE p.id = ANY($1::bigint[])"""

# The category's own rows hold its whole subtree (the rollup keeps one per level).
_DAYS = """
SELECT day, units, revenue, units_split FROM sales_category_daily
WHERE category_id = $1 AND day >= $2 AND day <= $3"""


def share(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, two decimals; None when there is no whole."""
    return round(100 * part / whole, 2) if whole else None


def hhi_of(revenue_sq: Decimal, revenue: int) -> float | None:
    """Σ (100 · rᵢ / R)² = 10 000 · Σ rᵢ² / R², one decimal."""
    if not revenue:
        return None
    return round(float(Decimal(10_000) * revenue_sq / (Decimal(revenue) ** 2)), 1)


async def market(
    pool: asyncpg.Pool,
    category: int,
    subtree: Sequence[int],
    period: Period,
    band_edges: Sequence[int],
    unobserved: Sequence[date] = (),
    *,
    top: int = TOP_SELLERS,
) -> Market:
    """The market of `category` (`subtree`: its id and all below) over `period`."""
    ids, first, last = list(subtree), period.first, period.last
    edges = list(map(float, band_edges))
    async with pool.acquire() as conn:
        # one snapshot: a build replaced after the check is not read as this period's
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            built = bool(await conn.fetchval(_BUILT, period.days, last, list(band_edges)))
            if built and top == TOP_SELLERS:
                rows = await conn.fetch(MARKET_OF_NODE, category, period.days)
            elif built:
                rows = await conn.fetch(MARKET_BUILT, top, TOP_PRODUCTS, ids, period.days)
            else:
                rows = await conn.fetch(MARKET_OF_DAYS, top, TOP_PRODUCTS, ids, first, last, edges)
        parts: dict[str, list[asyncpg.Record]] = {"seller": [], "band": [], "product": []}
        for r in rows:
            parts[r["part"]].append(r)
        groups = sorted(parts["seller"], key=lambda g: (not g["top"], g["rank"]))
        named = [g["key"] for g in groups if g["top"]]
        titles = {r["id"]: r["title"] for r in await conn.fetch(_TITLES, named)}
        best = sorted(parts["product"], key=lambda r: (-r["revenue"], -r["units"], r["key"]))
        names = {r["id"]: r for r in await conn.fetch(_PRODUCT_NAMES, [r["key"] for r in best])}
        day_rows = await conn.fetch(_DAYS, category, first, last)
    band_rows = parts["band"]
    units = sum(g["units"] for g in groups)
    revenue = sum(g["revenue"] for g in groups)
    sellers = [
        SellerShare(
            seller_id=g["key"] if g["top"] else None,
            title=titles.get(g["key"]) if g["top"] else None,
            units=g["units"],
            revenue=g["revenue"],
            products=g["products"],
            sellers=g["sellers"],
            units_share_pct=share(g["units"], units),
            revenue_share_pct=share(g["revenue"], revenue),
        )
        for g in groups
    ]
    return Market(
        units=units,
        revenue=revenue,
        products_with_sales=sum(g["products"] for g in groups),
        sellers_with_sales=sum(g["sellers"] for g in groups),
        hhi=hhi_of(sum((g["revenue_sq"] for g in groups), Decimal(0)), revenue),
        sellers=sellers,
        bands=_bands([r for r in band_rows if r["key"] is not None], band_edges),
        unpriced_units=sum(r["units"] for r in band_rows if r["key"] is None),
        products=[_product(r, names.get(r["key"]), revenue) for r in best],
        days=_days(day_rows, period, set(unobserved)),
        precomputed=built,
    )


def _product(r: asyncpg.Record, name: asyncpg.Record | None, revenue: int) -> ProductSales:
    return ProductSales(
        r["key"],
        name["title"] if name else None,
        name["seller_id"] if name else None,
        name["seller"] if name else None,
        r["units"],
        r["revenue"],
        share(r["revenue"], revenue),
    )


def _bands(rows: Sequence[asyncpg.Record], edges: Sequence[int]) -> list[BandShare]:
    """Every band of `edges`, in price order, those without sales at 0."""
    by_band = {r["key"]: r for r in rows}
    units = sum(r["units"] for r in rows)
    revenue = sum(r["revenue"] for r in rows)
    bounds: list[int | None] = [None, *edges, None]
    out = []
    for b, label in enumerate(price_bands.labels(edges)):
        r = by_band.get(b)
        u, rev, n = (r["units"], r["revenue"], r["products"]) if r else (0, 0, 0)
        out.append(
            BandShare(
                label, bounds[b], bounds[b + 1], u, rev, n, share(u, units), share(rev, revenue)
            )
        )
    return out


def _days(rows: Sequence[asyncpg.Record], period: Period, unobserved: set[date]) -> list[DaySales]:
    """Every day of the period: its sales, 0 when observed without any, None when unobserved."""
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range(period.days):
        d = period.first + timedelta(days=i)
        r = by_day.get(d)
        if r is None and d in unobserved:
            out.append(DaySales(d, None, None, 0))
        elif r is None:
            out.append(DaySales(d, 0, 0, 0))
        else:
            out.append(DaySales(d, r["units"], r["revenue"], r["units_split"]))
    return out
