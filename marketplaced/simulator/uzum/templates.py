"""Uzum's JSON bodies as pre-built text templates with ``%(name)s`` slots.

The hot path formats pre-built JSON text instead of building and encoding dicts, which is what
lets one core serve thousands of products a second. Each template is made once from a sample
dict whose ``@@name@@`` markers become slots, so the key order and the constant fields follow the
recorded fixtures (``fixtures/uzum/*.json``) exactly; callers fill slots with JSON literals
(``js``, ``enc``, ``json_bool``) or digits.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

JsonDict = dict[str, Any]

#: C-accelerated JSON string literal that keeps non-ASCII text as is (ensure_ascii=False)
enc: Final = json.encoder.encode_basestring


def js(value: Any) -> str:
    """Compact JSON text, non-ASCII kept: the encoding every Uzum body uses."""
    if value is None:  # most optional fields: skip the encoder
        return "null"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _slot(name: str) -> str:
    return f"@@{name}@@"


def _template(sample: Any) -> str:
    """JSON text of ``sample`` with each ``@@name@@`` marker turned into a ``%(name)s`` slot.

    A marker that is a whole JSON value (``"@@x@@"``) takes pre-encoded JSON; one inside a
    string takes raw text (used only for digits).
    """
    text = js(sample).replace("%", "%%")
    text = re.sub(r'"@@(\w+)@@"', r"%(\1)s", text)
    return re.sub(r"@@(\w+)@@", r"%(\1)s", text)


PHOTO_TEMPLATE: Final = _template(
    {
        "photo": {
            size: {
                "high": f"https://images.uzum.uz/@@key@@/{high}.jpg",
                "low": f"https://images.uzum.uz/@@key@@/{low}.jpg",
            }
            for size, high, low in (
                ("800", "original", "t_product_low"),
                ("720", "original", "t_product_low"),
                ("480", "t_product_540_high", "t_product_540_low"),
                ("240", "t_product_240_high", "t_product_240_low"),
                ("80", "t_product_80_high", "t_product_80_low"),
                ("24034", "t_product_240_high", "t_product_240_low"),
                ("120", "t_product_240_high", "t_product_240_low"),
                ("540", "t_product_540_high", "t_product_540_low"),
                ("60", "t_product_80_high", "t_product_80_low"),
            )
        },
        "photoKey": _slot("quoted_key"),
        "color": None,
        "hasVerticalPhoto": False,
    }
)

SKU_TEMPLATE: Final = _template(
    {
        "id": _slot("id"),
        "characteristics": _slot("refs"),
        "availableAmount": _slot("available"),
        "fullPrice": _slot("full"),
        "charityProfit": 0,
        "purchasePrice": _slot("purchase"),
        "barcode": _slot("barcode"),
        "address": None,
        "offer": None,
        "discountBadge": None,
        "installment": None,
        "productOptionDtos": [
            {
                "optionId": 1,
                "text": "Рассрочка Uzum Nasiya",
                "type": "UZUM_INSTALLMENT",
                "paymentInfo": "Oyiga @@per_month_text@@ so‘mdan muddatli tolov",
                "paymentPerMonth": _slot("per_month"),
                "period": 12,
                "active": True,
            }
        ],
        "vat": {"type": "VAT0", "vatAmount": 0, "price": _slot("purchase"), "vatRate": 0},
        "circularPhotosList": [],
        "videoUrl": _slot("video"),
        "restriction": None,
        "stock": {
            "type": _slot("stock_type"),
            "deliveryDays": _slot("days"),
            "deliveryTitle": _slot("delivery_title"),
            "deliveryDate": _slot("delivery_date"),
        },
        "discount": None,
        "fastDeliveryInfo": _slot("fast_delivery"),
        "oversized": False,
    }
)

SELLER_TEMPLATE: Final = _template(
    {
        "id": _slot("id"),
        "title": _slot("title"),
        "link": _slot("link"),
        "banner": None,
        "avatar": None,
        "description": _slot("description"),
        "hasCharityProducts": False,
        "registrationDate": _slot("registration"),
        "rating": _slot("rating"),
        "reviews": _slot("reviews"),
        "orders": _slot("orders"),
        "official": _slot("official"),
        "contacts": [],
        "categories": [],
        "currentCategory": None,
        "filters": [],
        "appliedFilters": [],
        "priceFilter": None,
        "totalProducts": _slot("total"),
        "parents": [],
        "products": [],
        "sellerAccountId": _slot("account"),
        "info": None,
    }
)

PRODUCT_TEMPLATE: Final = _template(
    {
        "payload": {
            "data": {
                "id": _slot("id"),
                "title": _slot("title"),
                "localizableTitle": {"uz": _slot("title"), "ru": _slot("title_ru")},
                "category": _slot("category"),
                "rating": _slot("rating"),
                "reviewsAmount": _slot("reviews"),
                "ordersAmount": _slot("orders"),
                "rOrdersAmount": _slot("r_orders"),
                "totalAvailableAmount": _slot("total"),
                "charityCommission": 0,
                "description": _slot("description"),
                "comments": [],
                "attributes": _slot("attributes"),
                "tags": _slot("tags"),
                "synonyms": [],
                "photos": _slot("photos"),
                "video": _slot("video"),
                "hasCircularPhotos": False,
                "circularPhotosList": [],
                "characteristics": _slot("characteristics"),
                "productOptionDtos": [],
                "skuList": _slot("skus"),
                "seller": _slot("seller"),
                "topFeedback": _slot("feedback"),
                "isEco": False,
                "isPerishable": _slot("perishable"),
                "hasVerticalPhoto": True,
                "showKitty": False,
                "bonusProduct": False,
                "badges": _slot("badges"),
                "volumeDiscount": None,
                "disclaimer": None,
                "fastDeliveryInfo": _slot("fast_delivery"),
                "returnsInfo": {"link": "https://uzum.uz/uz/faq#onlayn-tolovni-qaytarish"},
                "originality": {"isOriginal": _slot("original")},
                "warranty": _slot("warranty"),
                "colorPhotoPreview": _slot("color_preview"),
                "adultCategory": _slot("adult"),
                "favourite": False,
            },
            "seo": {
                "uzTitle": _slot("title"),
                "ruTitle": _slot("title_ru"),
                "characteristics": _slot("characteristics"),
                "sellerTitle": _slot("seller_title"),
                "rating": _slot("rating"),
                "reviewsAmount": _slot("reviews"),
                "skuList": _slot("skus"),
                "photos": _slot("photos"),
            },
        },
        "timestamp": _slot("timestamp"),
    }
)


def json_bool(value: bool) -> str:
    return "true" if value else "false"


def fast_delivery_info(stock_type: str, days: int) -> JsonDict:
    """The fastDeliveryInfo block: Uzum's warehouse (FBO) or the seller's (FBS/DBS)."""
    if stock_type == "FBO":
        return {
            "title": "Yetkazib berish\xa01\xa0kundan boshlab",
            "badge": {"text": "Uzum Market ombori", "color": "#7000FF"},
        }
    text = "Sotuvchi ombori" if stock_type == "FBS" else "Sotuvchi yetkazib beradi"
    return {
        "title": f"Yetkazib berish\xa0{days}\xa0kun ichida",
        "badge": {"text": text, "color": "#5CA3FF"},
    }
