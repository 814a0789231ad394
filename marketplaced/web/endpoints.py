"""Every JSON endpoint in one table: path, handler, accepted parameters and the answer's schema.

The app registers the API routes from `API`, and the OpenAPI document is written from `API` plus
`PROBES` (`/healthz`, `/metrics`, which the app registers with the pages), so a route cannot be
served without being described, nor described with parameters its handler does not take: the
query tables are the very ones the handlers validate against (`views/*`, param_spec.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from marketplaced.web import api, market_schema, metrics, prometheus, sales_schema
from marketplaced.web import api_schema as s
from marketplaced.web import param_spec as ps
from marketplaced.web.param_spec import Param
from marketplaced.web.queries import uzex
from marketplaced.web.views import analytics, catalog, category_page, seller, status_page, trends
from marketplaced.web.views import uzex as uzex_views

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    summary: str
    handler: Handler
    #: the 200 answer: JSON of `schema`, or Prometheus text (`/metrics`)
    schema: s.Schema
    query: tuple[Param, ...] = ()
    #: the `{name}` parts of `path`, in order
    path_params: tuple[Param, ...] = ()
    content: Literal["json", "prometheus"] = "json"
    #: a list or an object can be missing (404); a probe answers 503 with the same body
    not_found: bool = False
    unavailable: bool = False
    #: whether unknown query parameters are refused (the probes ignore query strings)
    strict: bool = True


_ID = ps.integer("id", "id")
_LOT_TYPE = ps.choice("type", "lot type", uzex.LOT_TYPES)

API: tuple[Endpoint, ...] = (
    Endpoint(
        "/api/v1/status",
        "Scanners, writer, hosts, services, jobs, health",
        api.status,
        s.STATUS,
    ),
    Endpoint(
        "/api/v1/products",
        "Products with filters",
        api.products,
        s.counted_page(s.PRODUCT_ITEM),
        catalog.PRODUCT_PARAMS,
    ),
    Endpoint(
        "/api/v1/products/{id}",
        "One product with SKUs",
        api.product,
        s.PRODUCT,
        path_params=(_ID,),
        not_found=True,
    ),
    Endpoint(
        "/api/v1/products/{id}/history",
        "Price/stock history per SKU and order history",
        api.product_history,
        s.HISTORY,
        catalog.HISTORY_PARAMS,
        (_ID,),
        not_found=True,
    ),
    Endpoint(
        "/api/v1/sellers",
        "Seller ranking",
        api.sellers,
        s.counted_page(s.SELLER_ITEM),
        catalog.SELLER_PARAMS,
    ),
    Endpoint(
        "/api/v1/sellers/{id}",
        "One seller with totals and categories",
        api.seller,
        s.SELLER,
        path_params=(_ID,),
        not_found=True,
    ),
    Endpoint(
        "/api/v1/sellers/{id}/sales",
        "One seller's units and revenue over a period: totals with growth, per day (null: "
        "never observed), and the share of its revenue per category",
        api.seller_sales,
        sales_schema.SELLER_SALES,
        seller.SELLER_SALES_PARAMS,
        (_ID,),
        not_found=True,
    ),
    Endpoint(
        "/api/v1/seller-comparison",
        "Up to 5 sellers side by side over a period: totals, growth and units and revenue per "
        "day (ids is required; an unknown id is a 400)",
        api.seller_comparison,
        sales_schema.SELLER_COMPARISON,
        seller.COMPARISON_PARAMS,
    ),
    Endpoint(
        "/api/v1/trends",
        "Fastest-growing products, sellers and categories, new products that sell, products "
        "losing sales (period against the previous one; growth from a base of 5 units)",
        api.trends,
        s.TRENDS,
        trends.TREND_PARAMS,
    ),
    Endpoint(
        "/api/v1/price-drops",
        "Biggest recent price drops",
        api.price_drops,
        s.page(s.PRICE_DROP_ITEM),
        analytics.DROP_PARAMS,
    ),
    Endpoint(
        "/api/v1/top-sellers",
        "Top sellers (of a category)",
        api.top_sellers,
        s.page(s.TOP_SELLER_ITEM),
        analytics.TOP_PARAMS,
    ),
    Endpoint(
        "/api/v1/compare",
        "Price spread per seller for products matching q (q is required)",
        api.compare,
        s.page(s.COMPARE_ITEM),
        analytics.COMPARE_PARAMS,
    ),
    Endpoint(
        "/api/v1/categories/overview",
        "Per child category: products, orders, revenue, price bands",
        api.category_overview,
        s.CATEGORY_OVERVIEW,
        analytics.OVERVIEW_PARAMS,
    ),
    Endpoint(
        "/api/v1/categories",
        "Every category, depth-first with each level by title: id, title, parent, depth",
        api.categories,
        market_schema.CATEGORY_TREE,
    ),
    Endpoint(
        "/api/v1/categories/{id}/market",
        "A category's market over a period, subcategories included: seller shares (top 10 "
        "and others) with the concentration index (HHI), price bands' shares of units and "
        "revenue, best-selling products, sales per day",
        api.category_market,
        market_schema.CATEGORY_MARKET,
        category_page.MARKET_PARAMS,
        (_ID,),
        not_found=True,
    ),
    Endpoint(
        "/api/v1/uzex/lots",
        "UZEX lots of one type",
        api.uzex_lots,
        s.LOTS_PAGE,
        uzex_views.LOT_PARAMS,
    ),
    Endpoint(
        "/api/v1/uzex/lots/{type}/{id}",
        "One UZEX lot with items",
        api.uzex_lot,
        s.LOT,
        path_params=(_LOT_TYPE, _ID),
        not_found=True,
    ),
    Endpoint(
        "/api/v1/dead-letters",
        "Dead-lettered ids",
        api.dead_letters,
        s.page(s.DEAD_LETTER_ITEM),
        status_page.DEAD_LETTER_PARAMS,
    ),
)

PROBES: tuple[Endpoint, ...] = (
    Endpoint(
        "/healthz",
        "200 when the daemon can do its work, 503 with the reasons when not",
        metrics.healthz,
        s.HEALTH,
        unavailable=True,
        strict=False,
    ),
    Endpoint(
        "/metrics",
        "Prometheus exposition format (OpenMetrics when the scraper asks for it)",
        prometheus.metrics,
        {"type": "string"},
        content="prometheus",
        strict=False,
    ),
)
