"""The product page's charts: one price chart for all SKUs, units sold per day as bars, stock.

Server-rendered SVG like `charts.py` (no script, colours from CSS classes, so the page's CSP
forbids inline script and style). What a reader hovers over is an SVG `<title>`: every observed
price or stock change and every day's bar carries its exact value, in so'm where it is money,
with the date and time in the dashboard's zone and the year always written. A product with a
handful of SKUs gets a line per SKU; one with many gets the min–max band of its SKUs' prices
with one SKU (the cheapest, or the one asked for) drawn on top: 40 lines are unreadable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from markupsafe import Markup, escape

from marketplaced.web.charts import date_label, nice_ticks, paths

#: more SKUs than this and the price chart shows a min–max band plus one highlighted SKU
MANY_SKUS = 8
#: wider than `charts.py`'s: a money tick reads "12 500 000 so'm"
_W, _H = 720, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 112, 12, 12, 26
_PALETTE = 6
HOW_WE_COUNT = "/how-we-count"

Points = Sequence[tuple[float, float | None]]


def money(value: float) -> str:
    """'1 250 000 so'm' (whole so'm, thin-space-free: a plain space groups thousands)."""
    return f"{round(value):,} so'm".replace(",", " ")


def count(value: float) -> str:
    return f"{round(value):,}".replace(",", " ")


def moment(ts: float, tz: tzinfo) -> str:
    """The exact local time of a point, year included (hover text is read on its own)."""
    return datetime.fromtimestamp(ts, tz).strftime("%d.%m.%Y %H:%M")


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    #: step points (epoch seconds, value); None = not observed from there on
    points: Points
    #: the epoch seconds of real observations (the rest are the window's edges)
    observed: frozenset[float] = frozenset()


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    units: int | None  # None: the day was not observed
    revenue: int | None = None
    how: str = ""


@dataclass(frozen=True, slots=True)
class _Frame:
    start: float
    end: float
    lo: float
    hi: float
    tz: tzinfo

    @property
    def plot_w(self) -> float:
        return _W - _LEFT - _RIGHT

    @property
    def plot_h(self) -> float:
        return _H - _TOP - _BOTTOM

    def x(self, ts: float) -> float:
        return (
            _LEFT
            + (min(max(ts, self.start), self.end) - self.start)
            / (self.end - self.start)
            * self.plot_w
        )

    def y(self, value: float) -> float:
        return _TOP + (self.hi - value) / (self.hi - self.lo) * self.plot_h

    def axes(self, title: str, y_format: Callable[[float], str], legend_rows: int) -> list[str]:
        """The frame, grid and axes as text, every text field escaped (numbers need none):
        `Markup.format` runs the pure-Python formatter per field, and a chart has hundreds."""
        name = escape(title)
        parts = [
            f'<svg class="chart wide" viewBox="0 0 {_W} {_H + 18 * legend_rows}" role="img" '
            f'aria-label="{name}"><title>{name}</title>'
        ]
        for tick in nice_ticks(self.lo, self.hi):
            ty = self.y(tick)
            if _TOP - 1 <= ty <= _TOP + self.plot_h + 1:
                parts.append(
                    f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{ty:.1f}" '
                    f'y2="{ty:.1f}"/><text class="axis" x="{_LEFT - 6}" y="{ty + 4:.1f}" '
                    f'text-anchor="end">{escape(y_format(tick))}</text>'
                )
        span = self.end - self.start
        for i, anchor in enumerate(("start", "middle", "middle", "middle", "end")):
            ts = self.start + span * i / 4
            label = escape(date_label(ts, self.start, self.end, self.tz))
            parts.append(
                f'<text class="axis" x="{self.x(ts):.1f}" y="{_TOP + self.plot_h + 18}" '
                f'text-anchor="{anchor}">{label}</text>'
            )
        parts.append(
            f'<rect class="frame" x="{_LEFT}" y="{_TOP}" width="{self.plot_w}" '
            f'height="{self.plot_h}"/>'
        )
        return parts


def _empty(title: str, what: str) -> Markup:
    return Markup(
        '<svg class="chart empty" viewBox="0 0 {w} 40" role="img"><title>{t}</title>'
        '<text x="8" y="24" class="axis">{what}</text></svg>'
    ).format(w=_W, t=title, what=what)


def _range(values: Sequence[float], zero_based: bool) -> tuple[float, float]:
    lo, hi = (0.0 if zero_based else min(values)), max(values)
    if hi == lo:
        hi, lo = hi + 1, (lo if zero_based else lo - 1)
    pad = (hi - lo) * 0.08
    return (lo if zero_based else lo - pad), hi + pad


def _legend(i: int, label: str, cls: str) -> str:
    lx, ly = _LEFT + (i % 3) * 200, _H + 12 + 18 * (i // 3)
    return (
        f'<rect class="key {cls}" x="{lx}" y="{ly - 9}" width="10" height="10"/>'
        f'<text class="legend" x="{lx + 14}" y="{ly}">{escape(label[:40])}</text>'
    )


def _markers(f: _Frame, line: Line, cls: str, fmt: Callable[[float], str]) -> list[str]:
    """A hover target with the exact value at each observed change of `line` (text: its
    label and values escaped)."""
    label = escape(line.label)
    return [
        f'<circle class="pt {cls}" cx="{f.x(ts):.1f}" cy="{f.y(value):.1f}" r="3">'
        f"<title>{label} · {escape(moment(ts, f.tz))} · {escape(fmt(value))}</title></circle>"
        for ts, value in line.points
        if value is not None and ts in line.observed
    ]


def _value_at(points: Points, ts: float) -> float | None:
    value: float | None = None
    for t, v in points:
        if t > ts:
            break
        value = v
    return value


def _band(lines: Sequence[Line], f: _Frame) -> list[Markup]:
    """The min–max envelope of all SKUs' prices as filled step polygons (one per stretch in
    which some SKU was observed), with a hover title at every change of the envelope."""
    times = sorted({t for line in lines for t, _ in line.points})
    events: list[tuple[float, float, float] | None] = []
    for t in times:
        known = [v for line in lines if (v := _value_at(line.points, t)) is not None]
        events.append((t, min(known), max(known)) if known else None)
    runs: list[list[tuple[float, float, float]]] = [[]]
    for e in events:
        if e is None:
            runs.append([])
        else:
            runs[-1].append(e)
    out: list[Markup] = []
    for run in (r for r in runs if r):
        upper = "".join(
            f"{'M' if i == 0 else 'H'}{f.x(t):.1f}{',' if i == 0 else 'V'}{f.y(hi):.1f}"
            for i, (t, _, hi) in enumerate(run)
        )
        lower = "".join(f"V{f.y(lo):.1f}H{f.x(t):.1f}" for t, lo, _ in reversed(run))
        out.append(
            Markup(
                '<path class="band" d="{d}"><title>price range of {n} SKUs</title></path>'
            ).format(d=upper + lower + "Z", n=len(lines))
        )
        last: tuple[float, float] | None = None
        for t, lo, hi in run:
            if (lo, hi) != last:
                out.append(
                    Markup(
                        '<circle class="pt band-pt" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>'
                        "{when} · from {lo} to {hi} across {n} SKUs</title></circle>"
                    ).format(
                        x=f.x(t),
                        y=f.y(hi),
                        when=moment(t, f.tz),
                        lo=money(lo),
                        hi=money(hi),
                        n=len(lines),
                    )
                )
            last = (lo, hi)
    return out


def price_chart(
    lines: Sequence[Line], *, start: float, end: float, tz: tzinfo, highlight: int | None = None
) -> Markup:
    """All SKUs' prices in one chart: a line each, or (more than `MANY_SKUS`) their min–max
    band with `lines[highlight]` drawn over it."""
    title = "Price of every SKU, so'm"
    values = [v for line in lines for _, v in line.points if v is not None]
    if not values or end <= start:
        return _empty(title, "no price observed in this period")
    f = _Frame(start, end, *_range(values, False), tz)
    banded = len(lines) > MANY_SKUS
    shown = [lines[highlight or 0]] if banded else list(lines)
    rows = (len(shown) + (1 if banded else 0) + 2) // 3
    parts = f.axes(title, money, rows)
    if banded:
        parts += _band(lines, f)
        parts.append(_legend(0, f"range of {len(lines)} SKUs", "band"))
    for i, line in enumerate(shown):
        c = "hl" if banded else f"s{i % _PALETTE}"
        parts.append(
            f'<path class="line {c}" d="{paths(line.points, True, f.x, f.y)}" '
            f'data-series="{escape(line.label)}"/>'
        )
        parts += _markers(f, line, c, money)
        parts.append(_legend(i + (1 if banded else 0), line.label, c))
    parts.append("</svg>")
    return Markup("".join(parts))  # every text in it is escaped


def stock_chart(line: Line, *, start: float, end: float, tz: tzinfo) -> Markup:
    title = "Units in stock, all SKUs"
    values = [v for _, v in line.points if v is not None]
    if not values or end <= start:
        return _empty(title, "no stock observed in this period")
    f = _Frame(start, end, *_range(values, True), tz)
    parts = f.axes(title, count, 1)
    parts.append(
        f'<path class="line s1" d="{paths(line.points, True, f.x, f.y)}" '
        f'data-series="{escape(line.label)}"/>'
    )
    parts += _markers(f, line, "s1", count)
    parts += [_legend(0, line.label, "s1"), "</svg>"]
    return Markup("".join(parts))  # every text in it is escaped


def units_chart(days: Sequence[DayBar], *, start: float, end: float, tz: tzinfo) -> Markup:
    """Units sold per day as bars (a day is its local day in `tz`); each bar links to the
    page explaining the count and says on hover how that day was counted; a day never
    observed gets a hollow marker saying so, never a zero bar. A run of days alike — never
    observed, or observed with nothing sold — is one mark naming its first and last day: a
    product that sells on a few days of 180 gets a few marks instead of 180 (the page's
    largest part, and most of its rendering time)."""
    title = "Units sold per day"
    values = [float(d.units) for d in days if d.units is not None]
    if not days or end <= start:
        return _empty(title, "no sales counted in this period")
    f = _Frame(start, end, *_range(values or [0.0], True), tz)
    parts = f.axes(title, count, 1)
    day_w = f.plot_w * 86400 / (end - start)
    width = max(1.0, day_w * 0.8)
    base = f.y(0)
    for run in _runs(days):
        d, n = run[0], len(run)
        left = datetime.combine(d.day, datetime.min.time(), tz).timestamp()
        x0 = f.x(left) + (day_w - width) / 2
        w = width + day_w * (n - 1)
        when = d.day.strftime("%d.%m.%Y")
        if n > 1:
            when += "–" + run[-1].day.strftime("%d.%m.%Y")
        # f-strings with every text escaped: the same markup as Markup.format, ten times faster
        if d.units is None:
            parts.append(
                Markup(
                    f'<a href="{HOW_WE_COUNT}"><rect class="unobserved" x="{x0:.1f}" '
                    f'y="{base - 4:.1f}" width="{w:.1f}" height="4"><title>{when}: not '
                    "observed (unknown, not zero) · how we count</title></rect></a>"
                )
            )
            continue
        top = f.y(d.units)
        revenue = "" if d.revenue is None else f", {money(d.revenue)}"
        parts.append(
            Markup(
                f'<a href="{HOW_WE_COUNT}"><rect class="bar" x="{x0:.1f}" y="{top:.1f}" '
                f'width="{w:.1f}" height="{max(0.0, base - top):.1f}"><title>{when}: '
                f"{count(d.units)} units{escape(revenue)} — {escape(d.how)} · how we count"
                "</title></rect></a>"
            )
        )
    parts += [_legend(0, "units per day", "bar"), "</svg>"]
    return Markup("".join(parts))  # every text in it is escaped


def _runs(days: Sequence[DayBar]) -> list[list[DayBar]]:
    """Consecutive days with nothing to tell apart (never observed, or observed with nothing
    sold, counted alike) grouped; a day with units sold is a run of its own."""
    runs: list[list[DayBar]] = []
    for d in days:
        prev = runs[-1][-1] if runs else None
        alike = (
            prev is not None
            and not d.units
            and (prev.units, prev.revenue, prev.how) == (d.units, d.revenue, d.how)
            and (d.day - prev.day).days == 1
        )
        if alike:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs
