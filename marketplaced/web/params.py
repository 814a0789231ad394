"""Query-string validation: every parameter a page or endpoint accepts is declared and checked.

A `Params` reader is built with the names a handler accepts; an unknown or repeated parameter,
or a value of the wrong shape or out of range, raises `ParamError` whose message names the
parameter and what was expected — the app turns it into HTTP 400 (JSON for the API, a page for
the dashboard), never a 500. Empty values count as absent, because HTML forms submit blank
fields. Keyset cursors are opaque base64url JSON arrays, checked against the expected types.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from multidict import MultiMapping

from marketplaced.errors import MarketplacedError

#: page size of lists on screen and in the API; CSV exports may ask for more (streamed)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
#: a CSV export streams at constant memory, so it can be long; 100k rows ≈ 15 MB of text
MAX_CSV_LIMIT = 100_000
#: search terms: below 3 characters a trigram index cannot help and every row would match
MIN_QUERY_LEN, MAX_QUERY_LEN = 3, 100
#: the largest integer PostgreSQL's bigint holds; bigger ids are rejected, not overflowed
BIGINT_MAX = 2**63 - 1

_INN_RE = re.compile(r"^(\d{9}|\d{14})$")


class ParamError(MarketplacedError):
    """A query parameter is unknown, repeated or has a bad value (HTTP 400)."""


class Params:
    """Typed access to a query string that accepts only `allowed` names."""

    def __init__(self, query: MultiMapping[str], allowed: Iterable[str]) -> None:
        self._query = query
        allowed_set = set(allowed)
        for key in query:
            if key not in allowed_set:
                known = ", ".join(sorted(allowed_set)) or "none"
                raise ParamError(f"unknown parameter '{key}' (accepted: {known})")
            if len(query.getall(key)) > 1:
                raise ParamError(f"parameter '{key}' given more than once")

    def raw(self, name: str) -> str | None:
        value = self._query.get(name)
        return value if value not in (None, "") else None

    def integer(self, name: str, *, lo: int = 0, hi: int = BIGINT_MAX) -> int | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            value = int(raw, 10)
        except ValueError:
            raise ParamError(f"parameter '{name}' must be an integer, got {raw[:40]!r}") from None
        if not lo <= value <= hi:
            raise ParamError(f"parameter '{name}' must be between {lo} and {hi}, got {value}")
        return value

    def number(self, name: str, *, lo: float, hi: float) -> float | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise ParamError(f"parameter '{name}' must be a number, got {raw[:40]!r}") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ParamError(f"parameter '{name}' must be between {lo:g} and {hi:g}, got {raw}")
        return value

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        raw = self.raw(name)
        if raw is None:
            return default
        if raw not in choices:
            raise ParamError(
                f"parameter '{name}' must be one of {', '.join(choices)}, got {raw[:40]!r}"
            )
        return raw

    def flag(self, name: str) -> bool:
        raw = self.raw(name)
        if raw is None:
            return False
        if raw.lower() in ("1", "true", "on", "yes"):
            return True
        if raw.lower() in ("0", "false", "off", "no"):
            return False
        raise ParamError(f"parameter '{name}' must be true or false, got {raw[:40]!r}")

    def text(self, name: str, *, min_len: int = 1, max_len: int = MAX_QUERY_LEN) -> str | None:
        raw = self.raw(name)
        if raw is None:
            return None
        value = raw.strip()
        if not min_len <= len(value) <= max_len:
            raise ParamError(
                f"parameter '{name}' must be {min_len} to {max_len} characters long, "
                f"got {len(value)}"
            )
        if any(ord(ch) < 32 for ch in value):
            raise ParamError(f"parameter '{name}' must not contain control characters")
        return value

    def day(self, name: str) -> date | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ParamError(
                f"parameter '{name}' must be a date YYYY-MM-DD, got {raw[:40]!r}"
            ) from None

    def inn(self, name: str) -> str | None:
        raw = self.raw(name)
        if raw is None:
            return None
        if not _INN_RE.match(raw):
            raise ParamError(
                f"parameter '{name}' must be a 9-digit INN or a 14-digit PINFL, got {raw[:40]!r}"
            )
        return raw

    def limit(self, *, csv: bool = False) -> int:
        hi = MAX_CSV_LIMIT if csv else MAX_LIMIT
        value = self.integer("limit", lo=1, hi=hi)
        return DEFAULT_LIMIT if value is None else value

    def cursor(self, kinds: Sequence[type]) -> tuple[Any, ...] | None:
        raw = self.raw("cursor")
        return None if raw is None else decode_cursor(raw, kinds)


def range_check(name_lo: str, lo: float | None, name_hi: str, hi: float | None) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ParamError(f"parameter '{name_lo}' must not exceed '{name_hi}'")


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [
        v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, Decimal) else v
        for v in values
    ]
    text = json.dumps(plain, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(raw: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The values of a cursor made by `encode_cursor`, each checked against `kinds`."""
    bad = ParamError("parameter 'cursor' is not a cursor this list handed out")
    if len(raw) > 400:
        raise bad
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        values = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise bad
    out: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        out.append(_cursor_value(value, kind, bad))
    return tuple(out)


def _cursor_value(value: Any, kind: type, bad: ParamError) -> Any:
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= BIGINT_MAX:
            return value
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif kind is datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise bad from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    elif kind is Decimal:
        if isinstance(value, str) and len(value) <= 40:
            try:
                number = Decimal(value)
            except ArithmeticError:
                raise bad from None
            if number.is_finite():
                return number
    elif kind is str and isinstance(value, str) and len(value) <= 200:
        return value
    raise bad
