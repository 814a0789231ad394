"""JSON Schemas of what `/api/v1`, `/healthz` and `/metrics` answer, for the OpenAPI document.

Each list's item and each object is described field by field with its JSON type (money is an
integer in so'm for Uzum and a decimal string for UZEX; times are ISO 8601 strings with offset),
and closed (`additionalProperties: false`), so a field added to a query without being described
here fails the test that validates real answers against these schemas.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
#: UZEX money: numeric(20,2) as a decimal string, never a float
DEC: Schema = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
EPOCH: Schema = {"type": "number", "description": "Unix time, seconds"}


def null(schema: Schema) -> Schema:
    """`schema` or null."""
    return {**schema, "type": [schema["type"], "null"]}


def obj(properties: dict[str, Schema], *, closed: bool = True) -> Schema:
    """An object with all of `properties` present (values may still be null where said)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": not closed,
    }


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def page(item: Schema) -> Schema:
    """A list answer: items, and how to ask for the next page."""
    return obj(
        {
            "items": array(item),
            "next_cursor": null(STR),
            "next_offset": null(INT),
            "limit": INT,
        }
    )


def counted_page(item: Schema) -> Schema:
    """A list answer with the number of matching rows (`total_capped`: there are more)."""
    schema = page(item)
    schema["properties"] |= {"total": INT, "total_capped": BOOL}
    schema["required"] += ["total", "total_capped"]
    return schema


#: a row's figures over the sales period: null units/revenue when no day of it was observed,
#: null growth without a big enough observed base
SALES_FIELDS: dict[str, Schema] = {
    "units": null(INT),
    "revenue": null(INT),
    "growth_pct": null(NUM),
    "counted": STR,
}

PRODUCT_ITEM = obj(
    {
        "id": INT,
        "title": STR,
        "category_id": null(INT),
        "category": null(STR),
        "seller_id": null(INT),
        "seller": null(STR),
        "price": null(INT),
        "rating": null(NUM),
        "reviews": null(INT),
        "orders": null(INT),
        "stock": null(INT),
        **SALES_FIELDS,
    }
)
SKU = obj(
    {
        "id": INT,
        "full_price": null(INT),
        "purchase_price": null(INT),
        "available_amount": null(INT),
        "barcode": null(STR),
        "stock_type": null(STR),
        "delivery_days": null(INT),
        "characteristics": null(STR),
        "discount_badge": null(STR),
        "first_seen": TIME,
        "last_seen": TIME,
    }
)
PRODUCT = obj(
    {
        "id": INT,
        "title": STR,
        "title_uz": null(STR),
        "title_ru": null(STR),
        "category_id": null(INT),
        "seller_id": null(INT),
        "rating": null(NUM),
        "reviews_amount": null(INT),
        "orders_amount": null(INT),
        "r_orders_amount": null(INT),
        "total_available": null(INT),
        "is_eco": null(BOOL),
        "adult": null(BOOL),
        "is_perishable": null(BOOL),
        "description": null(STR),
        "photo_keys": null(array(STR)),
        "attributes": null(array(STR)),
        "tags": null(array(STR)),
        "badges": null(array({})),
        "warranty": null(STR),
        "first_seen": TIME,
        "last_seen": TIME,
        "checked_at": null(TIME),
        "updated_at": TIME,
        "category": null(STR),
        "seller": null(STR),
        "seller_link": null(STR),
        "characteristics": array(obj({"title": STR, "values": STR})),
        "skus": array(SKU),
        "url": {"type": "string", "format": "uri"},
    }
)
HISTORY = obj(
    {
        "product_id": INT,
        "since": TIME,
        "prices": array(
            obj(
                {
                    "sku_id": INT,
                    "observed_at": TIME,
                    "purchase_price": null(INT),
                    "full_price": null(INT),
                    "available_amount": null(INT),
                }
            )
        ),
        "stats": array(
            obj(
                {
                    "observed_at": TIME,
                    "orders_amount": null(INT),
                    "reviews_amount": null(INT),
                    "rating": null(NUM),
                    "total_available": null(INT),
                }
            )
        ),
        "truncated": BOOL,
    }
)
SELLER_ITEM = obj(
    {
        "id": INT,
        "title": null(STR),
        "official": null(BOOL),
        "rating": null(NUM),
        "reviews": null(INT),
        "orders": null(INT),
        "products": null(INT),
        "in_stock": null(INT),
        "revenue_est": null(INT),
        **SALES_FIELDS,
    }
)
SELLER = obj(
    {
        "id": INT,
        "title": null(STR),
        "link": null(STR),
        "description": null(STR),
        "registration_date": null(TIME),
        "rating": null(NUM),
        "reviews": null(INT),
        "orders": null(INT),
        "official": null(BOOL),
        "account_id": null(INT),
        "first_seen": TIME,
        "last_seen": TIME,
        "products": null(INT),
        "in_stock": null(INT),
        "product_orders": null(INT),
        "revenue_est": null(INT),
        "categories": null(INT),
        "top_categories": array(
            obj(
                {
                    "category_id": null(INT),
                    "category": null(STR),
                    "products": INT,
                    "orders": null(INT),
                    "revenue_est": null(INT),
                }
            )
        ),
    }
)
PRICE_DROP_ITEM = obj(
    {
        "product_id": INT,
        "title": null(STR),
        "characteristics": null(STR),
        "old_price": INT,
        "new_price": INT,
        "drop_pct": NUM,
        "observed_at": TIME,
        "sku_id": INT,
    }
)
TOP_SELLER_ITEM = obj(
    {
        "seller_id": INT,
        "seller": null(STR),
        "products": INT,
        "orders": null(INT),
        "revenue_est": INT,
    }
)
COMPARE_ITEM = obj(
    {
        "seller_id": INT,
        "seller": null(STR),
        "products": INT,
        "min_price": INT,
        "median_price": INT,
        "max_price": INT,
        "orders": null(INT),
    }
)
CATEGORY_OVERVIEW = obj(
    {
        "category": null(INT),
        "items": array(
            obj(
                {
                    "id": null(INT),
                    "title": STR,
                    "products": INT,
                    "in_stock": INT,
                    "orders": INT,
                    "revenue_est": INT,
                    "avg_price": null(INT),
                    "price_bands": {
                        "type": "object",
                        "description": "products per price band, keyed by the band's label",
                        "additionalProperties": INT,
                    },
                }
            )
        ),
    }
)
LOT_ITEM = obj(
    {
        "lot_type": STR,
        "lot_id": INT,
        "display_no": null(STR),
        "status": null(STR),
        "date": null(TIME),
        "category_name": null(STR),
        "customer_name": null(STR),
        "customer_inn": null(STR),
        "provider_name": null(STR),
        "provider_inn": null(STR),
        "customer_region": null(STR),
        "start_cost": null(DEC),
        "deal_cost": null(DEC),
        "participants": null(INT),
    }
)
LOTS_PAGE = page(LOT_ITEM)
LOT = obj(
    {
        "lot_type": STR,
        "lot_id": INT,
        "display_no": null(STR),
        "deal_id": null(INT),
        "status": null(STR),
        "start_date": null(TIME),
        "end_date": null(TIME),
        "deal_date": null(TIME),
        "start_cost": null(DEC),
        "deal_cost": null(DEC),
        "currency": null(STR),
        "participants": null(INT),
        "category_name": null(STR),
        "customer_inn": null(STR),
        "customer_name": null(STR),
        "customer_region": null(STR),
        "provider_inn": null(STR),
        "provider_name": null(STR),
        "provider_region": null(STR),
        "is_budget": null(BOOL),
        "type_name": null(STR),
        "kazna_status": null(STR),
        "kazna_payment_status": null(STR),
        "deal_status_name": null(STR),
        "first_seen": TIME,
        "last_seen": TIME,
        "completed_seen": null(TIME),
        "items": array(
            obj(
                {
                    "line_no": INT,
                    "name": null(STR),
                    "description": null(STR),
                    "quantity": null(DEC),
                    "unit": null(STR),
                    "unit_price": null(DEC),
                    "cost": null(DEC),
                    "country": null(STR),
                    "currency": null(STR),
                }
            )
        ),
    }
)
DEAD_LETTER_ITEM = obj(
    {
        "scope": STR,
        "entity_id": INT,
        "kind": STR,
        "reason": null(STR),
        "attempts": INT,
        "first_failed_at": TIME,
        "last_failed_at": TIME,
        "retry_requested_at": null(TIME),
    }
)
#: latency histogram: [upper bound in seconds or "+Inf", cumulative count]
_BUCKETS = array(
    {"type": "array", "prefixItems": [{"type": ["number", "string"]}, INT], "items": False}
)
STATUS = obj(
    {
        "time": EPOCH,
        "started_at": EPOCH,
        # a scanner's figures differ per platform (UZEX adds its block): name and state always
        "scanners": array(
            obj(
                {"name": STR, "blocked_reason": null(STR), "state": STR},
                closed=False,
            )
        ),
        "writer": null(
            obj(
                {
                    "depth": INT,
                    "capacity": INT,
                    "batches": INT,
                    "items": INT,
                    "rows": INT,
                    "retries": INT,
                    "poison": INT,
                    "last_commit_at": null(EPOCH),
                    "last_batch_ms": NUM,
                    "latency_buckets": _BUCKETS,
                    "latency_sum_s": NUM,
                    "db_down_since": null(EPOCH),
                }
            )
        ),
        "hosts": {
            "type": "object",
            "description": "per upstream host: requests, outcomes, latency, rate, breaker",
            "additionalProperties": obj(
                {"host": STR, "outcomes": {"type": "object"}, "latency_buckets": _BUCKETS},
                closed=False,
            ),
        },
        "services": array(
            obj(
                {
                    "name": STR,
                    "running": BOOL,
                    "restarts": INT,
                    "last_error": null(STR),
                    "started_at": EPOCH,
                    "recent_crashes": INT,
                    "crash_loop": BOOL,
                    "suspended_until": null(EPOCH),
                }
            )
        ),
        "jobs": array(
            obj({"name": STR, "schedule": STR, "next_run_at": null(EPOCH), "running": BOOL})
        ),
        "health": array(obj({"name": STR, "ok": BOOL, "detail": STR, "checked_at": EPOCH})),
        "redis_down_since": null(EPOCH),
    }
)
HEALTH = obj(
    {
        "status": {"type": "string", "enum": ["ok", "fail"]},
        "reasons": array(STR),
        "warnings": array(STR),
    }
)
ERROR = obj({"error": STR})

TREND_ITEM = obj(
    {
        "id": INT,
        "title": null(STR),
        "units": INT,
        "revenue": INT,
        "prev_units": null(INT),
        "growth_pct": null(NUM),
    }
)
DAY: Schema = {"type": "string", "format": "date"}
#: an estimate (queries/stockouts.py): days out of stock × the sales rate before
LOST_ITEM = obj(
    {
        "id": INT,
        "title": null(STR),
        "out_of_stock_days": NUM,
        "units_per_day": NUM,
        "revenue_per_day": INT,
        "lost_units": INT,
        "lost_revenue": INT,
        "still_out": BOOL,
    }
)
TRENDS = obj(
    {
        "first": DAY,
        "last": DAY,
        "previous_first": DAY,
        "previous_last": DAY,
        "previous_known": BOOL,
        "min_base_units": INT,
        "unobserved_days": array(DAY),
        "growing_products": array(TREND_ITEM),
        "growing_sellers": array(TREND_ITEM),
        "growing_categories": array(TREND_ITEM),
        "new_products": array(TREND_ITEM),
        "losing_products": array(TREND_ITEM),
        "lost_base_days": INT,
        "lost_to_stockouts": array(LOST_ITEM),
    }
)
