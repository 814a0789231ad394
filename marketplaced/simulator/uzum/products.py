"""The static Uzum product: everything about a product that does not change with time.

``ProductFactory.build`` draws one product from ``(seed, id)``: its leaf category and seller,
titles, description, photos, video, the colour × variant characteristics and the SKU matrix
with base prices, stock capacities and restock rhythms, a top review, badges and warranty. The
JSON-valued parts are kept as encoded JSON text, ready to drop into the templates; the numbers
that move with ticks are derived from these by ``dynamics``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final, NamedTuple

from marketplaced.simulator.clock import DAY_MS, UZUM_EPOCH_MS
from marketplaced.simulator.rng import GOLDEN, between, mix64, pick, stable_hash, unit
from marketplaced.simulator.uzum import salts
from marketplaced.simulator.uzum.categories import Category, leaf_ids
from marketplaced.simulator.uzum.formats import ean13, media_key, nice_price
from marketplaced.simulator.uzum.sellers import Seller, Sellers
from marketplaced.simulator.uzum.templates import JsonDict, enc, fast_delivery_info, js
from marketplaced.simulator.uzum.vocabulary import (
    BADGES,
    COLOURS,
    CUSTOMERS,
    DESCRIPTION_LINES,
    FEATURES,
    FEEDBACK,
    MODEL_TAILS,
    NOUN_VARIANTS,
    STOCK_TYPES,
    TOPS,
    VARIANT_PRICE_STEPS,
    VIDEO_BASE,
    TopCategory,
)

#: one SKU's (charIndex, valueIndex) pairs
Combo = tuple[tuple[int, int], ...]

#: Uzum's hard cap on SKUs per product card as seen in scrapes
MAX_SKUS: Final = 100
#: sku id = product id * 100 + k keeps SKU ids unique without any lookup (k < MAX_SKUS)
_SKU_ID_FACTOR: Final = 100
#: characteristic ids: room for the header id plus up to 19 value ids per product
_CHAR_ID_BASE: Final = 3_000_000
_CHAR_ID_FACTOR: Final = 20


class Sku(NamedTuple):
    id: int
    refs_json: str  # [{"charIndex", "valueIndex"}]: kept only as JSON to save memory
    purchase: int  # base selling price, so'm
    full: int  # base crossed-out price, so'm
    stock_type: str
    delivery_days: int
    fast_delivery_json: str
    capacity: int  # stock right after a restock
    sales_per_tick: float
    restock_period: int
    restock_phase: int
    barcode: int
    video_json: str


@dataclass(frozen=True, slots=True)
class StaticProduct:
    """The tick-independent part of a product; JSON-valued fields hold encoded JSON text."""

    id: int
    title_uz: str
    title_ru: str
    leaf: Category
    seller: Seller
    description_json: str
    attributes_json: str
    tags_json: str
    photo_keys: tuple[str, ...]
    video_json: str
    #: (title, value titles) per characteristic, to decode SKU labels
    chars: tuple[tuple[str, tuple[str, ...]], ...]
    chars_json: str
    skus: tuple[Sku, ...]
    ends_in_990: bool
    base_orders: int
    orders_per_tick: float
    orders_phase: float
    base_reviews: int
    reviews_per_order: float
    base_rating: float
    feedback_json: str
    badges_json: str
    warranty_json: str
    fast_delivery_json: str
    perishable: bool


def _sku_count(rng: random.Random) -> int:
    """Most cards have 1–6 SKUs, a few are large colour × size matrices up to MAX_SKUS."""
    u = rng.random()
    if u < 0.55:
        return 1
    if u < 0.85:
        return between(rng, 2, 6)
    if u < 0.97:
        return between(rng, 7, 30)
    return between(rng, 31, MAX_SKUS)


def _refs_json(combo: Combo) -> str:
    pairs = ",".join(f'{{"charIndex":{ci},"valueIndex":{vi}}}' for ci, vi in combo)
    return f"[{pairs}]"


class ProductFactory:
    """Builds the static part of any product id of one seeded catalogue."""

    def __init__(self, seed: int, categories: dict[int, Category], sellers: Sellers) -> None:
        self._k_static = stable_hash(seed, salts.STATIC)
        self._k_leaf = stable_hash(seed, salts.LEAF)
        self._categories = categories
        self._leaves = leaf_ids(categories)
        self._tops = {top.id: top for top in TOPS}
        self._sellers = sellers
        self._fast_delivery_json = {
            (kind, days): js(fast_delivery_info(kind, days))
            for kind in ("FBO", "FBS", "DBS")
            for days in range(1, 11)
        }

    def build(self, pid: int) -> StaticProduct:
        """The static part of product ``pid`` (the caller knows the id holds a product)."""
        rng = random.Random(mix64(self._k_static + pid * GOLDEN))
        leaf_index = mix64(self._k_leaf + pid * GOLDEN) % len(self._leaves)
        leaf = self._categories[self._leaves[leaf_index]]
        top = self._tops[leaf.path[0]]
        noun_uz, noun_ru = leaf.noun or ("Mahsulot", "Товар")
        brand = pick(rng, top.brands)
        model = f"{pick(rng, 'ABCDEFGHKMPRSTVXZ')}{between(rng, 1, 99)}{pick(rng, MODEL_TAILS)}"
        feat_uz, feat_ru = pick(rng, FEATURES)
        chars, combos = self._characteristics(pid, rng, top, noun_uz, _sku_count(rng))
        video = None
        if rng.random() < 0.15:  # about one card in seven has a video
            video = (
                f"{VIDEO_BASE}{media_key(rng.getrandbits(64), rng.getrandbits(64))}/original.mp4"
            )
        base_price = math.exp(rng.uniform(math.log(top.price[0]), math.log(top.price[1])))
        skus = self._skus(pid, rng, chars, combos, base_price, video is not None)
        base_orders = 0 if rng.random() < 0.1 else int(math.exp(rng.random() ** 2 * 9.5)) - 1
        reviews_per_order = rng.uniform(0.02, 0.12)
        base_reviews = int(base_orders * reviews_per_order)
        photo_count = pick(rng, (1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8))
        photos = tuple(
            media_key(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(photo_count)
        )
        feedback = None
        if base_reviews and rng.random() < 0.8:  # some reviewed cards show no top review
            feedback = self._feedback(pid, rng, chars, combos)
        attributes = [f"Brend: {brand}", f"Model: {model}"] if rng.random() < 0.5 else []
        badges = [dict(pick(rng, BADGES))] if rng.random() < 0.05 else []
        warranty = {"amount": pick(rng, (3, 6, 12, 24))} if rng.random() < top.warranty else None
        slowest = max(skus, key=lambda s: s.delivery_days)
        return StaticProduct(
            id=pid,
            title_uz=f"{noun_uz} {brand} {model}{feat_uz}",
            title_ru=f"{noun_ru} {brand} {model}{feat_ru}",
            leaf=leaf,
            seller=self._sellers.get(self._sellers.index_of(pid)),
            description_json=enc(self._description(rng, noun_uz, brand, model)),
            attributes_json=js(attributes),
            tags_json=js([noun_uz.lower(), brand.lower()] if rng.random() < 0.3 else []),
            photo_keys=photos,
            video_json=js(video),
            chars=tuple((c["title"], tuple(v["title"] for v in c["values"])) for c in chars),
            chars_json=js(chars),
            skus=skus,
            ends_in_990=rng.random() < 0.5,
            base_orders=base_orders,
            # busier products sell faster; every product sells something within a day or two
            orders_per_tick=rng.uniform(0.02, 0.6) * (1 + base_orders / 300),
            orders_phase=rng.random(),
            base_reviews=base_reviews,
            reviews_per_order=reviews_per_order,
            base_rating=round(5.0 - rng.random() ** 2 * 1.2, 1),
            feedback_json=js(feedback),
            badges_json=js(badges),
            warranty_json=js(warranty),
            fast_delivery_json=slowest.fast_delivery_json,
            perishable=top.perishable,
        )

    def _characteristics(
        self, pid: int, rng: random.Random, top: TopCategory, noun: str, n: int
    ) -> tuple[list[JsonDict], list[Combo]]:
        """Colour × variant characteristics and each SKU's (charIndex, valueIndex) pairs."""
        title, all_values = pick(rng, NOUN_VARIANTS.get(noun, top.variants))
        palette = COLOURS
        if n == 1 and rng.random() < 0.5:
            return [], [()]
        use_variant = n > len(palette) or rng.random() < 0.6
        use_colour = n > len(all_values) or not use_variant or rng.random() < 0.6
        n = min(n, (len(palette) if use_colour else 1) * (len(all_values) if use_variant else 1))
        dims: list[tuple[int, int]] = []  # (charIndex, number of values)
        chars: list[JsonDict] = []
        if use_colour:
            low = math.ceil(n / len(all_values)) if use_variant else n
            c = between(rng, low, min(n, len(palette)))
            values = [{"id": i, "title": t, "value": hexv} for i, t, hexv in rng.sample(palette, c)]
            chars.append({"id": -1, "title": "Rang", "titleType": "COLOR", "values": values})
            dims.append((len(chars) - 1, c))
        if use_variant:
            v = math.ceil(n / dims[0][1]) if dims else n
            start = between(rng, 0, len(all_values) - v)  # a contiguous run, e.g. sizes M..XL
            char_id = _CHAR_ID_BASE + pid * _CHAR_ID_FACTOR
            values = [
                {"id": char_id + 1 + k, "title": val, "value": val}
                for k, val in enumerate(all_values[start : start + v])
            ]
            chars.append({"id": char_id, "title": title, "titleType": None, "values": values})
            dims.append((len(chars) - 1, v))
        # sample cells of the colour × variant grid by index instead of listing the grid
        if len(dims) == 1:
            return chars, [((0, k),) for k in rng.sample(range(dims[0][1]), n)]
        width = dims[1][1]
        cells = rng.sample(range(dims[0][1] * width), n)
        return chars, [((0, cell // width), (1, cell % width)) for cell in cells]

    def _skus(
        self,
        pid: int,
        rng: random.Random,
        chars: list[JsonDict],
        combos: list[Combo],
        base_price: float,
        with_video: bool,
    ) -> tuple[Sku, ...]:
        ends_990 = rng.random() < 0.5
        # some cards price every variant alike, others vary by the non-colour value
        variants = len(chars[-1]["values"]) if chars and chars[-1]["titleType"] is None else 0
        flat = variants < 2 or rng.random() < 0.5
        value_mult = [1.0] if flat else [pick(rng, VARIANT_PRICE_STEPS) for _ in range(variants)]
        markup = 1.0 if rng.random() < 0.35 else rng.uniform(1.1, 2.6)
        primary = pick(rng, STOCK_TYPES)
        days = {"FBO": 1, "FBS": between(rng, 2, 6), "DBS": between(rng, 3, 10)}
        delivery = {kind: self._fast_delivery_json[kind, d] for kind, d in days.items()}
        skus = []
        for k, combo in enumerate(combos):
            sku_id = pid * _SKU_ID_FACTOR + k
            last = combo[-1] if combo else None
            variant = last[1] if last and chars[last[0]]["titleType"] is None else 0
            purchase = nice_price(base_price * value_mult[0 if flat else variant], ends_990)
            # one 64-bit draw sliced into fields: a Random call per field costs ~10x more
            h = rng.getrandbits(64)
            stock_type = primary if h & 0xFF < 205 else ("FBO", "FBS")[h >> 8 & 1]  # 80 % primary
            period = 24 + (h >> 9) % 217  # restocks every one to ten simulated days
            empty = (h >> 25) & 0xFF < 38  # ≈ 15 % of SKUs are out of stock for good
            capacity = 0 if empty else min(500, int(-25 * math.log(1 - unit(mix64(h)))) + 1)
            video_json = "null"
            if with_video:
                video_json = enc(f"{VIDEO_BASE}{media_key(h, mix64(h))}/original.mp4")
            skus.append(
                Sku(
                    id=sku_id,
                    refs_json=_refs_json(combo),
                    purchase=purchase,
                    full=purchase if markup == 1.0 else nice_price(purchase * markup, False),
                    stock_type=stock_type,
                    delivery_days=days[stock_type],
                    fast_delivery_json=delivery[stock_type],
                    capacity=capacity,
                    # sells 30–130 % of a restock per period: some SKUs run dry before it
                    sales_per_tick=capacity * (0.3 + ((h >> 33) & 0xFFFF) / 65536) / period,
                    restock_period=period,
                    restock_phase=(h >> 49) % period,
                    barcode=ean13(100_000_000_000 + sku_id),
                    video_json=video_json,
                )
            )
        rng.shuffle(skus)  # the upstream lists SKUs in no particular order
        return tuple(skus)

    @staticmethod
    def _description(rng: random.Random, noun: str, brand: str, model: str) -> str:
        lines = rng.sample(DESCRIPTION_LINES, k=between(rng, 2, 5))
        paragraphs = "".join(f"<p>{line.format(noun=noun.lower())}</p>" for line in lines)
        return f"{paragraphs}<ul><li>Brend: {brand}</li><li>Model: {model}</li></ul>"

    @staticmethod
    def _feedback(
        pid: int, rng: random.Random, chars: list[JsonDict], combos: list[Combo]
    ) -> JsonDict:
        picked = [
            {
                "characteristic": chars[ci]["title"],
                "characteristicValue": chars[ci]["values"][vi]["title"],
            }
            for ci, vi in pick(rng, combos)
        ]
        pros, cons, content = pick(rng, FEEDBACK)
        return {
            "reviewId": 20_000_000 + pid * 3,
            "productId": pid,
            "date": UZUM_EPOCH_MS - rng.randrange(1, 300) * DAY_MS,
            "edited": False,
            "customer": pick(rng, CUSTOMERS),
            "rating": pick(rng, (5, 5, 5, 4, 4, 3)),
            "characteristics": picked,
            "pros": pros,
            "cons": cons,
            "content": content,
            "photos": [],
            "status": "PUBLISHED",
            "hasVerticalPhoto": None,
            "like": False,
            "dislike": False,
            "amountLike": between(rng, 0, 5),
            "amountDislike": 0,
            "id": 140_000_000 + pid * 7,
            "isAnonymous": rng.random() < 0.1,
        }
