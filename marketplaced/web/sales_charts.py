"""Per-day sales charts for the seller page and the seller comparison: one line per seller of
its units or revenue per day.

Server-rendered SVG like the product page's charts (product_charts.py): no script, colours from
CSS classes (`.s0` … `.s5`), every text escaped. Each day is a point at its local noon with its
exact value on hover (so'm where it is money, the date with its year); a day never observed
breaks the line and gets a hollow marker saying so — it is unknown, never drawn as zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

from markupsafe import Markup, escape

from marketplaced.web.charts import nice_ticks, paths
from marketplaced.web.product_charts import count, money
from marketplaced.web.queries.seller_sales import Day

_W, _H = 720, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 112, 12, 12, 26
_PALETTE = 6
#: dates written under a chart: more would overlap at 720 units wide
_AXIS_LABELS = 8
HOW_WE_COUNT = "/how-we-count"

Measure = Literal["units", "revenue"]


@dataclass(frozen=True, slots=True)
class DayLine:
    label: str
    days: Sequence[Day]


def _value(d: Day, measure: Measure) -> int | None:
    return d.units if measure == "units" else d.revenue


def day_lines(lines: Sequence[DayLine], measure: Measure, *, title: str, tz: tzinfo) -> Markup:
    """Units or revenue per day of each line, the days of the first line as the time axis."""
    fmt: Callable[[float], str] = money if measure == "revenue" else count
    days = [d.day for d in lines[0].days] if lines else []
    values = [
        float(v) for line in lines for d in line.days if (v := _value(d, measure)) is not None
    ]
    if not days:
        return Markup(
            '<svg class="chart empty" viewBox="0 0 {w} 40" role="img"><title>{t}</title>'
            '<text x="8" y="24" class="axis">no days in this period</text></svg>'
        ).format(w=_W, t=title)
    start = datetime.combine(days[0], datetime.min.time(), tz).timestamp()
    end = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tz).timestamp()
    hi = max(values, default=0.0)
    hi = (hi or 1.0) * 1.08
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(ts: float) -> float:
        return _LEFT + (ts - start) / (end - start) * plot_w

    def y(value: float) -> float:
        return _TOP + (hi - value) / hi * plot_h

    # written as text with every text field escaped (numbers need none): `Markup.format` runs
    # the pure-Python formatter per field, and a chart has a few hundred fields
    legend_rows = (len(lines) + 2) // 3
    name = escape(title)
    parts: list[str] = [
        f'<svg class="chart wide" viewBox="0 0 {_W} {_H + 18 * legend_rows}" role="img" '
        f'aria-label="{name}"><title>{name}</title>'
    ]
    for tick in nice_ticks(0.0, hi):
        ty = y(tick)
        if _TOP - 1 <= ty <= _TOP + plot_h + 1:
            parts.append(
                f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
                f'<text class="axis" x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">'
                f"{escape(fmt(tick))}</text>"
            )
    parts += _day_axis(days, x, _TOP + plot_h + 18, tz)
    parts.append(f'<rect class="frame" x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}"/>')
    placed: dict[date, tuple[float, str]] = {}

    def place(day: date) -> tuple[float, str]:
        """A day's x (its local noon) and its date as a hover shows it, worked out once for
        every line."""
        got = placed.get(day)
        if got is None:
            noon = datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=12)
            got = placed[day] = (x(noon.timestamp()), day.strftime("%d.%m.%Y"))
        return got

    for i, line in enumerate(lines):
        parts.append(_line(line, measure, f"s{i % _PALETTE}", place, y, fmt))
        lx, ly = _LEFT + (i % 3) * 200, _H + 12 + 18 * (i // 3)
        parts.append(
            f'<rect class="key s{i % _PALETTE}" x="{lx}" y="{ly - 9}" width="10" height="10"/>'
            f'<text class="legend" x="{lx + 14}" y="{ly}">{escape(line.label[:40])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # every text field above is escaped


def _day_axis(days: Sequence[date], x: Callable[[float], float], y: float, tz: tzinfo) -> list[str]:
    """Dates under the days (at most `_AXIS_LABELS` of them, evenly spaced), with the year when
    the days cross a new year."""
    step = max(1, math.ceil(len(days) / _AXIS_LABELS))
    crosses = days[0].year != days[-1].year
    out = []
    for d in days[::step]:
        ts = (datetime.combine(d, datetime.min.time(), tz) + timedelta(hours=12)).timestamp()
        label = d.strftime("%d.%m.%Y" if crosses else "%d.%m")
        out.append(
            f'<text class="axis" x="{x(ts):.1f}" y="{y}" text-anchor="middle">{label}</text>'
        )
    return out


def _line(
    line: DayLine,
    measure: Measure,
    cls: str,
    place: Callable[[date], tuple[float, str]],
    y: Callable[[float], float],
    fmt: Callable[[float], str],
) -> str:
    """The line's path (broken at unobserved days) and a hover marker per day (text: its
    label and values are escaped)."""
    # a marker per day (30 days × 5 sellers × 2 charts on a comparison): written as one text
    # with its values escaped, since `Markup.format` runs the pure-Python formatter per field
    # and a Markup per marker was most of the comparison page's server time
    label = escape(line.label)
    floor = y(0)
    pts: list[tuple[float, float | None]] = []
    marks: list[str] = []
    for d in line.days:
        px, when = place(d.day)
        raw = _value(d, measure)
        if raw is None:
            pts.append((px, None))
            marks.append(  # the label is escaped, the rest are numbers and dates
                f'<a href="{HOW_WE_COUNT}"><rect class="unobserved" x="{px - 3:.1f}" '
                f'y="{floor - 4:.1f}" width="6" height="4"><title>{label} · {when}: not '
                "observed (unknown, not zero)</title></rect></a>"
            )
            continue
        v = float(raw)
        pts.append((px, v))
        marks.append(  # the label and the value's text are escaped
            f'<circle class="pt {cls}" cx="{px:.1f}" cy="{y(v):.1f}" r="3">'
            f"<title>{label} · {when} · {escape(fmt(v))}</title></circle>"
        )
    path = f'<path class="line {cls}" d="{paths(pts, False, _same, y)}" data-series="{label}"/>'
    return path + "".join(marks)


def _same(v: float) -> float:
    return v
