"""Query-string validation: every parameter a page or endpoint accepts is declared and checked.

A `Params` reader is built with the table of `Param`s (param_spec.py) a handler accepts; an
unknown or repeated parameter, or a value of the wrong shape or out of the declared range,
raises `ParamError` whose message names the parameter and what was expected — the app turns it
into HTTP 400 (JSON for the API, a page for the dashboard), never a 500. Bounds and defaults come
from the table only, so what is checked is what the OpenAPI document says. Empty values count as
absent, because HTML forms submit blank fields. Keyset cursors are opaque base64url JSON arrays,
checked against the expected types.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from multidict import MultiMapping

from marketplaced.errors import MarketplacedError
from marketplaced.web.param_spec import BIGINT_MAX, MAX_CSV_LIMIT, Kind, Param

_INN_RE = re.compile(r"^(\d{9}|\d{14})$")
_ID_RE = re.compile(r"[0-9]{1,19}")


class ParamError(MarketplacedError):
    """A query parameter is unknown, repeated or has a bad value (HTTP 400)."""


class Params:
    """Typed access to a query string that accepts only the parameters of `table`.

    Reading a parameter the table does not declare, or as another kind, is a bug in the
    handler (`LookupError`, a 500), never something a request can cause."""

    def __init__(self, query: MultiMapping[str], table: Sequence[Param]) -> None:
        self._query = query
        self._table = {param.name: param for param in table}
        for key in query:
            if key not in self._table:
                known = ", ".join(sorted(self._table)) or "none"
                raise ParamError(f"unknown parameter '{key}' (accepted: {known})")
            if len(query.getall(key)) > 1 and self._table[key].kind != "ids":
                raise ParamError(f"parameter '{key}' given more than once")

    def _spec(self, name: str, kind: Kind) -> Param:
        param = self._table.get(name)
        if param is None or param.kind != kind:
            raise LookupError(f"parameter {name!r} is not declared as {kind}")
        return param

    def raw(self, name: str) -> str | None:
        value = self._query.get(name)
        return value if value not in (None, "") else None

    def integer(self, name: str, *, hi: int | None = None) -> int | None:
        """The value, or None when absent (a declared default is `integer_or_default`'s);
        `hi` lowers the declared maximum for one caller (CSV exports raise `limit`'s instead)."""
        spec = self._spec(name, "integer")
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            value = int(raw, 10)
        except ValueError:
            raise ParamError(f"parameter '{name}' must be an integer, got {raw[:40]!r}") from None
        lo, top = int(spec.lo), int(spec.hi if hi is None else hi)
        if not lo <= value <= top:
            raise ParamError(f"parameter '{name}' must be between {lo} and {top}, got {value}")
        return value

    def integer_or_default(self, name: str) -> int:
        value = self.integer(name)
        if value is not None:
            return value
        default = self._spec(name, "integer").default
        if not isinstance(default, int):
            raise LookupError(f"parameter {name!r} has no declared default")
        return default

    def number(self, name: str) -> float | None:
        spec = self._spec(name, "number")
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise ParamError(f"parameter '{name}' must be a number, got {raw[:40]!r}") from None
        if not math.isfinite(value) or not spec.lo <= value <= spec.hi:
            raise ParamError(
                f"parameter '{name}' must be between {spec.lo:g} and {spec.hi:g}, got {raw}"
            )
        return value

    def choice(self, name: str) -> str:
        """One of the declared choices, or the declared default ("" when there is none)."""
        spec = self._spec(name, "choice")
        raw = self.raw(name)
        if raw is None:
            return str(spec.default or "")
        if raw not in spec.choices:
            raise ParamError(
                f"parameter '{name}' must be one of {', '.join(spec.choices)}, got {raw[:40]!r}"
            )
        return raw

    def flag(self, name: str) -> bool:
        self._spec(name, "flag")
        raw = self.raw(name)
        if raw is None:
            return False
        if raw.lower() in ("1", "true", "on", "yes"):
            return True
        if raw.lower() in ("0", "false", "off", "no"):
            return False
        raise ParamError(f"parameter '{name}' must be true or false, got {raw[:40]!r}")

    def text(self, name: str) -> str | None:
        spec = self._spec(name, "text")
        raw = self.raw(name)
        if raw is None:
            return None
        value = raw.strip()
        if not spec.min_len <= len(value) <= spec.max_len:
            raise ParamError(
                f"parameter '{name}' must be {spec.min_len} to {spec.max_len} characters long, "
                f"got {len(value)}"
            )
        if any(ord(ch) < 32 for ch in value):
            raise ParamError(f"parameter '{name}' must not contain control characters")
        return value

    def day(self, name: str) -> date | None:
        self._spec(name, "date")
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ParamError(
                f"parameter '{name}' must be a date YYYY-MM-DD, got {raw[:40]!r}"
            ) from None

    def ids(self, name: str) -> list[int]:
        """The ids in the order given (empty when absent); each an id, none twice, at most
        the declared number."""
        spec = self._spec(name, "ids")
        parts = [
            part.strip() for value in self._query.getall(name, []) for part in value.split(",")
        ]
        parts = [part for part in parts if part]
        if len(parts) > spec.max_items:
            raise ParamError(
                f"parameter '{name}' takes at most {spec.max_items} ids, got {len(parts)}"
            )
        out: list[int] = []
        for part in parts:
            if not _ID_RE.fullmatch(part) or int(part) > spec.hi:
                raise ParamError(
                    f"parameter '{name}' must hold ids (whole numbers), got {part[:40]!r}"
                )
            if int(part) in out:
                raise ParamError(f"parameter '{name}' names id {int(part)} more than once")
            out.append(int(part))
        return out

    def inn(self, name: str) -> str | None:
        self._spec(name, "inn")
        raw = self.raw(name)
        if raw is None:
            return None
        if not _INN_RE.match(raw):
            raise ParamError(
                f"parameter '{name}' must be a 9-digit INN or a 14-digit PINFL, got {raw[:40]!r}"
            )
        return raw

    def limit(self, *, csv: bool = False) -> int:
        """The page size: the declared bounds, up to `MAX_CSV_LIMIT` for a CSV export."""
        value = self.integer("limit", hi=MAX_CSV_LIMIT if csv else None)
        return self.integer_or_default("limit") if value is None else value

    def offset(self) -> int:
        return self.integer_or_default("offset")

    def cursor(self, kinds: Sequence[type]) -> tuple[Any, ...] | None:
        self._spec("cursor", "cursor")
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
