"""One list, three renderings: a `ListQuery` is a page on screen, a JSON page and a CSV file.

Every list of the dashboard is built as a `ListQuery` — SQL text with `$n` parameters, its
columns and how the next page's keyset cursor is taken from the last row. `fetch_page` runs it
for the screen and the API (one extra row tells whether there is a next page); export.py runs
the very same query through a server-side cursor and streams it as CSV or XLSX, a chunk at a
time, in constant memory: the export of a page is exactly the rows on that page. `Where`
assembles WHERE clauses from constant fragments so values only ever travel as parameters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeAlias

import asyncpg
from aiohttp import web

from marketplaced import db
from marketplaced.web.params import encode_cursor

#: what a page's statements run on: the pool (a connection each), or one connection a page
#: holds for all of them (each statement through the pool also pays the pool's reset of the
#: connection, one more round trip, when it is handed back)
Reader: TypeAlias = asyncpg.Pool | db.Conn

#: rows fetched per round trip of the export cursor: large enough to amortise the round trip,
#: small enough that memory stays flat (1000 rows ≈ 200 KB)
CSV_PREFETCH = 1000
#: bytes of CSV text gathered before a write to the socket (fewer, larger writes)
CSV_CHUNK = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
#: set on a request once its streamed response has sent headers: no error page can follow
RESPONSE_STARTED: web.RequestKey[bool] = web.RequestKey("response_started", bool)
#: first characters that make a spreadsheet evaluate a cell as a formula; product titles come
#: from strangers, so such text cells get a leading apostrophe (OWASP "CSV injection")
_FORMULA_START = frozenset("=+-@\t\r\n")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    #: how to show it: text, int, money, pct, rating, datetime, date
    kind: str = "text"
    #: URL path template filled from the row for the HTML table, e.g. "/products/{id}"
    link: str | None = None
    #: row key whose text is the cell's hover title (how a figure was counted)
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class ListQuery:
    """SQL whose last parameter (`$len(args)+1`) is the LIMIT."""

    sql: str
    args: tuple[Any, ...]
    columns: tuple[Column, ...]
    limit: int
    #: row keys whose values form the next page's cursor (keyset pagination)
    keyset: tuple[str, ...] = ()
    #: offset paging for small ranked lists without a usable keyset
    offset: int | None = None


class Count(NamedTuple):
    """SQL counting a list's rows up to `cap` + 1 (a count above `cap` reads "cap+")."""

    sql: str
    args: tuple[Any, ...]
    cap: int


@dataclass(slots=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None = None
    next_offset: int | None = None
    columns: tuple[Column, ...] = ()


@dataclass
class Where:
    """WHERE clause built from constant SQL fragments; `{}` marks where a value goes."""

    args: list[Any] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    def add(self, fragment: str, *values: Any) -> None:
        marks = []
        for value in values:
            self.args.append(value)
            marks.append(f"${len(self.args)}")
        self.parts.append(fragment.format(*marks))

    def param(self, value: Any) -> str:
        """Add a value without a condition (for ORDER BY/LIMIT pieces); returns `$n`."""
        self.args.append(value)
        return f"${len(self.args)}"

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "TRUE"

    def next_mark(self) -> str:
        return f"${len(self.args) + 1}"


async def fetch_page(conn: Reader, q: ListQuery) -> Page:
    records = await conn.fetch(q.sql, *q.args, q.limit + 1)
    rows = [dict(r) for r in records[: q.limit]]
    page = Page(rows, columns=q.columns)
    if len(records) > q.limit and rows:
        if q.keyset:
            page.next_cursor = encode_cursor([rows[-1][k] for k in q.keyset])
        elif q.offset is not None:
            page.next_offset = q.offset + q.limit
    return page


def is_infinite(value: object) -> bool:
    """Whether `value` is how asyncpg reads PostgreSQL's 'infinity' / '-infinity' timestamps:
    naive datetime.max / datetime.min, which have no time zone and no UTC form (converting
    them raises "year 0 is out of range"). Every rendering treats them as "no time"."""
    return (
        isinstance(value, datetime)
        and value.tzinfo is None
        and (value == datetime.min or value == datetime.max)
    )


def cell(value: Any) -> str:
    """A value as CSV text: ISO dates, plain numbers, formula-safe strings."""
    if value is None or is_infinite(value):
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    return "'" + text if formula_like(text) else text


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula.

    Spreadsheets skip leading blanks and line breaks and fold full-width forms (`＝`, `＋`, `－`,
    `＠`) to ASCII before they decide, so the test is not a fixed prefix list: a cell that opens
    with any white space or invisible character, or whose first character folds (NFKC) to a
    formula starter, is guarded like `=`. Guarding a harmless title costs one apostrophe.
    """
    if not text:
        return False
    first = text[0]
    if first.isspace() or not first.isprintable():
        return True
    return unicodedata.normalize("NFKC", first)[:1] in _FORMULA_START


def json_value(value: Any) -> Any:
    if is_infinite(value):
        return None  # ISO 8601 has no infinity; null is "no time" as for a missing value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # money as a decimal string: exact tiyin, no binary-float rounding, no exponent
        return format(value, "f")
    return value
