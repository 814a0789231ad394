"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

Built from the same parameter lists the handlers validate against, so a parameter cannot be
accepted without being documented (a test checks every route is described).
"""

from __future__ import annotations

from typing import Any

from marketplaced.web.params import DEFAULT_LIMIT, MAX_LIMIT
from marketplaced.web.queries import catalog, sellers, uzex

_INT = {"type": "integer", "minimum": 0}
_NUM = {"type": "number", "minimum": 0}
_BOOL = {"type": "boolean"}
_STR = {"type": "string"}

_COMMON: dict[str, tuple[dict[str, Any], str]] = {
    "limit": (
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "page size",
    ),
    "cursor": (_STR, "opaque cursor from the previous page's next_cursor"),
    "offset": ({"type": "integer", "minimum": 0, "maximum": 10000}, "from next_offset"),
    "category": (_INT, "Uzum category id; its subcategories are included"),
}

_LIST_RESPONSE = {
    "200": {
        "description": "a page",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"type": "object"}},
                        "next_cursor": {"type": ["string", "null"]},
                        "next_offset": {"type": ["integer", "null"]},
                        "limit": {"type": "integer"},
                    },
                }
            }
        },
    },
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}
_ONE_RESPONSE = {
    "200": {
        "description": "the object",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "404": {"description": "not found"},
}


def _param(
    name: str, schema: dict[str, Any], description: str, where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def _params(names: dict[str, tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    return [_param(n, s, d) for n, (s, d) in names.items()]


def _get(
    summary: str, parameters: list[dict[str, Any]], responses: dict[str, Any]
) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def spec() -> dict[str, Any]:
    c = _COMMON
    product_params = {
        "q": (_STR, "title search, uz or ru (3-100 characters)"),
        "category": c["category"],
        "seller": (_INT, "seller id"),
        "min_price": (_INT, "cheapest SKU at least (so'm)"),
        "max_price": (_INT, "cheapest SKU at most (so'm)"),
        "in_stock": (_BOOL, "only products with stock"),
        "min_rating": ({"type": "number", "minimum": 0, "maximum": 5}, "rating at least"),
        "min_orders": (_INT, "orders at least"),
        "sort": ({"enum": list(catalog.PRODUCT_SORTS), "default": "orders"}, "order"),
        "limit": c["limit"],
        "cursor": c["cursor"],
    }
    id_path = [_param("id", _INT, "id", "path")]
    paths = {
        "/api/v1/products": _get("Products with filters", _params(product_params), _LIST_RESPONSE),
        "/api/v1/products/{id}": _get("One product with SKUs", id_path, _ONE_RESPONSE),
        "/api/v1/products/{id}/history": _get(
            "Price/stock history per SKU and order history",
            [
                *id_path,
                _param("days", {"type": "integer", "minimum": 1, "maximum": 3650}, "window"),
            ],
            _ONE_RESPONSE,
        ),
        "/api/v1/sellers": _get(
            "Seller ranking",
            _params(
                {
                    "q": (_STR, "seller name contains"),
                    "official": (_BOOL, "official stores only"),
                    "sort": ({"enum": list(sellers.SELLER_SORTS), "default": "orders"}, "ranking"),
                    "limit": c["limit"],
                    "cursor": c["cursor"],
                }
            ),
            _LIST_RESPONSE,
        ),
        "/api/v1/sellers/{id}": _get(
            "One seller with totals and categories", id_path, _ONE_RESPONSE
        ),
        "/api/v1/price-drops": _get(
            "Biggest recent price drops",
            _params(
                {
                    "days": (
                        {"type": "integer", "minimum": 1, "maximum": 14, "default": 7},
                        "window",
                    ),
                    "min_pct": (
                        {"type": "number", "minimum": 0, "maximum": 100},
                        "drop at least, %",
                    ),
                    "category": c["category"],
                    "limit": c["limit"],
                    "cursor": c["cursor"],
                }
            ),
            _LIST_RESPONSE,
        ),
        "/api/v1/top-sellers": _get(
            "Top sellers (of a category)",
            _params(
                {
                    "category": c["category"],
                    "by": ({"enum": ["revenue", "orders"], "default": "revenue"}, "ranking"),
                    "limit": c["limit"],
                    "offset": c["offset"],
                }
            ),
            _LIST_RESPONSE,
        ),
        "/api/v1/compare": _get(
            "Price spread per seller for products matching q",
            _params(
                {
                    "q": (_STR, "required: title search"),
                    "category": c["category"],
                    "limit": c["limit"],
                    "offset": c["offset"],
                }
            ),
            _LIST_RESPONSE,
        ),
        "/api/v1/categories/overview": _get(
            "Per child category: products, orders, revenue, price bands",
            _params({"category": (_INT, "parent category (top level when absent)")}),
            _ONE_RESPONSE,
        ),
        "/api/v1/uzex/lots": _get(
            "UZEX lots of one type",
            _params(
                {
                    "type": ({"enum": list(uzex.LOT_TYPES), "default": "auction"}, "lot type"),
                    "status": ({"enum": list(uzex.STATUSES)}, "status"),
                    "customer": (_STR, "customer INN/PINFL"),
                    "provider": (_STR, "provider INN/PINFL"),
                    "category": (_STR, "category name"),
                    "region": (_STR, "customer region"),
                    "from": ({"type": "string", "format": "date"}, "date from (deal, else start)"),
                    "to": ({"type": "string", "format": "date"}, "date to, inclusive"),
                    "min_cost": (_NUM, "cost at least"),
                    "max_cost": (_NUM, "cost at most"),
                    "sort": ({"enum": list(uzex.LOT_SORTS), "default": "date"}, "order"),
                    "limit": c["limit"],
                    "cursor": c["cursor"],
                }
            ),
            _LIST_RESPONSE,
        ),
        "/api/v1/uzex/lots/{type}/{id}": _get(
            "One UZEX lot with items",
            [_param("type", {"enum": list(uzex.LOT_TYPES)}, "lot type", "path"), *id_path],
            _ONE_RESPONSE,
        ),
        "/api/v1/dead-letters": _get(
            "Dead-lettered ids",
            _params({"scope": (_STR, "scope"), "limit": c["limit"], "cursor": c["cursor"]}),
            _LIST_RESPONSE,
        ),
        "/api/v1/status": _get(
            "Scanners, writer, hosts, services, jobs, health", [], _ONE_RESPONSE
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "marketplaced API", "version": "1"},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "BadRequest": {
                    "description": "a parameter is unknown or invalid",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"error": {"type": "string"}},
                            }
                        }
                    },
                },
                "Unauthorized": {"description": "token required (only when one is configured)"},
            },
        },
    }
