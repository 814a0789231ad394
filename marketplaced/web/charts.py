"""Server-side SVG charts: small line and step charts, no JavaScript, nothing external.

History here is change-based (a row only when a value changed), so series are drawn as steps:
a value holds until the next change. A `None` value breaks the line: the chart shows a gap
where nothing was observed instead of inventing a value. Colours come from CSS classes
(`.s0` … `.s5`), never from inline styles, so the page's CSP can forbid inline styles too.
Every text that reaches the SVG (labels, legend) is XML-escaped here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from markupsafe import Markup

#: drawing area inside the SVG's viewBox; labels live in the margins
_W, _H = 640, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 12, 26
_PALETTE = 6


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    #: (epoch seconds, value); None = not observed from here until the next point
    points: Sequence[tuple[float, float | None]]
    step: bool = True


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    step = next((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), raw)
    first = (lo // step) * step
    ticks: list[float] = []
    value = first
    while value <= hi + step / 2 and len(ticks) < 12:
        if value >= lo - step / 2:
            ticks.append(value)
        value += step
    return ticks


def short_number(value: float) -> str:
    for bound, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= bound:
            return f"{value / bound:.3g}{suffix}"
    return f"{value:.3g}"


def date_label(ts: float, start: float, end: float, tz: tzinfo) -> str:
    """A time-axis label in `tz`: hours for a short span, days for a long one, and the year
    too when the span crosses a new year (a "03.01" after a "28.12" reads as going back)."""
    moment = datetime.fromtimestamp(ts, tz)
    crosses = datetime.fromtimestamp(start, tz).year != datetime.fromtimestamp(end, tz).year
    if end - start <= 2 * 86400:
        return moment.strftime("%d.%m.%Y %H:%M" if crosses else "%H:%M")
    return moment.strftime("%d.%m.%Y" if crosses else "%d.%m")


def paths(
    points: Sequence[tuple[float, float | None]],
    step: bool,
    x: Callable[[float], float],
    y: Callable[[float], float],
) -> str:
    """SVG path data; a None value ends the current subpath (a visible gap)."""
    out: list[str] = []
    pen_down = False
    for ts, value in points:
        if value is None:
            pen_down = False
            continue
        px, py = x(ts), y(value)
        if not pen_down:
            # a zero-length segment: with round caps a lone observation shows as a dot
            out.append(f"M{px:.1f},{py:.1f}h0.01")
            pen_down = True
        elif step:
            out.append(f"H{px:.1f}V{py:.1f}")
        else:
            out.append(f"L{px:.1f},{py:.1f}")
    return "".join(out)


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    start: float,
    end: float,
    tz: tzinfo,
    y_format: Callable[[float], str] = short_number,
    zero_based: bool = False,
) -> Markup:
    """An SVG chart of `series` between `start` and `end` (epoch seconds); the time axis is
    labelled in `tz`, the zone the pages show times in."""
    values = [v for s in series for _, v in s.points if v is not None]
    if not values or end <= start:
        return Markup(
            '<svg class="chart empty" viewBox="0 0 {w} 40" role="img"><title>{t}</title>'
            '<text x="8" y="24" class="axis">no observations in this period</text></svg>'
        ).format(w=_W, t=title)
    lo, hi = (0.0 if zero_based else min(values)), max(values)
    if hi == lo:
        hi, lo = hi + 1, (lo - 1 if not zero_based else lo)
    pad = (hi - lo) * 0.08
    lo, hi = (lo if zero_based else lo - pad), hi + pad
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(ts: float) -> float:
        return _LEFT + (min(max(ts, start), end) - start) / (end - start) * plot_w

    def y(value: float) -> float:
        return _TOP + (hi - value) / (hi - lo) * plot_h

    parts = [
        Markup('<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">').format(
            w=_W, h=_H + 18 * ((len(series) + 2) // 3), t=title
        ),
        Markup("<title>{}</title>").format(title),
    ]
    for tick in nice_ticks(lo, hi):
        ty = y(tick)
        if _TOP - 1 <= ty <= _TOP + plot_h + 1:
            parts.append(
                Markup(
                    '<line class="grid" x1="{l}" x2="{r}" y1="{y:.1f}" y2="{y:.1f}"/>'
                    '<text class="axis" x="{tx}" y="{ly:.1f}" text-anchor="end">{label}</text>'
                ).format(
                    l=_LEFT, r=_W - _RIGHT, y=ty, tx=_LEFT - 6, ly=ty + 4, label=y_format(tick)
                )
            )
    span = end - start
    for i, anchor in enumerate(("start", "middle", "middle", "middle", "end")):
        ts = start + span * i / 4
        parts.append(
            Markup(
                '<text class="axis" x="{x:.1f}" y="{y}" text-anchor="{a}">{label}</text>'
            ).format(x=x(ts), y=_TOP + plot_h + 18, a=anchor, label=date_label(ts, start, end, tz))
        )
    parts.append(
        Markup('<rect class="frame" x="{l}" y="{t}" width="{w}" height="{h}"/>').format(
            l=_LEFT, t=_TOP, w=plot_w, h=plot_h
        )
    )
    for i, s in enumerate(series):
        d = paths(s.points, s.step, x, y)
        parts.append(
            Markup('<path class="line s{c}" d="{d}" data-series="{label}"/>').format(
                c=i % _PALETTE, d=d, label=s.label
            )
        )
        lx, ly = _LEFT + (i % 3) * 200, _H + 12 + 18 * (i // 3)
        parts.append(
            Markup(
                '<rect class="key s{c}" x="{x}" y="{y}" width="10" height="10"/>'
                '<text class="legend" x="{tx}" y="{ty}">{label}</text>'
            ).format(c=i % _PALETTE, x=lx, y=ly - 9, tx=lx + 14, ty=ly, label=s.label[:40])
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
