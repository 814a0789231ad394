"""Exports: every list of the dashboard as CSV, as `;`-CSV for ru/uz Excel, and as XLSX.

A list page `/x` has three twins, `/x.csv`, `/x.semicolon.csv` and `/x.xlsx`, served by the same
handler with the same query (web/app.py routes them, `list_response` sends here). All three
stream from a server-side cursor in constant memory.

- `.csv`: comma-separated, UTF-8 with BOM, ISO 8601 times with their offset, dot decimals —
  what scripts and LibreOffice read.
- `.semicolon.csv`: for Excel in a Russian or Uzbek locale, where the list separator is `;`
  *because* the decimal separator is `,`: such an Excel splits a comma CSV wrongly and reads
  "4.7" as 4 July. So this variant uses `;`, decimal commas, and times as
  "YYYY-MM-DD HH:MM:SS" in `[web] timezone` (Excel has no time zones and parses that form in
  every locale).
- `.xlsx`: typed cells — identifiers (ids, INNs, PINFLs, lot numbers) as text so no digit is
  lost to a float, money and counts as numbers, times as Excel dates in `[web] timezone`.
  Text that a spreadsheet could take for a formula gets Excel's quote prefix (the cell is
  stored as text and stays text when edited), the XLSX form of the CSV apostrophe guard.

XlsxWriter's constant-memory mode writes each row to a temporary file as it comes; the zip is
assembled when the workbook closes. That work is blocking, so the workbook lives in a worker
thread: row batches go to it through a small bounded queue, and the zip's bytes come back
through another, so memory stays flat and a slow client slows the cursor down.
"""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

import asyncpg
import xlsxwriter
from aiohttp import web

from marketplaced.errors import MarketplacedError
from marketplaced.web.listing import (
    CSV_CHUNK,
    CSV_PREFETCH,
    RESPONSE_STARTED,
    UTF8_BOM,
    Column,
    ListQuery,
    cell,
    formula_like,
    is_infinite,
)

__all__ = ["EXPORT_SUFFIXES", "export_format", "export_rows", "stream_export"]

#: the twins of a list page, longest first (".semicolon.csv" also ends in ".csv")
EXPORT_SUFFIXES = (".semicolon.csv", ".xlsx", ".csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: row batches waiting for the workbook thread, and zip chunks waiting for the socket: two
#: each is enough to keep both sides busy, and bounds what an export holds in memory
_QUEUE_DEPTH = 2
#: column width (characters) per kind; text columns get the widest, ids stay narrow
_WIDTHS = {"text": 40, "int": 12, "money": 16, "pct": 9, "rating": 8, "datetime": 18, "date": 12}
#: key fragments that mark an identifier: written as text, never as a number
_IDENT_KEYS = ("inn", "pinfl")

#: rows read by column key: asyncpg Records or plain dicts
Rows = Sequence[Any]
Batches = AsyncIterator[Rows]


def export_format(path: str) -> str | None:
    """The export suffix a path asks for, or None for the page itself."""
    return next((s for s in EXPORT_SUFFIXES if path.endswith(s)), None)


def is_identifier(column: Column) -> bool:
    key = column.key
    return key == "id" or key.endswith("_id") or any(k in key for k in _IDENT_KEYS)


# -- the ; variant ----------------------------------------------------------------------------


def excel_cell(value: Any, zone: tzinfo) -> str:
    """A value for ru/uz Excel: decimal comma, local wall-clock time, the same formula guard."""
    if value is None or is_infinite(value):
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(zone) if value.tzinfo else value
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, float):
        # real columns (ratings) carry ~7 significant digits; more would be float4 noise
        return f"{value:.7g}".replace(".", ",")
    return cell(value)


# -- XLSX -----------------------------------------------------------------------------------------


class _Sink:
    """The workbook thread's output file: each write goes to the event loop's queue (and
    waits while it is full). No tell/seek: zipfile then writes a streamable zip."""

    def __init__(self, loop: asyncio.AbstractEventLoop, out: asyncio.Queue[bytes | None]):
        self._loop, self._out = loop, out
        self.aborted = threading.Event()

    def write(self, data: bytes) -> int:
        if self.aborted.is_set():
            raise ExportAborted("the client went away")
        asyncio.run_coroutine_threadsafe(self._out.put(bytes(data)), self._loop).result()
        return len(data)

    def flush(self) -> None:
        pass


class ExportAborted(MarketplacedError):
    """Raised in the workbook thread to stop it when the response is gone."""


class _Sheet:
    """One worksheet written row by row; formats are made once per kind."""

    def __init__(self, book: xlsxwriter.Workbook, columns: Sequence[Column], zone: tzinfo):
        self.sheet = book.add_worksheet("data")
        self.columns, self.zone = columns, zone
        self.bold = book.add_format({"bold": True})
        self.guarded = book.add_format({"quote_prefix": True})
        self.formats = {
            "money": book.add_format({"num_format": "#,##0"}),
            "money_frac": book.add_format({"num_format": "#,##0.00"}),
            "int": book.add_format({"num_format": "0"}),
            "pct": book.add_format({"num_format": "0.0"}),
            "rating": book.add_format({"num_format": "0.0#"}),
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        }
        for i, c in enumerate(columns):
            self.sheet.set_column(i, i, _WIDTHS.get(c.kind, 14))
        self.sheet.freeze_panes(1, 0)
        for i, c in enumerate(columns):
            self.sheet.write_string(0, i, c.label, self.bold)
        self.row = 1
        self.idents = [is_identifier(c) for c in columns]

    def add(self, rows: Rows) -> None:
        for rec in rows:
            for i, c in enumerate(self.columns):
                self._cell(i, c, rec[c.key])
            self.row += 1

    def _cell(self, i: int, column: Column, value: Any) -> None:
        r, s = self.row, self.sheet
        if value is None or is_infinite(value):
            return
        if self.idents[i] or isinstance(value, str):
            text = str(value)
            s.write_string(r, i, text, self.guarded if formula_like(text) else None)
        elif isinstance(value, bool):
            s.write_boolean(r, i, value)
        elif isinstance(value, datetime):
            local = value.astimezone(self.zone).replace(tzinfo=None) if value.tzinfo else value
            s.write_datetime(r, i, local, self.formats["datetime"])
        elif isinstance(value, date):
            s.write_datetime(
                r, i, datetime(value.year, value.month, value.day), self.formats["date"]
            )
        elif isinstance(value, int | float | Decimal):
            kind = column.kind
            if kind == "money" and isinstance(value, Decimal) and value != value.to_integral():
                kind = "money_frac"
            s.write_number(r, i, float(value), self.formats.get(kind))
        else:
            text = str(value)
            s.write_string(r, i, text, self.guarded if formula_like(text) else None)


def _build_xlsx(
    sink: _Sink,
    batches: asyncio.Queue[Rows | None],
    loop: asyncio.AbstractEventLoop,
    columns: Sequence[Column],
    zone: tzinfo,
) -> None:
    """The workbook thread: rows in from `batches` until None, then the zip out to `sink`."""
    book = xlsxwriter.Workbook(sink, {"constant_memory": True})
    sheet = _Sheet(book, columns, zone)
    while (rows := asyncio.run_coroutine_threadsafe(batches.get(), loop).result()) is not None:
        if sink.aborted.is_set():
            raise ExportAborted("the client went away")
        sheet.add(rows)
    book.close()


async def _stream_xlsx(
    resp: web.StreamResponse, first: Rows, more: Batches, columns: Sequence[Column], zone: tzinfo
) -> None:
    loop = asyncio.get_running_loop()
    batches: asyncio.Queue[Rows | None] = asyncio.Queue(_QUEUE_DEPTH)
    out: asyncio.Queue[bytes | None] = asyncio.Queue(_QUEUE_DEPTH)
    sink = _Sink(loop, out)

    async def build() -> None:
        try:
            await asyncio.to_thread(_build_xlsx, sink, batches, loop, columns, zone)
        finally:
            if not sink.aborted.is_set():
                await out.put(None)

    async def feed() -> None:
        await batches.put(first)
        async for rows in more:
            await batches.put(rows)
        await batches.put(None)

    def abort() -> None:
        # The client went away or the cursor failed: tell the thread, and free both queues so
        # that neither side waits on the other; the thread then stops at its next step (it is
        # not awaited: a cancelled to_thread cannot be, and it ends within one row batch).
        sink.aborted.set()
        while not out.empty():
            out.get_nowait()
        if not batches.full():
            batches.put_nowait(None)

    async with asyncio.TaskGroup() as tg:
        tg.create_task(build())
        tg.create_task(feed())
        try:
            while (chunk := await out.get()) is not None:
                await resp.write(chunk)
        except BaseException:
            abort()
            raise


# -- the one path every list takes ----------------------------------------------------------------


async def _stream(
    request: web.Request,
    columns: Sequence[Column],
    first: Rows,
    more: Batches,
    filename: str,
    suffix: str,
    zone: tzinfo,
) -> web.StreamResponse:
    xlsx = suffix == ".xlsx"
    resp = web.StreamResponse(
        headers={
            "Content-Type": XLSX_TYPE if xlsx else "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await resp.prepare(request)
    request[RESPONSE_STARTED] = True
    if xlsx:
        await _stream_xlsx(resp, first, more, columns, zone)
    else:
        await _stream_csv(resp, first, more, columns, suffix, zone)
    await resp.write_eof()
    return resp


async def _stream_csv(
    resp: web.StreamResponse,
    first: Rows,
    more: Batches,
    columns: Sequence[Column],
    suffix: str,
    zone: tzinfo,
) -> None:
    semicolon = suffix == ".semicolon.csv"
    to_text: Callable[[Any], str] = (lambda v: excel_cell(v, zone)) if semicolon else cell
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    keys = [c.key for c in columns]
    writer.writerow([c.label for c in columns])
    await resp.write(UTF8_BOM + buf.getvalue().encode())
    buf.seek(0)
    buf.truncate()

    async def rows() -> AsyncIterator[Rows]:
        yield first
        async for batch in more:
            yield batch

    async for batch in rows():
        for rec in batch:
            writer.writerow([to_text(rec[k]) for k in keys])
            if buf.tell() >= CSV_CHUNK:
                await resp.write(buf.getvalue().encode())
                buf.seek(0)
                buf.truncate()
    if buf.tell():
        await resp.write(buf.getvalue().encode())


def _filename(filename: str, suffix: str) -> str:
    stem = filename.rsplit(".", 1)[0]
    return stem + (".xlsx" if suffix == ".xlsx" else ".csv")


async def stream_export(
    request: web.Request, pool: asyncpg.Pool, q: ListQuery, filename: str, zone: tzinfo
) -> web.StreamResponse:
    """Stream `q` in the format its path asks for, from a server-side cursor.

    The query runs and its first rows arrive before any byte is sent: a database that cannot
    answer gets a proper error response (503), not a 200 download that breaks off."""
    suffix = export_format(request.path) or ".csv"
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        cursor = await conn.cursor(q.sql, *q.args, q.limit)
        first = await cursor.fetch(CSV_PREFETCH)

        async def more() -> AsyncIterator[Rows]:
            got = len(first)
            while got == CSV_PREFETCH:
                batch = await cursor.fetch(CSV_PREFETCH)
                got = len(batch)
                if batch:
                    yield batch

        return await _stream(
            request, q.columns, first, more(), _filename(filename, suffix), suffix, zone
        )


async def export_rows(
    request: web.Request, columns: Sequence[Column], rows: Rows, filename: str, zone: tzinfo
) -> web.StreamResponse:
    """The same formats for a short list already in memory (the category overview)."""

    async def nothing() -> AsyncIterator[Rows]:
        return
        yield  # an async generator that yields nothing

    suffix = export_format(request.path) or ".csv"
    return await _stream(
        request, columns, rows, nothing(), _filename(filename, suffix), suffix, zone
    )
