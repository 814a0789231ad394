"""Alert rules as one line of text each, for the config file.

A rule is `KIND SCOPE[:ID] [key=value …]`, several separated by `;`, e.g.

    price_drop product:1772350 pct=10; price_drop sku:7574456 price=70000;
    new_low category:10020 days=30; out_of_stock seller:74885; new_product seller:74885;
    fake_discount all pct=20 days=14

Kinds: price_drop (pct= drop of at least N %, and/or price= at or below N so'm), new_low (lowest
price in days= N), out_of_stock, back_in_stock, new_product (seller/category/all), fake_discount
(list price raised by pct= N % within days= N before a "discount"). Scopes: all, sku:ID,
product:ID, seller:ID, category:ID (a category includes its subcategories). Options valid for
every rule: cap= (alerts per day) and rearm_h= (hours before it fires again for an item).
Rules written straight into the `alert_rules` table use the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

_N = TypeVar("_N", int, float)

KINDS = ("price_drop", "new_low", "out_of_stock", "back_in_stock", "new_product", "fake_discount")
SCOPES = ("all", "sku", "product", "seller", "category")
#: which options a kind understands besides cap and rearm_h
_OPTIONS = {
    "price_drop": {"pct", "price"},
    "new_low": {"days"},
    "out_of_stock": set(),
    "back_in_stock": set(),
    "new_product": set(),
    "fake_discount": {"pct", "days"},
}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    kind: str
    scope: str
    target_id: int | None
    pct: float | None = None
    price: int | None = None
    days: int | None = None
    cap: int | None = None
    rearm_h: float | None = None

    @property
    def name(self) -> str:
        """A stable name: config rules are matched to their table rows by it."""
        target = self.scope if self.target_id is None else f"{self.scope}:{self.target_id}"
        opts = [
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in (
                ("pct", self.pct),
                ("price", self.price),
                ("days", self.days),
                ("cap", self.cap),
                ("rearm_h", self.rearm_h),
            )
            if v is not None
        ]
        return "config:" + " ".join([self.kind, target, *opts])


def parse_rules(text: str) -> list[RuleSpec]:
    """Every rule of a `;`-separated list; ValueError naming the first bad one."""
    rules = []
    for part in text.split(";"):
        if part.strip():
            try:
                rules.append(parse_rule(part))
            except ValueError as exc:
                raise ValueError(f"rule {part.strip()!r}: {exc}") from None
    return rules


def parse_rule(text: str) -> RuleSpec:
    words = text.split()
    if len(words) < 2:
        raise ValueError("expected KIND SCOPE[:ID] [key=value …]")
    kind, target, *options = words
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    scope, _, ident = target.partition(":")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; known: {', '.join(SCOPES)}")
    if (scope == "all") != (ident == ""):
        raise ValueError("'all' takes no id; every other scope needs one (e.g. product:123)")
    if ident and not (ident.isascii() and ident.isdigit()):
        raise ValueError(f"id {ident!r} is not a number")
    if kind == "new_product" and scope in ("sku", "product"):
        raise ValueError("new_product watches a seller, a category or all")
    values: dict[str, str] = {}
    for opt in options:
        key, eq, value = opt.partition("=")
        if not eq or key not in _OPTIONS[kind] | {"cap", "rearm_h"}:
            allowed = ", ".join(sorted(_OPTIONS[kind] | {"cap", "rearm_h"}))
            raise ValueError(f"unknown option {opt!r} for {kind}; allowed: {allowed}")
        values[key] = value
    spec = RuleSpec(
        kind,
        scope,
        int(ident) if ident else None,
        pct=_number(values, "pct", float, 0.01, 100.0 if kind == "price_drop" else 10_000.0),
        price=_number(values, "price", int, 1, 10**12),
        days=_number(values, "days", int, 1, 3650),
        cap=_number(values, "cap", int, 1, 100_000),
        rearm_h=_number(values, "rearm_h", float, 0, 8760),
    )
    if kind == "price_drop" and spec.pct is None and spec.price is None:
        raise ValueError("price_drop needs pct=N (drop of N %) or price=N (at or below N so'm)")
    return spec


def _number(values: dict[str, str], key: str, tp: type[_N], lo: float, hi: float) -> _N | None:
    text = values.get(key)
    if text is None:
        return None
    try:
        value = tp(text)
    except ValueError:
        raise ValueError(f"{key}={text!r} is not a number") from None
    if not lo <= value <= hi:
        raise ValueError(f"{key}={text} is out of range {lo:g} … {hi:g}")
    return value
