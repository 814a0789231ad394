"""JSON Schemas of the category tree (`/api/v1/categories`) and of a category's market
(`/api/v1/categories/{id}/market`), for the OpenAPI document: kept apart from api_schema.py,
which holds the lists' and the status' schemas."""

from __future__ import annotations

from marketplaced.web.api_schema import DAY, INT, NUM, STR, Schema, array, null, obj

CATEGORY_TREE: Schema = obj(
    {
        "items": array(
            obj({"id": INT, "title": STR, "parent_id": null(INT), "depth": INT}),
        )
    }
)
SELLER_SHARE = obj(
    {
        "seller_id": {**null(INT), "description": "null on the 'others' row"},
        "title": null(STR),
        "units": INT,
        "revenue": INT,
        "products": INT,
        "sellers": {**INT, "description": "sellers the row stands for (1, or those in others)"},
        "units_share_pct": null(NUM),
        "revenue_share_pct": null(NUM),
    }
)
BAND_SHARE = obj(
    {
        "label": STR,
        "lo": {**null(INT), "description": "so'm, included; null: no lower bound"},
        "hi": {**null(INT), "description": "so'm, excluded; null: no upper bound"},
        "units": INT,
        "revenue": INT,
        "products": INT,
        "units_share_pct": null(NUM),
        "revenue_share_pct": null(NUM),
    }
)
PRODUCT_SALES = obj(
    {
        "id": INT,
        "title": null(STR),
        "seller_id": null(INT),
        "seller": null(STR),
        "units": INT,
        "revenue": INT,
        "revenue_share_pct": null(NUM),
    }
)
DAY_SALES = obj(
    {
        "day": DAY,
        "units": {**null(INT), "description": "null: the day was never observed"},
        "revenue": null(INT),
        "split_units": INT,
    }
)
CATEGORY_MARKET: Schema = obj(
    {
        "category_id": INT,
        "title": STR,
        "first": DAY,
        "last": DAY,
        "unobserved_days": array(DAY),
        "units": INT,
        "revenue": INT,
        "products_with_sales": INT,
        "sellers_with_sales": INT,
        "hhi": {
            **null(NUM),
            "description": "Herfindahl–Hirschman index of the sellers' revenue shares, 0–10 000",
        },
        "concentration": {
            "type": "string",
            "enum": [
                "no sales",
                "unconcentrated",
                "moderately concentrated",
                "highly concentrated",
            ],
        },
        "sellers": array(SELLER_SHARE),
        "price_bands": array(BAND_SHARE),
        "unpriced_units": INT,
        "products": array(PRODUCT_SALES),
        "days": array(DAY_SALES),
    }
)
