"""The Uzum test oracle: what a scanner should have stored for a product at a tick.

Because the catalogue is a pure function of ``(seed, id, tick)``, a test can compute the exact
rows a correct scan ends with: the product, its category chain, its seller and every SKU with
prices, stock and the decoded characteristics label the parser derives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from marketplaced.simulator.uzum.categories import Category
from marketplaced.simulator.uzum.dynamics import State
from marketplaced.simulator.uzum.formats import round_orders
from marketplaced.simulator.uzum.products import StaticProduct


@dataclass(frozen=True, slots=True)
class ExpectedCategory:
    id: int
    title: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class ExpectedSku:
    id: int
    purchase_price: int
    full_price: int
    available_amount: int
    #: "Rang: Koʻk, Iphone modeli: 15 pro" in charIndex order ("" when none)
    characteristics: str
    barcode: int
    stock_type: str


@dataclass(frozen=True, slots=True)
class ExpectedProduct:
    """What a scanner should store for one product at one tick."""

    id: int
    title: str
    title_uz: str
    title_ru: str
    category_id: int
    #: the chain from the top-level category down to the leaf
    categories: tuple[ExpectedCategory, ...]
    seller_id: int
    seller_link: str
    orders: int
    r_orders: int
    reviews: int
    rating: float
    total_available: int
    skus: tuple[ExpectedSku, ...]


def sku_label(chars: tuple[tuple[str, tuple[str, ...]], ...], refs_json: str) -> str:
    """Decode a SKU's characteristics: "Rang: Koʻk, Iphone modeli: 15 pro"."""
    refs = json.loads(refs_json)
    return ", ".join(
        f"{chars[r['charIndex']][0]}: {chars[r['charIndex']][1][r['valueIndex']]}" for r in refs
    )


def expected_product(
    p: StaticProduct, st: State, categories: dict[int, Category]
) -> ExpectedProduct:
    """The product ``p`` in state ``st`` as a scanner should store it."""
    chain = tuple(
        ExpectedCategory(c.id, c.title, c.parent_id)
        for c in (categories[cid] for cid in p.leaf.path)
    )
    skus = tuple(
        ExpectedSku(
            s.id,
            purchase,
            full,
            stock,
            sku_label(p.chars, s.refs_json),
            s.barcode,
            s.stock_type,
        )
        for s, (purchase, full), stock in zip(p.skus, st.prices, st.stock, strict=True)
    )
    return ExpectedProduct(
        id=p.id,
        title=p.title_uz,
        title_uz=p.title_uz,
        title_ru=p.title_ru,
        category_id=p.leaf.id,
        categories=chain,
        seller_id=p.seller.id,
        seller_link=p.seller.link,
        orders=st.orders,
        r_orders=round_orders(st.orders),
        reviews=st.reviews,
        rating=st.rating,
        total_available=sum(st.stock),
        skus=skus,
    )
