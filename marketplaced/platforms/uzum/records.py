"""Typed records the Uzum parser produces and the bulk writer stores.

These dataclasses are the boundary between parsing and storage: the parser fills them from a
product payload, the writer turns them into rows. They are frozen and slotted so a batch of
tens of thousands stays cheap in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CategoryRecord:
    id: int
    title: str
    parent_id: int | None
    product_amount: int | None


@dataclass(frozen=True, slots=True)
class SellerRecord:
    id: int
    title: str
    link: str | None
    description: str | None
    registration_date: datetime | None  # from epoch milliseconds, UTC
    rating: float | None
    reviews: int | None
    orders: int | None
    official: bool
    account_id: int | None


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: int
    title: str
    title_uz: str | None
    title_ru: str | None
    category_id: int | None
    seller_id: int | None
    rating: float | None
    reviews_amount: int
    orders_amount: int
    r_orders_amount: int | None
    total_available: int
    is_eco: bool
    adult: bool
    is_perishable: bool
    description: str | None
    photo_keys: tuple[str, ...]
    attributes: tuple[str, ...]
    tags: tuple[str, ...]
    #: JSON text of [{"title": ..., "values": [{"title": ..., "value": ...}]}]
    characteristics_json: str
    badges: tuple[str, ...]
    warranty: str | None


@dataclass(frozen=True, slots=True)
class SkuRecord:
    id: int
    product_id: int
    full_price: int | None  # crossed-out list price, so'm
    purchase_price: int  # actual selling price, so'm
    available_amount: int
    barcode: int | None
    stock_type: str | None  # FBO / FBS / DBS
    delivery_days: int | None
    #: decoded characteristics, e.g. "Rang: Koʻk, Iphone modeli: 15 pro" ("" when none)
    characteristics: str
    discount_badge: str | None


@dataclass(frozen=True, slots=True)
class ProductSnapshot:
    """Everything one product payload says, ready for the writer."""

    product: ProductRecord
    #: the category chain from the top-level category down to the leaf
    categories: tuple[CategoryRecord, ...]
    seller: SellerRecord | None
    skus: tuple[SkuRecord, ...]
    #: field paths whose value was converted, not taken as sent (a price as a decimal string):
    #: the scanner counts them so a changed upstream shape shows instead of passing silently
    coerced: tuple[str, ...] = ()
    #: fingerprint of the body this came from (visits.py), stored with the rows; None when
    #: unknown (a re-parse of the raw archive), so the next visit parses again
    fingerprint: int | None = None


@dataclass(frozen=True, slots=True)
class Missing:
    """No product at this id; `form` records how the upstream said so (e.g. 'http_404',
    'empty_body', 'payload_null', 'data_null', 'no_title', 'errors_key')."""

    product_id: int
    form: str
