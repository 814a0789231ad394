"""Horizontal share bars as server-rendered SVG: per row, its share of units and its share of
revenue side by side (a price band or a seller of a category page).

Like charts.py: no script, colours from CSS classes (`.bar-units`, `.bar-revenue`), so the CSP
can forbid inline style; each bar's `<title>` gives the exact figures on hover, and every text
is XML-escaped by Markup's formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

#: drawing sizes in viewBox units: a label column, then the bars' 0–100 % scale
_W, _LABEL, _RIGHT = 720, 190, 60
_ROW, _BAR, _TOP = 30, 11, 18


@dataclass(frozen=True, slots=True)
class ShareRow:
    label: str
    units_pct: float | None
    revenue_pct: float | None
    #: hover texts with the exact figures
    units_text: str
    revenue_text: str


def _bar(y: float, pct: float | None, cls: str, text: str) -> Markup:
    width = (_W - _LABEL - _RIGHT) * (pct or 0) / 100
    shown = "—" if pct is None else f"{pct:.1f} %"
    return Markup(
        '<rect class="{c}" x="{x}" y="{y:.1f}" width="{w:.1f}" height="{h}">'
        "<title>{t}</title></rect>"
        '<text class="axis" x="{tx:.1f}" y="{ty:.1f}">{s}</text>'
    ).format(
        c=cls,
        x=_LABEL,
        y=y,
        w=width,
        h=_BAR,
        t=text,
        tx=_LABEL + width + 4,
        ty=y + _BAR - 2,
        s=shown,
    )


def share_bars(title: str, rows: Sequence[ShareRow]) -> Markup:
    """Two bars per row (units above, revenue below), on one 0–100 % scale."""
    if not rows:
        return Markup('<p class="nodata">{}: no sales in this period</p>').format(title)
    height = _TOP + _ROW * len(rows) + 4
    parts = [
        Markup(
            '<svg class="chart shares" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">'
            "<title>{t}</title>"
            '<rect class="bar-units" x="{lx}" y="2" width="10" height="8"></rect>'
            '<text class="legend" x="{lx2}" y="10">share of units</text>'
            '<rect class="bar-revenue" x="{rx}" y="2" width="10" height="8"></rect>'
            '<text class="legend" x="{rx2}" y="10">share of revenue</text>'
        ).format(
            w=_W, h=height, t=title, lx=_LABEL, lx2=_LABEL + 14, rx=_LABEL + 130, rx2=_LABEL + 144
        )
    ]
    for i, row in enumerate(rows):
        y = _TOP + i * _ROW
        parts.append(
            Markup('<text class="axis" x="{x}" y="{y:.1f}" text-anchor="end">{t}</text>').format(
                x=_LABEL - 6, y=y + _BAR + 4, t=row.label[:32]
            )
        )
        parts.append(_bar(y, row.units_pct, "bar-units", row.units_text))
        parts.append(_bar(y + _BAR + 1, row.revenue_pct, "bar-revenue", row.revenue_text))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
