"""The period a list's sales figures cover, and the SQL that puts them on its rows.

`PERIOD_PARAMS` is the period selector every sales list declares (`period` or `from`/`to`);
`window` reads it into a `SalesWindow`: the period, the previous period of the same length, and
how well both were observed (queries/sales.py `coverage`). The SQL pieces sum the
`sales_*_daily` rollups over the window per row of a list: `lateral` decorates a list in any
order (its rows stay in the order the list chose), `ranked` orders a list by units, revenue or
growth. The window's values are written into the SQL as literals built here from dates and
integers only (never from request text), because the list queries number their `$n`
parameters before the window is known and end on the LIMIT parameter.

Growth is the units growth against the previous period and needs a base: with fewer than
`MIN_BASE_UNITS` units before, a change is noise (1 → 3 units would be "+200 %" on top), so
growth is null there, as it is when a day of the previous period was never observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from marketplaced.web import param_spec as ps
from marketplaced.web.listing import Column, Reader
from marketplaced.web.params import ParamError, Params
from marketplaced.web.queries import sales
from marketplaced.web.queries.sales import Period

PERIODS = ("today", "yesterday", "7d", "30d")
DEFAULT_PERIOD = "7d"
#: the longest `from`/`to` range: a year of daily rows per product is what the indexes serve
MAX_RANGE_DAYS = 366
#: units in the previous period below which growth is not computed (noise, not a trend)
MIN_BASE_UNITS = 5
SALES_SORTS = ("units", "revenue", "growth")
HOW = "/how-we-count"

PERIOD_PARAMS = (
    ps.choice(
        "period",
        "sales period: today so far, yesterday, the last 7 or 30 finished days "
        "(from/to override it)",
        PERIODS,
        default=DEFAULT_PERIOD,
    ),
    ps.day("from", "sales period's first day (with to)"),
    ps.day("to", "sales period's last day, included (with from)"),
)

#: each figure links to the page explaining the method, its hover text says how it was counted
SALES_COLUMNS = (
    Column("units", "Units", "int", link=HOW, hint="counted"),
    Column("revenue", "Revenue, so'm", "money", link=HOW, hint="counted"),
    Column("growth_pct", "Growth", "pct", link=HOW, hint="counted"),
    Column("counted", "How counted"),
)


def period_of(p: Params, now: datetime, tz: tzinfo) -> Period:
    """The period the query string asks for; `from`/`to` go together."""
    first, last = p.day("from"), p.day("to")
    if (first is None) != (last is None):
        raise ParamError("parameters 'from' and 'to' go together: give both or neither")
    if first is not None and last is not None:
        if last < first:
            raise ParamError(f"parameter 'to' ({last}) is before 'from' ({first})")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise ParamError(f"a period has at most {MAX_RANGE_DAYS} days")
        return sales.date_range(first, last)
    name = p.choice("period") or DEFAULT_PERIOD
    if name == "today":
        return sales.today(now, tz)
    if name == "yesterday":
        return sales.yesterday(now, tz)
    return sales.last_days(int(name.removesuffix("d")), now, tz)


@dataclass(frozen=True, slots=True)
class SalesWindow:
    period: Period
    previous: Period
    #: every day of the previous period was observed (else growth is unknown)
    previous_known: bool
    #: no day of the period was observed: figures are unknown, not zero
    unobserved: tuple[date, ...]
    observed_days: int
    longest_gap_min: int
    #: the period's sums are built (sales_periods, sql/020_sales_periods.sql): lists ranked by
    #: them walk its indexes instead of summing the day rows
    precomputed: bool = False

    @property
    def note(self) -> str:
        """The part of each figure's hover text that is the period's."""
        gap = self.longest_gap_min
        text = f"longest gap {round(gap / 60)} h" if gap >= 60 else f"longest gap {gap} min"
        if self.unobserved:
            n = len(self.unobserved)
            text += f"; {n} day{'s' if n > 1 else ''} never observed"
        return text


def window_json(w: SalesWindow) -> dict[str, Any]:
    """The period and its comparison as every sales API answer states them."""
    return {
        "first": w.period.first.isoformat(),
        "last": w.period.last.isoformat(),
        "previous_first": w.previous.first.isoformat(),
        "previous_last": w.previous.last.isoformat(),
        "previous_known": w.previous_known,
        "min_base_units": MIN_BASE_UNITS,
        "unobserved_days": [d.isoformat() for d in w.unobserved],
    }


# the days of the period and of the one before it, and whether the period is built, in one
# round trip: every sales page asks this first, and on a loaded server each statement waits
# its turn (the outer join keeps the one row saying "built" when no day has a row)
_WINDOW = """
SELECT d.day, d.observed_pct, d.max_gap_min, d.final,
       EXISTS (SELECT 1 FROM sales_period_builds WHERE days = $3 AND last_day = $4) AS built
FROM (SELECT 1) one LEFT JOIN sales_days d ON d.day >= $1 AND d.day <= $2"""


async def window(db: Reader, period: Period) -> SalesWindow:
    prev = period.previous()
    rows = await db.fetch(_WINDOW, prev.first, period.last, period.days, period.last)
    cov = sales.coverage_of(rows, period)
    prev_cov = sales.coverage_of(rows, prev)
    return SalesWindow(
        precomputed=bool(rows[0]["built"]),
        period=period,
        previous=prev,
        previous_known=not prev_cov.unobserved,
        unobserved=cov.unobserved,
        observed_days=cov.observed_days,
        longest_gap_min=cov.longest_gap_min,
    )


def _day(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _text(s: str) -> str:
    # only texts built in this module from numbers reach here
    if "'" in s or "\\" in s:
        raise ValueError(f"not a literal this module builds: {s!r}")
    return f"'{s}'"


# What a figure's units came from (sales.Figure.method, in words), then its confidence.
_METHOD = """CASE
    WHEN {f}.units IS NULL THEN NULL
    WHEN {f}.units_split > 0 AND {f}.units_split = {f}.units THEN 'split over a scan gap'
    WHEN {f}.units_split = 0 AND {f}.units_orders > 0 AND {f}.units_stock = 0
        THEN 'order-counter delta'
    WHEN {f}.units_split = 0 AND {f}.units_stock > 0 AND {f}.units_orders = 0
        THEN 'stock delta'
    WHEN {f}.units_orders > 0 OR {f}.units_stock > 0 THEN 'order-counter and stock deltas'
    ELSE 'no sale observed' END"""


def _sums(table: str, key: str, outer: str, first: date, last: date, where: str = "") -> str:
    also = f" AND {where}" if where else ""
    return (
        "SELECT sum(d.units)::bigint AS units, sum(d.revenue)::bigint AS revenue, "  # noqa: S608 - table/key are constants, dates are literals built here
        "sum(d.units_orders)::bigint AS units_orders, sum(d.units_stock)::bigint AS units_stock, "
        "sum(d.units_split)::bigint AS units_split, sum(d.observations)::bigint AS observations "
        f"FROM {table} d WHERE d.{key} = {outer} "
        f"AND d.day >= {_day(first)} AND d.day <= {_day(last)}{also}"
    )


def figure_columns(w: SalesWindow, cur: str = "sc", prev: str = "sp") -> str:
    """The select list of a row's figures from the `cur` and `prev` sums."""
    zero = "0" if w.observed_days else "NULL"
    growth = "NULL::float8"
    if w.previous_known:
        growth = (
            f"CASE WHEN coalesce({prev}.units, 0) >= {MIN_BASE_UNITS} THEN "
            f"round((100.0 * (coalesce({cur}.units, 0) - {prev}.units) / {prev}.units)::numeric,"
            f" 2)::float8 END"
        )
    counted = (
        f"coalesce({_METHOD.format(f=cur)} || '; ' || {cur}.observations || ' observations; ', "
        f"{_text('no sale observed; ')}) || {_text(w.note)}"
    )
    if not w.observed_days:
        counted = _text("never observed: figures unknown")
    return (
        f"coalesce({cur}.units, {zero}) AS units, coalesce({cur}.revenue, {zero}) AS revenue, "
        f"{growth} AS growth_pct, {counted} AS counted"
    )


def lateral(w: SalesWindow, table: str, key: str, outer: str, where: str = "") -> str:
    """LEFT JOINs that add the window's sums (`sc`, `sp`) to each row of `outer`'s id; `where`:
    a further condition on the table's rows (constant SQL with `$n` marks, e.g. a category)."""
    p, q = w.period, w.previous
    return (
        f" LEFT JOIN LATERAL ({_sums(table, key, outer, p.first, p.last, where)}) sc ON true"
        f" LEFT JOIN LATERAL ({_sums(table, key, outer, q.first, q.last, where)}) sp ON true"
    )


def joined(w: SalesWindow, table: str, key: str, outer: str, level: str) -> str:
    """`lateral`'s `sc` and `sp` for each row of `outer`'s id, read from the period's build
    (`level`: p or s) when the window is built: one index probe per row for each, instead of
    summing its day rows of both periods (a page of 50 products: 700 day rows). The same
    figures: `sc` only where the row has day rows in the period (`current`), as the sums are
    NULL without any, and `sp.units` the build's sum of the previous period (NULL: no rows)."""
    if not w.precomputed:
        return lateral(w, table, key, outer)
    if level not in ("p", "s"):
        raise ValueError(f"no built rows of level {level!r} joined by id")
    days = int(w.period.days)

    def row_of(t: str) -> str:
        return f"{t}.level = '{level}' AND {t}.days = {days} AND {t}.id = {outer}"

    return (
        f" LEFT JOIN sales_periods sc ON {row_of('sc')} AND sc.current"  # noqa: S608 - constants and an id expression of this module's callers
        " LEFT JOIN LATERAL (SELECT b.prev_units AS units FROM sales_periods b "
        f"WHERE {row_of('b')}) sp ON true"
    )


def ranked(w: SalesWindow, table: str, key: str, where: str = "") -> str:
    """`sc`: the window's sums per id with any sale or observation in the period, joined to the
    previous period's (`sp`); select `sc.id` and filter on what it joins to; `where` as in
    `lateral`."""
    p, q = w.period, w.previous
    also = f" AND {where}" if where else ""
    cols = (
        "sum(units)::bigint AS units, sum(revenue)::bigint AS revenue, "
        "sum(units_orders)::bigint AS units_orders, sum(units_stock)::bigint AS units_stock, "
        "sum(units_split)::bigint AS units_split, sum(observations)::bigint AS observations"
    )
    return (
        f"(SELECT {key} AS id, {cols} FROM {table} "  # noqa: S608 - constants and date literals
        f"WHERE day >= {_day(p.first)} AND day <= {_day(p.last)}{also} GROUP BY 1) sc "
        f"LEFT JOIN (SELECT {key} AS id, sum(units)::bigint AS units FROM {table} "
        f"WHERE day >= {_day(q.first)} AND day <= {_day(q.last)}{also} GROUP BY 1) sp USING (id)"
    )


def built(w: SalesWindow, level: str) -> str:
    """With a precomputed window: its rows of `level` (p, s or c) as `sc`, the previous
    period's units as `sp` (the names `figure_columns` reads); add `built_where`."""
    if level not in ("p", "s", "c"):
        raise ValueError(f"unknown level {level!r}")
    return "sales_periods sc CROSS JOIN LATERAL (SELECT sc.prev_units AS units) sp"


def built_where(w: SalesWindow, level: str) -> str:
    """The condition picking the window's rows with sales rows in the period."""
    return f"sc.level = '{level}' AND sc.days = {int(w.period.days)} AND sc.current"


def built_order(w: SalesWindow, sort: str) -> str:
    """ORDER BY over the precomputed rows, the order `order_of` gives the summed ones (their
    units and revenue are never NULL; growth is, when the previous period is unknown)."""
    if sort == "growth" and w.previous_known:
        return "sc.growth_pct DESC NULLS LAST, sc.units DESC, sc.id DESC"
    if sort == "revenue":
        return "sc.revenue DESC, sc.id DESC"
    return "sc.units DESC, sc.id DESC"


def order_of(sort: str, table_id: str) -> str:
    """ORDER BY of a ranked list (`units`, `revenue` or `growth`), ties by id."""
    if sort == "growth":
        return f"growth_pct DESC NULLS LAST, units DESC, {table_id} DESC"
    return f"{sort} DESC, {table_id} DESC"
