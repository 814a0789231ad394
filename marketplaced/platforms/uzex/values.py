"""UZEX values made typed and storable: converters, and `Row`, the reader of one upstream object.

The upstream sends numbers as floats or numeric strings, dates without a zone (Asia/Tashkent
local time), INNs as numbers, strings or garbage, NUL characters and absurdly long strings. Each
converter returns None for null or empty and raises `ParseError` for garbage; `Row` names the
key in that error and keeps every key nobody read for `extra_json`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from zoneinfo import ZoneInfo

from marketplaced.errors import ParseError
from marketplaced.text import clean_text

TASHKENT = ZoneInfo("Asia/Tashkent")

# Names and titles end up in btree indexes, whose entries PostgreSQL caps at ~2700 bytes;
# 1000 characters of Cyrillic (2 bytes each in UTF-8) stays well inside that.
MAX_NAME_CHARS = 1000
# The longest real descriptions (technical specifications) are a few KB; anything far above is
# garbage or hostile and would bloat every batch, archive-free copy and dashboard page.
MAX_TEXT_CHARS = 20_000
# Ten quadrillion so'm is several times the whole state budget: larger values are corruption.
# The cap also keeps every amount inside a NUMERIC(20, 2) column.
MAX_AMOUNT = Decimal(10) ** 16
# A numeric string longer than this is not a number anyone meant (and Decimal would parse it).
_MAX_NUMBER_CHARS = 64
# Nesting deeper than this inside a payload is not data; it is cut off before it reaches JSON
# columns (and before recursion could hit Python's limit).
_MAX_JSON_DEPTH = 16
# .NET serialises DateTime.MinValue (0001-01-01) as "no date"; no lot predates the exchange.
_MIN_YEAR = 1990
_INTEGER_TEXT = re.compile(r"[+-]?\d+(?:\.0*)?")
_INN_LENGTHS = (9, 14)  # INN of a legal entity, PINFL of an individual

_T = TypeVar("_T")


# --- value converters: None for null/empty, ParseError for garbage -------------------------


def to_text(value: object, cap: int = MAX_NAME_CHARS) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParseError(f"expected text, got {type(value).__name__}")
    return clean_text(str(value), cap).strip() or None


def to_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError("expected a number, got a boolean")
    number: Decimal | None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # repr is the shortest exact text: 13430000.0, 9971.5
    elif isinstance(value, str):
        number = _decimal_from_text(value)
    else:
        raise ParseError(f"expected a number, got {type(value).__name__}")
    if number is None:
        return None
    if not number.is_finite() or abs(number) >= MAX_AMOUNT:
        raise ParseError(f"number out of range: {_preview(value)}")
    return number


def to_money(value: object) -> Decimal | None:
    number = to_decimal(value)
    if number is not None and number < 0:
        raise ParseError(f"negative amount: {_preview(value)}")
    return number


def _decimal_from_text(value: str) -> Decimal | None:
    text = value.strip()
    if not text:
        return None
    if len(text) > _MAX_NUMBER_CHARS:
        raise ParseError("numeric text too long")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ParseError(f"not a number: {_preview(value)}") from None


def to_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)  # pcp_count arrives as 16.0
        raise ParseError(f"not an integer: {_preview(value)}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) <= _MAX_NUMBER_CHARS and _INTEGER_TEXT.fullmatch(text):
            return int(text.split(".")[0])
        raise ParseError(f"not an integer: {_preview(value)}")
    raise ParseError(f"expected an integer, got {type(value).__name__}")


def to_datetime(value: object) -> datetime | None:
    """ISO local time without zone (the upstream's form) → aware Asia/Tashkent datetime."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"expected a date, got {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    parsed = _parse_date_text(text)
    if parsed.year < _MIN_YEAR:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=TASHKENT)
    return parsed.astimezone(TASHKENT)


def _parse_date_text(text: str) -> datetime:
    if len(text) <= _MAX_NUMBER_CHARS:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        # e-tender contract dates come as "11.04.2025"
        for layout in ("%d.%m.%Y", "%d.%m.%Y %H:%M:%S"):
            try:
                return datetime.strptime(text, layout)
            except ValueError:
                continue
    raise ParseError(f"not a date: {_preview(text)}")


def to_flag(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise ParseError(f"not a 0/1 flag: {_preview(value)}")


def to_inn(value: object) -> str | None:
    """A 9-digit INN or 14-digit PINFL as text; None when absent or not of that form."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isascii() and text.isdigit() and len(text) in _INN_LENGTHS:
        return text
    return None


def to_json_value(value: object, depth: int = 0) -> object:
    """Make a decoded payload fragment safe for a JSON column: clean strings, no NaN."""
    if isinstance(value, str):
        return clean_text(value, MAX_TEXT_CHARS)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # PostgreSQL jsonb rejects NaN and Infinity
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= _MAX_JSON_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {
            clean_text(str(k), MAX_NAME_CHARS): to_json_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [to_json_value(v, depth + 1) for v in value]
    return clean_text(str(value), MAX_NAME_CHARS)


def compact_json(value: object) -> str:
    return json.dumps(to_json_value(value), ensure_ascii=False, separators=(",", ":"))


def _preview(value: object) -> str:
    """A short, clean rendering of a bad value for a failure reason."""
    return clean_text(repr(value), 60)


# --- one upstream row ----------------------------------------------------------------------


class Row:
    """Typed, named access to one upstream object.

    Every key read is remembered so the keys nobody read end up in `extra_json`; a conversion
    error is re-raised with the key's name so failure reasons say which field was wrong.
    """

    __slots__ = ("_data", "_invalid", "_used")

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data
        self._used: set[str] = {"rn", "total_count"}  # page bookkeeping, not lot data
        self._invalid: dict[str, object] = {}

    def raw(self, key: str) -> object:
        self._used.add(key)
        return self._data.get(key)

    def _first(self, keys: Iterable[str], convert: Callable[[object], _T | None]) -> _T | None:
        found: _T | None = None
        for key in keys:
            try:
                value = convert(self.raw(key))
            except ParseError as exc:
                raise ParseError(f"{key}: {exc.reason}") from None
            if found is None:
                found = value
        return found

    def text(self, *keys: str, cap: int = MAX_NAME_CHARS) -> str | None:
        return self._first(keys, lambda value: to_text(value, cap))

    def integer(self, *keys: str) -> int | None:
        return self._first(keys, to_int)

    def decimal(self, *keys: str) -> Decimal | None:
        return self._first(keys, to_decimal)

    def money(self, *keys: str) -> Decimal | None:
        """A sum in so'm: like `decimal`, but a negative sum is an error (the lot fails to
        parse): no cost, price or deal value is below zero, and one stored would turn into
        false totals in the monthly rollups."""
        return self._first(keys, to_money)

    def date(self, *keys: str) -> datetime | None:
        return self._first(keys, to_datetime)

    def flag(self, *keys: str) -> bool | None:
        return self._first(keys, to_flag)

    def required_int(self, key: str) -> int:
        value = self.integer(key)
        if value is None:
            raise ParseError(f"{key}: missing")
        return value

    def inn(self, key: str) -> str | None:
        """An invalid INN becomes None; its raw value is kept in extra_json, the row lives on."""
        value = self.raw(key)
        inn = to_inn(value)
        if inn is None and value not in (None, ""):
            self._invalid[f"{key}_invalid"] = value
        return inn

    def extra_json(self) -> str:
        extra = {k: v for k, v in self._data.items() if k not in self._used}
        extra.update(self._invalid)
        return compact_json(extra)


def row_key(raw: object, id_key: str, index: int) -> str:
    """How a failed row is named: its id when it has one, else its position in the page."""
    if isinstance(raw, Mapping):
        value = raw.get(id_key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return clean_text(str(value), 64)
    return f"#{index + 1}"
