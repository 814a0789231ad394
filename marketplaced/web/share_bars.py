"""Horizontal share bars as server-rendered SVG: per row, its share of units and its share of
revenue side by side (a price band or a seller of a category page).

Like charts.py: no script, colours from CSS classes (`.bar-units`, `.bar-revenue`), so the CSP
can forbid inline style; each bar's `<title>` gives the exact figures on hover, and every text
is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

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


def _bar(y: float, pct: float | None, cls: str, text: str) -> str:
    width = (_W - _LABEL - _RIGHT) * (pct or 0) / 100
    shown = "—" if pct is None else f"{pct:.1f} %"
    return (
        f'<rect class="{cls}" x="{_LABEL}" y="{y:.1f}" width="{width:.1f}" height="{_BAR}">'
        f"<title>{escape(text)}</title></rect>"
        f'<text class="axis" x="{_LABEL + width + 4:.1f}" y="{y + _BAR - 2:.1f}">{shown}</text>'
    )


def share_bars(title: str, rows: Sequence[ShareRow]) -> Markup:
    """Two bars per row (units above, revenue below), on one 0–100 % scale."""
    if not rows:
        return Markup('<p class="nodata">{}: no sales in this period</p>').format(title)
    # written as text with every text field escaped (numbers need none): `Markup.format` runs
    # the pure-Python formatter per field, a dozen fields a row
    height = _TOP + _ROW * len(rows) + 4
    name = escape(title)
    parts = [
        f'<svg class="chart shares" viewBox="0 0 {_W} {height}" role="img" aria-label="{name}">'
        f"<title>{name}</title>"
        f'<rect class="bar-units" x="{_LABEL}" y="2" width="10" height="8"></rect>'
        f'<text class="legend" x="{_LABEL + 14}" y="10">share of units</text>'
        f'<rect class="bar-revenue" x="{_LABEL + 130}" y="2" width="10" height="8"></rect>'
        f'<text class="legend" x="{_LABEL + 144}" y="10">share of revenue</text>'
    ]
    for i, row in enumerate(rows):
        y = _TOP + i * _ROW
        parts.append(
            f'<text class="axis" x="{_LABEL - 6}" y="{y + _BAR + 4:.1f}" text-anchor="end">'
            f"{escape(row.label[:32])}</text>"
        )
        parts.append(_bar(y, row.units_pct, "bar-units", row.units_text))
        parts.append(_bar(y + _BAR + 1, row.revenue_pct, "bar-revenue", row.revenue_text))
    parts.append("</svg>")
    return Markup("".join(parts))  # every text field above is escaped
