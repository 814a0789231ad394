"""The simulator's seeded, deterministic Uzum catalogue: the one object tests and routes use.

Everything here is a pure function of ``(seed, id, tick)``: whether an id holds a product, what
the product is, and how its orders, stock, prices and rating look after ``tick`` steps of
simulated time. Any id can therefore be computed alone in O(1), in any order, in any process, and
an integration test can compute exactly what a scanner should have stored (``expected``). The
static part of a product (``products``) is built once per id and kept in a bounded LRU; per
request only the tick-dependent fields (``dynamics``) are recomputed and poured into the JSON
``templates``. ``UzumCatalogue`` ties the category tree, the sellers, the product factory and
the dynamics together and renders the bodies the routes serve. With a ``Realism`` it serves the
realistic dynamics instead (``realism``: skewed activity, growth, delistings, dead ranges, one
tick per simulated minute) and exposes their ground truth as ``truth``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Final

from marketplaced.simulator.rng import GOLDEN, mix64, stable_hash, unit
from marketplaced.simulator.uzum import salts
from marketplaced.simulator.uzum.activity import Activity
from marketplaced.simulator.uzum.categories import build_tree, chain, leaf_ids, node
from marketplaced.simulator.uzum.dynamics import Dynamics, delivery
from marketplaced.simulator.uzum.formats import round_orders, thousands
from marketplaced.simulator.uzum.lifecycle import Lifecycle
from marketplaced.simulator.uzum.oracle import ExpectedProduct, expected_product
from marketplaced.simulator.uzum.products import ProductFactory, StaticProduct
from marketplaced.simulator.uzum.realism import Realism
from marketplaced.simulator.uzum.realistic import RealisticDynamics
from marketplaced.simulator.uzum.sellers import Seller, Sellers
from marketplaced.simulator.uzum.templates import (
    PHOTO_TEMPLATE,
    PRODUCT_TEMPLATE,
    SKU_TEMPLATE,
    JsonDict,
    enc,
    js,
    json_bool,
)
from marketplaced.simulator.uzum.truth import GroundTruth
from marketplaced.simulator.uzum.vocabulary import TOPS

#: Uzum Nasiya shows 12 monthly payments of price * 17 / 240 (fits all three fixture prices)
_INSTALMENT_NUM: Final = 17
_INSTALMENT_DEN: Final = 240


class UzumCatalogue:
    """A deterministic fake of Uzum's catalogue for ids 1..n_ids (see the module docstring).

    ``hit_rate`` is the share of ids that hold a product; ``static_cache`` bounds the LRU of
    static product parts (≈ 6 KB each, so the default costs ≈ 120 MB when full);
    ``bytes_cache`` bounds the LRU of encoded bodies per (id, tick), which retries hit.
    ``realism`` switches to the realistic dynamics (None: every product moves alike, one tick
    per simulated hour, as the tests and the demo expect); ``hit_rate`` then still applies to
    the whole initial id space, dead ranges included.
    """

    def __init__(
        self,
        seed: int,
        n_ids: int,
        hit_rate: float = 0.7,
        *,
        static_cache: int = 20_000,
        bytes_cache: int = 256,
        realism: Realism | None = None,
    ) -> None:
        if n_ids < 1:
            raise ValueError(f"n_ids must be at least 1, got {n_ids}")
        if not 0.0 < hit_rate <= 1.0:
            raise ValueError(f"hit_rate must be in (0, 1], got {hit_rate}")
        self.seed = seed
        self.n_ids = n_ids
        self.hit_rate = hit_rate
        self._k_exists = stable_hash(seed, salts.EXISTS)
        # with dead ranges the scattered misses thin out, so hit_rate stays the share of the
        # initial ids that hold a product (≈ 30 % misses, as live)
        self._live_hit_rate = hit_rate
        if realism is not None:
            if hit_rate > 1 - realism.dead_share:
                raise ValueError(
                    f"hit_rate {hit_rate} leaves no room for dead ranges of share "
                    f"{realism.dead_share}: it must be at most {1 - realism.dead_share:g}"
                )
            self._live_hit_rate = hit_rate / (1 - realism.dead_share)
        self.realism = realism
        self.truth: GroundTruth | None = None
        self._lifecycle: Lifecycle | None = None
        self._ticks_per_hour = 1
        if realism is not None:
            self._lifecycle = Lifecycle(seed, n_ids, realism, self._hashed_hit)
            activity = Activity(seed, realism, self._lifecycle)
            self.truth = GroundTruth(self._lifecycle, activity, realism.ticks_per_hour)
            self._ticks_per_hour = max(1, round(realism.ticks_per_hour))
        self.categories = build_tree(seed, n_ids * hit_rate)
        self._chain_json = {
            leaf: js(chain(self.categories, leaf)) for leaf in leaf_ids(self.categories)
        }
        self.sellers = Sellers(seed, n_ids, self.exists)
        self.n_sellers = self.sellers.count
        self.seller: Callable[[int], Seller] = self.sellers.get
        self._factory = ProductFactory(seed, self.categories, self.sellers)
        self._dynamics = (
            Dynamics(seed)
            if realism is None
            else RealisticDynamics(seed, activity, realism.tick_ms)
        )
        self._highest: int | None = None
        self._static: Callable[[int], StaticProduct | None] = functools.lru_cache(static_cache)(
            self._build_product
        )
        self._bytes: Callable[[int, int], bytes | None] = functools.lru_cache(bytes_cache)(
            self._encode
        )

    # ---- existence ---------------------------------------------------------------------------

    def _hashed_hit(self, product_id: int) -> bool:
        return unit(mix64(self._k_exists + product_id * GOLDEN)) < self._live_hit_rate

    def exists(self, product_id: int) -> bool:
        """Whether ``product_id`` holds a product in the initial catalogue (decided per id,
        O(1)); with realistic dynamics see ``listed`` for a given tick."""
        if self._lifecycle is not None:
            return self._lifecycle.initial(product_id)
        return 1 <= product_id <= self.n_ids and self._hashed_hit(product_id)

    def listed(self, product_id: int, tick: int) -> bool:
        """Whether ``product_id`` answers with a product at ``tick``."""
        if self.truth is not None:
            return self.truth.exists(product_id, tick)
        return self.exists(product_id)

    @property
    def highest_id(self) -> int:
        """The largest existing id ≤ n_ids (0 if none)."""
        if self._highest is None:
            pid = self.n_ids
            while pid > 0 and not self.exists(pid):
                pid -= 1
            self._highest = pid
        return self._highest

    def _build_product(self, pid: int) -> StaticProduct | None:
        if self._lifecycle is not None:
            ever = self._lifecycle.created(pid) is not None
        else:
            ever = self.exists(pid)
        return self._factory.build(pid) if ever else None

    def _seller_tick(self, tick: int) -> int:
        # seller counters move per simulated hour in both time bases
        return tick // self._ticks_per_hour

    # ---- categories and sellers --------------------------------------------------------------

    def category_node(self, category_id: int) -> JsonDict:
        """A category in the root-categories shape, with its whole subtree."""
        return node(self.categories, category_id)

    def root_categories_payload(self) -> JsonDict:
        """``GET /api/main/root-categories?eco=false``."""
        return {"payload": [self.category_node(top.id) for top in TOPS]}

    def category_payload(self, category_id: int) -> JsonDict | None:
        """``GET /api/category/v2/{id}`` (shape used by public clients: payload.category)."""
        if category_id not in self.categories:
            return None
        return {"payload": {"category": self.category_node(category_id)}}

    def seller_by_link(self, link: str) -> Seller | None:
        return self.sellers.by_link(link)

    def seller_product_count(self, index: int) -> int:
        """Exact number of products of a seller (one pass over all ids on first use)."""
        return self.sellers.product_count(index)

    def shop_bytes(self, link: str, tick: int) -> bytes | None:
        """``GET /api/shop/{link}`` body: the seller object with its real totalProducts."""
        return self.sellers.shop_bytes(link, self._seller_tick(tick))

    def shop_payload(self, link: str, tick: int) -> JsonDict | None:
        """``GET /api/shop/{link}`` decoded, or None for an unknown link."""
        body = self.shop_bytes(link, tick)
        return None if body is None else dict(json.loads(body))

    # ---- products ----------------------------------------------------------------------------

    def timestamp(self, product_id: int, tick: int) -> str:
        """The envelope's ``timestamp``: Tashkent local time with nanoseconds, no zone."""
        return self._dynamics.timestamp(product_id, tick)

    def _render(self, p: StaticProduct, tick: int) -> str:
        st = self._dynamics.state(p, tick)
        now_ms = self._dynamics.now_ms(p.id, tick)
        dates = {d: delivery(now_ms, d) for d in {s.delivery_days for s in p.skus}}
        sku_parts = []
        for s, (purchase, full), stock in zip(p.skus, st.prices, st.stock, strict=True):
            per_month = purchase * _INSTALMENT_NUM // _INSTALMENT_DEN
            when = dates[s.delivery_days]
            sku_parts.append(
                SKU_TEMPLATE
                % {
                    "id": s.id,
                    "refs": s.refs_json,
                    "available": stock,
                    "full": full,
                    "purchase": purchase,
                    "barcode": s.barcode,
                    "per_month_text": thousands(per_month),
                    "per_month": per_month,
                    "video": s.video_json,
                    "stock_type": f'"{s.stock_type}"',
                    "days": s.delivery_days,
                    "delivery_title": when[1],  # already a JSON string literal
                    "delivery_date": when[0],
                    "fast_delivery": s.fast_delivery_json,
                }
            )
        photos = ",".join(
            PHOTO_TEMPLATE % {"key": key, "quoted_key": f'"{key}"'} for key in p.photo_keys
        )
        chars = p.chars_json
        return PRODUCT_TEMPLATE % {
            "id": p.id,
            "title": enc(p.title_uz),
            "title_ru": enc(p.title_ru),
            "category": self._chain_json[p.leaf.id],
            "rating": st.rating,
            "reviews": st.reviews,
            "orders": st.orders,
            "r_orders": round_orders(st.orders),
            "total": sum(st.stock),
            "description": p.description_json,
            "attributes": p.attributes_json,
            "tags": p.tags_json,
            "photos": f"[{photos}]",
            "video": p.video_json,
            "characteristics": chars,
            "skus": f"[{','.join(sku_parts)}]",
            "seller": p.seller.json(self._seller_tick(tick)),
            "feedback": p.feedback_json,
            "perishable": json_bool(p.perishable),
            "badges": p.badges_json,
            "fast_delivery": p.fast_delivery_json,
            "original": json_bool(p.seller.official),
            "warranty": p.warranty_json,
            "color_preview": json_bool(chars.startswith('[{"id":-1,')),
            "adult": json_bool(p.leaf.adult),
            "seller_title": enc(p.seller.title),
            "timestamp": enc(self.timestamp(p.id, tick)),
        }

    def _encode(self, product_id: int, tick: int) -> bytes | None:
        if self.truth is not None and not self.truth.exists(product_id, tick):
            return None
        p = self._static(product_id)
        return None if p is None else self._render(p, tick).encode()

    def product_bytes(self, product_id: int, tick: int) -> bytes | None:
        """The ``/api/v2/product/{id}`` body at ``tick`` (None if no product), compact UTF-8
        JSON; cached per (id, tick) in a small LRU so retries are cheap."""
        return self._bytes(product_id, tick)

    def product_payload(self, product_id: int, tick: int) -> JsonDict | None:
        """The decoded envelope ``{"payload": {"data", "seo"}, "timestamp"}``: a fresh dict."""
        body = self.product_bytes(product_id, tick)
        return None if body is None else dict(json.loads(body))

    def expected(self, product_id: int, tick: int) -> ExpectedProduct | None:
        """A plain summary of what a scanner should store for this product at ``tick``."""
        if self.truth is not None and not self.truth.exists(product_id, tick):
            return None
        p = self._static(product_id)
        if p is None:
            return None
        return expected_product(p, self._dynamics.state(p, tick), self.categories)

    def sku_count(self, product_id: int) -> int:
        """Number of SKUs of a product (0 if none): lets tests pick large or single-SKU cards."""
        p = self._static(product_id)
        return 0 if p is None else len(p.skus)
