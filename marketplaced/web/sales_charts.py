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

    legend_rows = (len(lines) + 2) // 3
    parts = [
        Markup('<svg class="chart wide" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">').format(
            w=_W, h=_H + 18 * legend_rows, t=title
        ),
        Markup("<title>{}</title>").format(title),
    ]
    for tick in nice_ticks(0.0, hi):
        ty = y(tick)
        if _TOP - 1 <= ty <= _TOP + plot_h + 1:
            parts.append(
                Markup(
                    '<line class="grid" x1="{l}" x2="{r}" y1="{y:.1f}" y2="{y:.1f}"/>'
                    '<text class="axis" x="{tx}" y="{ly:.1f}" text-anchor="end">{s}</text>'
                ).format(l=_LEFT, r=_W - _RIGHT, y=ty, tx=_LEFT - 6, ly=ty + 4, s=fmt(tick))
            )
    parts += _day_axis(days, x, _TOP + plot_h + 18, tz)
    parts.append(
        Markup('<rect class="frame" x="{l}" y="{t}" width="{w}" height="{h}"/>').format(
            l=_LEFT, t=_TOP, w=plot_w, h=plot_h
        )
    )
    for i, line in enumerate(lines):
        parts += _line(line, measure, f"s{i % _PALETTE}", x, y, fmt, tz)
        lx, ly = _LEFT + (i % 3) * 200, _H + 12 + 18 * (i // 3)
        parts.append(
            Markup(
                '<rect class="key s{c}" x="{x}" y="{y}" width="10" height="10"/>'
                '<text class="legend" x="{tx}" y="{ty}">{s}</text>'
            ).format(c=i % _PALETTE, x=lx, y=ly - 9, tx=lx + 14, ty=ly, s=line.label[:40])
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _day_axis(
    days: Sequence[date], x: Callable[[float], float], y: float, tz: tzinfo
) -> list[Markup]:
    """Dates under the days (at most `_AXIS_LABELS` of them, evenly spaced), with the year when
    the days cross a new year."""
    step = max(1, math.ceil(len(days) / _AXIS_LABELS))
    crosses = days[0].year != days[-1].year
    out = []
    for d in days[::step]:
        ts = (datetime.combine(d, datetime.min.time(), tz) + timedelta(hours=12)).timestamp()
        label = d.strftime("%d.%m.%Y" if crosses else "%d.%m")
        out.append(
            Markup('<text class="axis" x="{x:.1f}" y="{y}" text-anchor="middle">{s}</text>').format(
                x=x(ts), y=y, s=label
            )
        )
    return out


def _line(
    line: DayLine,
    measure: Measure,
    cls: str,
    x: Callable[[float], float],
    y: Callable[[float], float],
    fmt: Callable[[float], str],
    tz: tzinfo,
) -> list[Markup]:
    """The line's path (broken at unobserved days) and a hover marker per day."""
    noon = [
        (datetime.combine(d.day, datetime.min.time(), tz) + timedelta(hours=12)).timestamp()
        for d in line.days
    ]
    pts: list[tuple[float, float | None]] = []
    for ts, d in zip(noon, line.days, strict=True):
        raw = _value(d, measure)
        pts.append((ts, None if raw is None else float(raw)))
    # a marker per day (30 days × 5 sellers × 2 charts on a comparison): written as text with
    # its values escaped, since `Markup.format` runs the pure-Python formatter per field and
    # was most of the comparison page's server time
    label = escape(line.label)
    out = [
        Markup('<path class="line {c}" d="{d}" data-series="{s}"/>').format(
            c=cls, d=paths(pts, False, x, y), s=line.label
        )
    ]
    for (ts, v), d in zip(pts, line.days, strict=True):
        when = d.day.strftime("%d.%m.%Y")
        if v is None:
            out.append(
                Markup(  # the label is escaped, the rest are numbers and dates
                    f'<a href="{HOW_WE_COUNT}"><rect class="unobserved" x="{x(ts) - 3:.1f}" '
                    f'y="{y(0) - 4:.1f}" width="6" height="4"><title>{label} · {when}: not '
                    "observed (unknown, not zero)</title></rect></a>"
                )
            )
            continue
        out.append(
            Markup(  # the label and the value's text are escaped
                f'<circle class="pt {cls}" cx="{x(ts):.1f}" cy="{y(v):.1f}" r="3">'
                f"<title>{label} · {when} · {escape(fmt(v))}</title></circle>"
            )
        )
    return out
