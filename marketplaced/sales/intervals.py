"""From a product's change-based history to units and revenue per day: the counting rules.

A product's observations are the instants it has history rows (its stats row and its SKUs'
price rows of one visit share the batch's stamp). Between two consecutive observations the
values of the earlier one were in effect — history is change-based, and an instant with any
row of the product proves the counter still held its old value if it has no stats row. So each
order-counter growth (or, when the counter went back, each stock decrease) happened inside the
interval ending at the observation that shows it, and is priced at the price in effect in
that interval: the prices the units sold at (stock decreases at the prices before them), else
the card price (cheapest SKU) at the interval's start. A first-seen product has no interval
before its first row: nothing is counted for it until the next change.

Where in the interval did the delta happen? Not earlier than the previous observation, and —
while the scanner runs — not earlier than one revisit (`revisit`, the longest a product goes
unvisited) before the observation that shows it; scan gaps inside the interval widen that
window by their length. A window that crosses midnight is split over its days in proportion
to time, as whole units that add up exactly (largest parts first), and counted as `split`.
A window is never longer than `max_span`: beyond it the delta is spread over `max_span`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class Observation:
    """One instant of a product's history: the counter if it has a stats row, and the SKUs
    whose price or stock row it has (sku -> (purchase price, stock))."""

    at: datetime
    orders: int | None
    skus: dict[int, tuple[int, int]]


@dataclass(slots=True)
class Carried:
    """The values in effect before the first observation loaded (None: never observed)."""

    at: datetime | None = None
    orders: int | None = None
    skus: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass(slots=True)
class ProductDay:
    units: int = 0
    revenue: int = 0
    units_orders: int = 0
    units_stock: int = 0
    units_split: int = 0
    revenue_split: int = 0
    restocked: int = 0
    observations: int = 0
    first_seen: bool = False


@dataclass(slots=True)
class SkuDay:
    units: int = 0
    revenue: int = 0
    units_split: int = 0
    restocked: int = 0


@dataclass(frozen=True, slots=True)
class Rules:
    tz: tzinfo
    revisit: timedelta
    max_span: timedelta
    #: unobserved stretches (start, end), sorted, from scan coverage
    gaps: tuple[tuple[datetime, datetime], ...] = ()


@dataclass
class Result:
    products: dict[tuple[date, int], ProductDay] = field(default_factory=dict)
    skus: dict[tuple[date, int], tuple[int, SkuDay]] = field(default_factory=dict)


def window_start(prev: datetime, at: datetime, rules: Rules) -> datetime:
    """Earliest instant the delta seen at `at` can have happened (see the module docstring)."""
    gap = timedelta()
    for a, b in rules.gaps:
        lo, hi = max(a, prev), min(b, at)
        if hi > lo:
            gap += hi - lo
    return max(prev, at - rules.revisit - gap, at - rules.max_span)


def day_shares(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[date, float]]:
    """(day, share of [start, end) on it) for every local day the window touches."""
    if end <= start:
        return [(end.astimezone(tz).date(), 1.0)]
    first = start.astimezone(tz).date()
    if first == end.astimezone(tz).date():  # the common case: inside one day (the loop's share)
        return [(first, 1.0)]
    total = (end - start).total_seconds()
    out = []
    day = start.astimezone(tz).date()
    while True:
        lo = max(start, datetime.combine(day, datetime.min.time(), tz))
        nxt = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
        hi = min(end, nxt)
        if hi > lo:
            out.append((day, (hi - lo).total_seconds() / total))
        if nxt >= end:
            return out
        day += timedelta(days=1)


def apportion(amount: int, shares: Sequence[float]) -> list[int]:
    """Whole parts of `amount` in proportion to `shares`, adding up exactly to it (the
    remainders go to the largest fractions, ties to the later day)."""
    if len(shares) == 1:  # the common case: a window inside one day
        return [amount]
    raw = [amount * s for s in shares]
    parts = [int(r // 1) for r in raw]
    rest = amount - sum(parts)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], i), reverse=True)
    for i in order[:rest]:
        parts[i] += 1
    return parts


def count(
    product_id: int, carried: Carried, observations: Iterable[Observation], rules: Rules
) -> Result:
    """Units and revenue per (day, product) and (day, sku) of one product's observations."""
    res = Result()
    products, tz = res.products, rules.tz
    prev_at, orders, skus = carried.at, carried.orders, dict(carried.skus)
    for obs in observations:
        at = obs.at
        day = at.astimezone(tz).date()
        pday = products.get((day, product_id))
        if pday is None:
            pday = products[(day, product_id)] = ProductDay()
        pday.observations += 1
        if prev_at is None:
            pday.first_seen = True
        sku_units: dict[int, tuple[int, int, int]] = {}  # sku -> (units, revenue, restocked)
        sold_units = sold_revenue = 0
        for sku, (_price, stock) in obs.skus.items():
            before = skus.get(sku)
            if before is not None:
                old_price, old_stock = before
                sold = max(old_stock - stock, 0)
                sku_units[sku] = (sold, sold * old_price, max(stock - old_stock, 0))
                sold_units += sold
                sold_revenue += sold * old_price
        units = revenue = 0
        method = ""
        if obs.orders is not None and orders is not None:
            delta = obs.orders - orders
            if delta >= 0:
                units, method = delta, "orders"
                if sold_units:
                    price = round(sold_revenue / sold_units)
                else:
                    price = min((p for p, _ in skus.values()), default=0)
                revenue = delta * price
            else:  # the counter went back (a reset): the stock decreases stand in
                units, revenue, method = sold_units, sold_revenue, "stock"
        if prev_at is not None and (units or sku_units):
            start = window_start(prev_at, at, rules)
            if start >= at or start.astimezone(tz).date() == day:
                # the common case, a window inside the observation's day: day_shares would
                # give that day alone, and booking its whole delta there is all _book does
                _add(pday, units, revenue, method)
                for sku, (u, r, restock) in sku_units.items():
                    _book_sku_day(res, product_id, sku, day, pday, u, r, restock)
            else:
                shares = day_shares(start, at, tz)
                _book(res, product_id, shares, units, revenue, method)
                for sku, (u, r, restock) in sku_units.items():
                    _book_sku(res, product_id, sku, shares, u, r, restock)
        prev_at = at
        if obs.orders is not None:
            orders = obs.orders
        skus.update(obs.skus)
    return res


def final_state(carried: Carried, observations: Iterable[Observation]) -> Carried:
    """The values in effect after `observations`: what the next batch's rows are counted
    against (the incremental fold keeps it per product, sales/increment.py)."""
    out = Carried(carried.at, carried.orders, dict(carried.skus))
    for obs in observations:
        out.at = obs.at
        if obs.orders is not None:
            out.orders = obs.orders
        out.skus.update(obs.skus)
    return out


def _book(
    res: Result,
    product_id: int,
    shares: list[tuple[date, float]],
    units: int,
    revenue: int,
    method: str,
) -> None:
    if len(shares) == 1:  # inside one day: the whole delta, not split (apportion's own result)
        row = res.products.setdefault((shares[0][0], product_id), ProductDay())
        _add(row, units, revenue, method)
        return
    fractions = [s for _, s in shares]
    split = True
    for (day, _), u, r in zip(
        shares, apportion(units, fractions), apportion(revenue, fractions), strict=True
    ):
        row = res.products.setdefault((day, product_id), ProductDay())
        _add(row, u, r, method)
        if split:
            row.units_split += u
            row.revenue_split += r


def _add(row: ProductDay, units: int, revenue: int, method: str) -> None:
    row.units += units
    row.revenue += revenue
    if method == "orders":
        row.units_orders += units
    elif method == "stock":
        row.units_stock += units


def _book_sku(
    res: Result,
    product_id: int,
    sku: int,
    shares: list[tuple[date, float]],
    units: int,
    revenue: int,
    restocked: int,
) -> None:
    if len(shares) == 1:  # inside one day, as in _book
        day = shares[0][0]
        pday = res.products.setdefault((day, product_id), ProductDay())
        _book_sku_day(res, product_id, sku, day, pday, units, revenue, restocked)
        return
    fractions = [s for _, s in shares]
    split = True
    parts = zip(
        shares,
        apportion(units, fractions),
        apportion(revenue, fractions),
        apportion(restocked, fractions),
        strict=True,
    )
    for (day, _), u, r, k in parts:
        _, row = res.skus.setdefault((day, sku), (product_id, SkuDay()))
        row.units += u
        row.revenue += r
        row.restocked += k
        if split:
            row.units_split += u
        prow = res.products.setdefault((day, product_id), ProductDay())
        prow.restocked += k


def _book_sku_day(
    res: Result,
    product_id: int,
    sku: int,
    day: date,
    pday: ProductDay,
    units: int,
    revenue: int,
    restocked: int,
) -> None:
    """A SKU's whole delta on one day; `pday`: the product's row of that day."""
    held = res.skus.get((day, sku))
    if held is None:
        held = res.skus[(day, sku)] = (product_id, SkuDay())
    row = held[1]
    row.units += units
    row.revenue += revenue
    row.restocked += restocked
    pday.restocked += restocked


def group_rows(
    rows: Iterable[tuple[int, datetime, int | None, int | None, int | None]],
) -> dict[int, list[Observation]]:
    """History rows (product, at, sku or None, price or orders, stock) → observations per
    product in time order: a row with sku None is a stats row (orders in the 4th place)."""
    merged: dict[int, dict[datetime, Observation]] = defaultdict(dict)
    for pid, at, sku, value, stock in rows:
        obs = merged[pid].get(at) or Observation(at, None, {})
        if sku is None:
            obs = Observation(at, value, obs.skus)
        else:
            assert value is not None and stock is not None
            obs.skus[sku] = (value, stock)
        merged[pid][at] = obs
    return {pid: [by_at[t] for t in sorted(by_at)] for pid, by_at in merged.items()}
