"""Field checks for Uzum payloads: each reads one key of a decoded JSON object and returns a
storable value or raises `Bad` naming the key and the problem.

The checks are plain `type()` tests because they run for every field of every product on the
scan's hot path; `Bad` carries the path inside the current section only, and each enclosing
section prepends its part (`Bad.under`), so a field path is only built once something is wrong.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marketplaced.errors import ParseError
from marketplaced.text import clean_text

# Length caps. Real titles are under ~400 characters and real descriptions under ~30 kB; a value
# far beyond that is junk or hostile, and storing it whole would bloat COPY batches, rows and the
# dashboard. Truncating keeps the rest of the product instead of losing it to a ParseError.
TITLE_MAX = 2_000
DESCRIPTION_MAX = 100_000
#: every other short string (names, links, keys, tags, badge texts)
SHORT_MAX = TITLE_MAX

# Column ranges (sql/002_uzum.sql): one out-of-range number would fail a whole COPY batch, so it
# is rejected here, for this product only. Category ids, amounts and delivery days are `integer`.
INT32 = 2**31 - 1
INT64 = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: ratings go to PostgreSQL `real`; a larger magnitude cannot be encoded as float4
_REAL_MAX = 1e38
#: 9999-12-31T23:59:59.999Z, the last instant a datetime can hold
_EPOCH_MS_MAX = 253_402_300_799_999
#: prices as decimal strings ("440000", "440000.50"); no sign, exponent, "nan" or "inf"
_DECIMAL_RE = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,9})?")
_ONE = Decimal(1)
COMPACT = (",", ":")


class Bad(Exception):
    """A field failed its check. It is raised with the path inside the current section only;
    each enclosing section prepends its part, so the happy path never builds a path string."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def under(self, prefix: str) -> Bad:
        return Bad(f"{prefix}.{self.path}" if self.path else prefix, self.problem)

    def to_error(self, entity_id: int | str | None) -> ParseError:
        return ParseError(f"{self.path}: {self.problem}", entity_id=entity_id)


def kind_of(value: object) -> str:
    return "null" if value is None else type(value).__name__


def expected(what: str, value: object) -> str:
    return f"expected {what}, got {kind_of(value)}"


def unexpected(exc: Exception, entity_id: int | str | None) -> ParseError:
    # A shape nobody foresaw must cost one product, not the scanner loop.
    return ParseError(f"unexpected {type(exc).__name__}: {exc}", entity_id=entity_id)


# --- scalar checks -----------------------------------------------------------------------------


def need_str(obj: dict[str, Any], key: str, cap: int) -> str:
    value = obj.get(key)
    if type(value) is str:
        return clean_text(value, cap)
    raise Bad(key, expected("str", value))


def opt_str(obj: dict[str, Any], key: str, cap: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is str:
        return clean_text(value, cap)
    raise Bad(key, expected("str", value))


def need_id(obj: dict[str, Any], key: str, limit: int = INT64) -> int:
    """Identifiers are strict: a positive JSON integer, never a float, string or bool."""
    value = obj.get(key)
    if type(value) is int and 0 < value <= limit:
        return value
    if type(value) is int:
        raise Bad(key, f"{value} is not a valid id")
    raise Bad(key, expected("int", value))


def opt_int(obj: dict[str, Any], key: str, limit: int = INT64) -> int | None:
    """Counts and amounts; an integral float (2022 shape) is accepted, a bool is not."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is int and -limit <= value <= limit:
        return value
    if type(value) is float and value.is_integer() and -limit <= value <= limit:
        return int(value)
    if type(value) in (int, float):
        raise Bad(key, f"{value!r} is not an integer within range")
    raise Bad(key, expected("int", value))


def count_or_zero(obj: dict[str, Any], key: str) -> int:
    value = opt_int(obj, key)
    return 0 if value is None else value


def opt_float(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if type(value) in (int, float) and -_REAL_MAX <= value <= _REAL_MAX:  # False for NaN
        return float(value)
    raise Bad(key, expected("finite number", value))


def flag(obj: dict[str, Any], key: str) -> bool:
    # Lenient on purpose: only JSON true counts as true. A flag of another type carries no
    # trustworthy meaning, and failing the product over a cosmetic flag would lose its prices.
    return obj.get(key) is True


def opt_price(obj: dict[str, Any], key: str) -> int | None:
    """So'm as int. 2022 payloads carried floats (440000.0) and some scrapers saw decimal
    strings; both are rounded half up (a string is counted as coerced, see `skus`). NaN,
    infinities, other strings and negative prices are errors: a price below zero means
    nothing, and storing it (or a guess in its place: 0, its absolute value) would turn into
    false price drops and revenue downstream, so the product waits for a sane answer."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) in (int, float) and value < 0:
        raise Bad(key, f"{value!r} is negative")
    if type(value) is int and value <= INT64:
        return value
    if type(value) is float and math.isfinite(value) and value < 2.0**62:
        floor = math.floor(value)
        # compare the fraction instead of floor(value + 0.5), which misrounds 0.49999999999999994
        return floor + 1 if value - floor >= 0.5 else floor
    if type(value) is str and _DECIMAL_RE.fullmatch(value):
        return int(Decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP))
    if type(value) in (int, float, str):
        raise Bad(key, f"{value!r} is not a price")
    raise Bad(key, expected("number", value))


def barcode(obj: dict[str, Any]) -> int | None:
    # EAN codes are digits; a digit string is as good as the number. (isascii: "²".isdigit())
    value = obj.get("barcode")
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return opt_int(obj, "barcode")


def ms_to_utc(obj: dict[str, Any], key: str) -> datetime | None:
    millis = opt_int(obj, key)
    if millis is None:
        return None
    if not 0 <= millis <= _EPOCH_MS_MAX:
        raise Bad(key, f"{millis} ms is outside the representable dates")
    return _EPOCH + timedelta(milliseconds=millis)


def opt_list(obj: dict[str, Any], key: str) -> list[Any]:
    """An optional JSON array: absent or null reads as empty."""
    value = obj.get(key)
    if value is None:
        return []
    if type(value) is list:
        return value
    raise Bad(key, expected("list", value))


def need_dict(value: object, path: str) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise Bad(path, expected("dict", value))


def strings(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    items = opt_list(obj, key)
    for i, item in enumerate(items):
        if type(item) is not str:
            raise Bad(f"{key}[{i}]", expected("str", item))
    return tuple([clean_text(item, SHORT_MAX) for item in items])


def need_list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if type(value) is list:
        return value
    raise Bad(key, expected("list", value))
