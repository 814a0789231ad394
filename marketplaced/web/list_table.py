"""A list page's table, written as HTML text in one pass (the `table` macro of
templates/_macros.html calls it).

A list is the dashboard's busiest page and its table its largest part: 50 rows of up to 13
cells, each with a link, a formatted value and a hover text. As a Jinja macro every cell cost
a dozen calls through the template runtime (about 15 000 calls for a page of products with
their sales figures), and that was most of the server's time per list — under 8 clients on a
shared core it set the lists' p95, not the database. Here each cell is three escapes and a
format. Every value is escaped as the template's autoescaping did (a `Markup` value, such as a
local time, stays as it is): titles and names are written by strangers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from marketplaced.web.listing import Column, Page

Format = Callable[[Any, str], str]


@dataclass(frozen=True, slots=True)
class _Cell:
    """What a column's cells share, worked out once per table instead of once per cell."""

    key: str
    kind: str
    hint: str | None
    #: `<td class="…"` of the column
    opening: str
    #: the link template and the row keys it is filled from (no link: None)
    link: str | None
    names: tuple[str, ...]

    @classmethod
    def of(cls, c: Column) -> _Cell:
        names = tuple(part.split("}", 1)[0] for part in (c.link or "").split("{")[1:])
        return cls(c.key, c.kind, c.hint, f'<td class="{escape(c.kind)}"', c.link, names)

    def href(self, row: Mapping[str, Any]) -> str | None:
        """The link filled from the row; none when a value it needs is missing."""
        if self.link is None:
            return None
        values = {}
        for name in self.names:
            value = row.get(name)
            if value is None:
                return None
            values[name] = quote(str(value), safe="")
        return self.link.format(**values)


def render(page: Page, table_id: str, select: str | None, fmt: Format) -> Markup:
    """The table of `page` (`select`: the id of the form whose `ids` each row's checkbox,
    in a last column, adds to); `fmt` is the templates' own."""
    columns = page.columns
    head = "".join(f'<th class="{escape(c.kind)}">{escape(c.label)}</th>' for c in columns)
    if select:
        head += "<th>Compare</th>"
    out = [
        '<div class="scroll">',
        f'<table class="list" id="{escape(table_id)}">',
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>",
    ]
    cells = [_Cell.of(c) for c in columns]
    form = escape(select) if select else None
    for row in page.rows:
        out.append(_row(row, cells, form, fmt))
    if not page.rows:
        span = len(columns) + (1 if select else 0)
        out.append(f'<tr><td colspan="{span}" class="empty">nothing matches</td></tr>')
    out += ["</tbody>", "</table>", "</div>"]
    return Markup("\n".join(out))  # every value in it went through escape()


def _row(row: Mapping[str, Any], cells: list[_Cell], form: str | None, fmt: Format) -> str:
    out = ["<tr>"]
    for c in cells:
        text = escape(fmt(row[c.key], c.kind))
        hint = row[c.hint] if c.hint else None
        title = f' title="{escape(hint)}"' if hint else ""
        href = c.href(row)
        if href:
            out.append(f'{c.opening}{title}><a href="{escape(href)}">{text}</a></td>')
        else:
            out.append(f"{c.opening}{title}>{text}</td>")
    if form is not None:
        rid = escape(row["id"])
        out.append(
            f'<td><input type="checkbox" name="ids" value="{rid}" form="{form}" '
            f'aria-label="compare {rid}"></td>'
        )
    out.append("</tr>")
    return "".join(out)
