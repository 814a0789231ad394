"""Declared query parameters: one table per page or endpoint says what it accepts.

A table is a tuple of `Param`s: name, what it means, its kind and its bounds. `Params` (params.py)
validates a query string against it, `openapi.py` documents it from it (schema, default,
description), and docs/api.md is generated from that document, so a parameter cannot be
accepted, bounded or described in two places that disagree. Tables that several lists share
(`LIMIT`, `CURSOR`, `OFFSET`, `CATEGORY`) are declared here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

#: page size of lists on screen and in the API; CSV exports may ask for more (streamed)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
#: a CSV export streams at constant memory, so it can be long; 100k rows ≈ 15 MB of text
MAX_CSV_LIMIT = 100_000
#: search terms: below 3 characters a trigram index cannot help and every row would match
MIN_QUERY_LEN, MAX_QUERY_LEN = 3, 100
#: the largest integer PostgreSQL's bigint holds; bigger ids are rejected, not overflowed
BIGINT_MAX = 2**63 - 1
#: category ids are PostgreSQL integers
INT_MAX = 2**31 - 1
#: offsets are for short ranked lists; deep offsets would cost what they skip
MAX_OFFSET = 10_000

Kind = Literal["integer", "number", "flag", "text", "choice", "date", "inn", "cursor", "ids"]


@dataclass(frozen=True, slots=True)
class Param:
    """One accepted query parameter; build it with the functions below."""

    name: str
    description: str
    kind: Kind
    lo: float = 0
    hi: float = BIGINT_MAX
    #: text length bounds (after stripping)
    min_len: int = 1
    max_len: int = MAX_QUERY_LEN
    choices: tuple[str, ...] = ()
    #: what an absent (or empty) parameter means; None: no value
    default: str | int | None = None
    #: an `ids` list holds at most this many
    max_items: int = 1

    def schema(self) -> dict[str, Any]:
        """The parameter's JSON Schema (OpenAPI 3.1), with exactly the bounds `Params` checks."""
        schema: dict[str, Any]
        if self.kind == "integer":
            schema = {"type": "integer", "minimum": int(self.lo), "maximum": int(self.hi)}
        elif self.kind == "number":
            schema = {"type": "number", "minimum": self.lo, "maximum": self.hi}
        elif self.kind == "flag":
            schema = {"type": "boolean"}
        elif self.kind == "text":
            schema = {"type": "string", "minLength": self.min_len, "maxLength": self.max_len}
        elif self.kind == "choice":
            schema = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "date":
            schema = {"type": "string", "format": "date"}
        elif self.kind == "ids":
            item = {"type": "integer", "minimum": int(self.lo), "maximum": int(self.hi)}
            schema = {"type": "array", "items": item, "minItems": 1, "maxItems": self.max_items}
        elif self.kind == "inn":
            schema = {"type": "string", "pattern": "^([0-9]{9}|[0-9]{14})$"}
        else:
            schema = {"type": "string"}
        if self.default not in (None, ""):
            schema["default"] = self.default
        return schema


def integer(
    name: str, description: str, *, lo: int = 0, hi: int = BIGINT_MAX, default: int | None = None
) -> Param:
    return Param(name, description, "integer", lo=lo, hi=hi, default=default)


def number(name: str, description: str, *, lo: float, hi: float) -> Param:
    return Param(name, description, "number", lo=lo, hi=hi)


def flag(name: str, description: str) -> Param:
    return Param(name, description, "flag")


def text(name: str, description: str, *, min_len: int = 1, max_len: int = MAX_QUERY_LEN) -> Param:
    return Param(name, description, "text", min_len=min_len, max_len=max_len)


def choice(name: str, description: str, choices: Sequence[str], default: str = "") -> Param:
    """One of `choices`; absent means `default` ("" = no choice made)."""
    return Param(name, description, "choice", choices=tuple(choices), default=default)


def day(name: str, description: str) -> Param:
    return Param(name, description, "date")


def inn(name: str, description: str) -> Param:
    return Param(name, description, "inn")


def ids(name: str, description: str, *, max_items: int) -> Param:
    """A list of ids: the parameter repeated (`ids=1&ids=2`, what a form's checkboxes send) or
    comma-separated in one value (`ids=1,2`, what a person types)."""
    return Param(name, description, "ids", max_items=max_items)


def search(description: str) -> Param:
    """`q`: a title search, long enough for the trigram index to help."""
    return text("q", description, min_len=MIN_QUERY_LEN, max_len=MAX_QUERY_LEN)


LIMIT = integer("limit", "page size", lo=1, hi=MAX_LIMIT, default=DEFAULT_LIMIT)
CURSOR = Param("cursor", "opaque cursor from the previous page's next_cursor", "cursor")
OFFSET = integer("offset", "from the previous page's next_offset", hi=MAX_OFFSET, default=0)
CATEGORY = integer("category", "Uzum category id; its subcategories are included", hi=INT_MAX)
