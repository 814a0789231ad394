"""A list page's table, written as HTML text in one pass (the `table` macro of
templates/_macros.html calls it).

A list is the dashboard's busiest page and its table its largest part: 50 rows of up to 13
cells, each with a link, a formatted value and a hover text. As a Jinja macro every cell cost
a dozen calls through the template runtime (about 15 000 calls for a page of products with
their sales figures), and that was most of the server's time per list — under 8 clients on a
shared core it set the lists' p95, not the database. Here each cell is a format and an escape
of its value, and what cells share is worked out once: a column's opening tag and the escaped
fixed parts of its link once per table, a row's hover text once per row (a product's three
figures share one), a link's value needs no escape once URL-quoted and a number `fmt` wrote
none (digits, signs, points, spaces). Every other value is escaped
as the template's autoescaping does (`markupsafe.escape`, byte for byte; a `Markup` value, such
as a local time, stays as it is): titles and names are written by strangers.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from marketplaced.web.listing import Column, Page

Format = Callable[[Any, str], str]


def _escape(value: Any) -> str:
    """`escape(value)` as plain text: a plain string through the same five replacements as
    markupsafe's (the common case, without building a `Markup` per value), anything else —
    `Markup`, numbers — through `escape` itself."""
    if type(value) is str:
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return str(escape(value))


def _quoted(value: Any) -> str:
    """A link's value as its URL has it: an integer id is its digits, anything else quoted
    (the result is letters, digits, `-._~` and `%XX`: nothing HTML escapes)."""
    return str(value) if type(value) is int else quote(str(value), safe="")


@dataclass(frozen=True, slots=True)
class _Cell:
    """What a column's cells share, worked out once per table instead of once per cell."""

    key: str
    kind: str
    hint: str | None
    #: `<td class="…"` of the column
    opening: str
    #: the link's fixed parts, escaped, around the row keys it is filled from (`parts` has one
    #: more entry than `names`); no link: None
    parts: tuple[str, ...] | None
    names: tuple[str, ...]
    #: `fmt` writes this column's numbers with nothing to escape
    numeric: bool

    @classmethod
    def of(cls, c: Column) -> _Cell:
        parts: list[str] | None = None
        names: list[str] = []
        if c.link is not None:
            parts = [""]
            for literal, name, spec, conversion in string.Formatter().parse(c.link):
                parts[-1] += _escape(literal)
                if name is None:
                    continue
                if spec or conversion or not name.isidentifier():
                    raise ValueError(f"link {c.link!r}: only plain {{key}} fields are filled")
                names.append(name)
                parts.append("")
        return cls(
            c.key, c.kind, c.hint, f'<td class="{_escape(c.kind)}"',
            None if parts is None else tuple(parts), tuple(names), c.kind in _NUMERIC,
        )  # fmt: skip

    def href(self, row: Mapping[str, Any]) -> str | None:
        """The link filled from the row, escaped for an attribute; none when a value it needs
        is missing."""
        parts = self.parts
        if parts is None:
            return None
        out = parts[0]
        for name, after in zip(self.names, parts[1:], strict=True):
            value = row.get(name)
            if value is None:
                return None
            out += _quoted(value) + after
        return out


def render(page: Page, table_id: str, select: str | None, fmt: Format) -> Markup:
    """The table of `page` (`select`: the id of the form whose `ids` each row's checkbox,
    in a last column, adds to); `fmt` is the templates' own."""
    columns = page.columns
    head = "".join(f'<th class="{_escape(c.kind)}">{_escape(c.label)}</th>' for c in columns)
    if select:
        head += "<th>Compare</th>"
    out = [
        '<div class="scroll">',
        f'<table class="list" id="{_escape(table_id)}">',
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>",
    ]
    cells = [_Cell.of(c) for c in columns]
    form = _escape(select) if select else None
    for row in page.rows:
        out.append(_row(row, cells, form, fmt))
    if not page.rows:
        span = len(columns) + (1 if select else 0)
        out.append(f'<tr><td colspan="{span}" class="empty">nothing matches</td></tr>')
    out += ["</tbody>", "</table>", "</div>"]
    return Markup("\n".join(out))  # every value in it went through _escape()


#: kinds whose numbers `fmt` writes with digits, signs, points, spaces and "%" only
_NUMERIC = frozenset({"int", "money", "pct", "rating"})


def _row(row: Mapping[str, Any], cells: list[_Cell], form: str | None, fmt: Format) -> str:
    out = "<tr>"
    titles: dict[str, str] = {}  # hint key → its ` title="…"` (figures of a row share one)
    for c in cells:
        value = row[c.key]
        text = fmt(value, c.kind)
        # an int or float of a numeric column needs no escape (bools are ints: not skipped)
        if not (c.numeric and (type(value) is int or type(value) is float)):
            text = _escape(text)
        title = ""
        if c.hint is not None:
            if c.hint in titles:
                title = titles[c.hint]
            else:
                hint = row[c.hint]
                title = titles[c.hint] = f' title="{_escape(hint)}"' if hint else ""
        href = c.href(row) if c.parts is not None else None
        if href:
            out += f'{c.opening}{title}><a href="{href}">{text}</a></td>'
        else:
            out += f"{c.opening}{title}>{text}</td>"
    if form is not None:
        rid = _escape(row["id"])
        out += (
            f'<td><input type="checkbox" name="ids" value="{rid}" form="{form}" '
            f'aria-label="compare {rid}"></td>'
        )
    return out + "</tr>"
