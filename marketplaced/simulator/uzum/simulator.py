"""The simulated Uzum upstream: a catalogue, a simulated clock, faults and request counters.

``UzumSimulator`` holds a ``UzumCatalogue``, the simulated clock (ticks, advanced by hand or
every ``tick_seconds`` of a clock function) and a ``FaultInjector``, counts requests, and says
what each upstream path answers at the current tick: a product, or one of the forms a missing id
takes, a category, a shop, the root categories. The HTTP side lives in ``routes``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from marketplaced.simulator.faults import FaultInjector, FaultProfile, MissingForm
from marketplaced.simulator.uzum.catalogue import UzumCatalogue

#: the raw control characters strict JSON parsers reject inside strings
CONTROL_CHARS: Final = b"\x01\x0b\x1f"
_DESCRIPTION_FIELD: Final = b'"description":"'


class UzumSimulator:
    """The simulated Uzum upstream: catalogue + clock + faults + counters."""

    def __init__(
        self,
        catalogue: UzumCatalogue,
        faults: FaultProfile | None = None,
        *,
        tick: int = 0,
        tick_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if tick < 0 or tick_seconds < 0:
            raise ValueError("tick and tick_seconds must not be negative")
        self.catalogue = catalogue
        self.injector = FaultInjector(faults)
        self._base_tick = tick
        self._tick_seconds = tick_seconds
        self._clock = clock
        self._started = clock()
        #: requests by route kind ("product", "root_categories", "category", "shop", …)
        self.requests: Counter[str] = Counter()
        #: "no product" answers served, by form
        self.missing: Counter[str] = Counter()
        self._roots: bytes | None = None

    # ---- time and faults ---------------------------------------------------------------------

    @property
    def tick(self) -> int:
        """Simulated time: ticks advanced by hand plus, with ``tick_seconds`` > 0, one per
        ``tick_seconds`` of the clock since construction."""
        if self._tick_seconds > 0:
            elapsed = self._clock() - self._started
            return self._base_tick + int(elapsed / self._tick_seconds)
        return self._base_tick

    def advance(self, ticks: int = 1) -> int:
        """Move simulated time forward (never back: orders only grow). Returns the new tick."""
        if ticks < 0:
            raise ValueError(f"cannot advance by a negative number of ticks ({ticks})")
        self._base_tick += ticks
        return self.tick

    @property
    def faults(self) -> FaultProfile:
        return self.injector.profile

    @faults.setter
    def faults(self, profile: FaultProfile) -> None:
        self.injector.profile = profile

    def stats(self) -> dict[str, Any]:
        c = self.catalogue
        tick = self.tick
        catalogue: dict[str, Any] = {
            "seed": c.seed,
            "n_ids": c.n_ids,
            "hit_rate": c.hit_rate,
            "highest_id": c.highest_id,
        }
        if c.realism is not None and c.truth is not None:
            catalogue |= {
                "dynamics": "realistic",
                "tick_ms": c.realism.tick_ms,
                "frontier": c.truth.frontier(tick),
            }
        return {
            "tick": tick,
            "requests": dict(self.requests),
            "missing": dict(self.missing),
            "faults": self.injector.stats(),
            "catalogue": catalogue,
        }

    # ---- bodies ------------------------------------------------------------------------------

    def product_answer(self, product_id: int, tick: int) -> tuple[int, bytes]:
        """(status, body) a healthy upstream sends for this id; a missing id answers in the
        form the fault profile's missing mix picks for it."""
        body = self.catalogue.product_bytes(product_id, tick)
        if body is not None:
            return 200, body
        form = self.injector.missing_form(product_id)
        self.missing[form] += 1
        return self._missing_answer(form, product_id, tick)

    def _missing_answer(self, form: MissingForm, product_id: int, tick: int) -> tuple[int, bytes]:
        stamp = self.catalogue.timestamp(product_id, tick)
        if form == "404":
            path = f"/api/v2/product/{product_id}"
            body = f'{{"timestamp":"{stamp}","status":404,"error":"Not Found","path":"{path}"}}'
            return 404, body.encode()
        if form == "empty":
            return 200, b""
        if form == "payload_null":
            return 200, b'{"payload":null}'
        if form == "data_null":
            return 200, b'{"payload":{"data":null}}'
        if form == "no_title":
            data = f'{{"id":{product_id},"skuList":[],"photos":[],"characteristics":[]}}'
            return 200, f'{{"payload":{{"data":{data},"seo":null}},"timestamp":"{stamp}"}}'.encode()
        return 200, b'{"errors":[{"message":"Product not found"}],"payload":null}'

    def corrupted_product(self, product_id: int, tick: int) -> bytes | None:
        """The product body with raw control characters inside ``description`` (None if the
        id has no product)."""
        body = self.catalogue.product_bytes(product_id, tick)
        if body is None:
            return None
        return body.replace(_DESCRIPTION_FIELD, _DESCRIPTION_FIELD + CONTROL_CHARS, 1)

    def category_answer(self, category_id: int) -> tuple[int, bytes]:
        payload = self.catalogue.category_payload(category_id)
        if payload is None:
            return 404, b'{"errors":[{"message":"Category not found"}],"payload":null}'
        return 200, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    def shop_answer(self, link: str) -> tuple[int, bytes]:
        body = self.catalogue.shop_bytes(link, self.tick)
        if body is None:
            return 404, b'{"errors":[{"message":"Shop not found"}],"payload":null}'
        return 200, body

    def root_categories_body(self) -> bytes:
        if self._roots is None:
            payload = self.catalogue.root_categories_payload()
            self._roots = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return self._roots
