"""JSON Schemas of the seller sales answers (`/api/v1/sellers/{id}/sales`,
`/api/v1/seller-comparison`), closed like every schema of api_schema.py: a field the answer
gains without being described here fails the test that validates real answers."""

from __future__ import annotations

from marketplaced.web.api_schema import BOOL, DAY, INT, NUM, STR, Schema, array, null, obj

#: the period, the previous one growth compares with, and the days nothing was observed on
WINDOW: dict[str, Schema] = {
    "first": DAY,
    "last": DAY,
    "previous_first": DAY,
    "previous_last": DAY,
    "previous_known": BOOL,
    "min_base_units": INT,
    "unobserved_days": array(DAY),
}
#: units and revenue of one day; null: the day was never observed (unknown, not zero)
SALES_DAY = obj({"day": DAY, "units": null(INT), "revenue": null(INT)})
SELLER_TOTALS = obj(
    {
        "id": INT,
        "title": null(STR),
        "units": null(INT),
        "revenue": null(INT),
        "prev_units": null(INT),
        "prev_revenue": null(INT),
        "units_growth_pct": null(NUM),
        "revenue_growth_pct": null(NUM),
        "days": array(SALES_DAY),
    }
)
CATEGORY_SHARE = obj(
    {
        "category_id": null(INT),
        "title": STR,
        "units": INT,
        "revenue": INT,
        "share_pct": null(NUM),
    }
)
SELLER_SALES = obj({**WINDOW, "seller": SELLER_TOTALS, "categories": array(CATEGORY_SHARE)})
SELLER_COMPARISON = obj({**WINDOW, "sellers": array(SELLER_TOTALS)})
