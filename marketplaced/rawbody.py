"""Decoding archived response bodies for `process-raw`, the way the fetcher decoded them live.

An archived line is either a response that decoded when it arrived or one marked `undecodable`
(truncated JSON, an HTML block page, a body nested too deep): it was kept so a later run — with
a fixed decoder or parser — can try again. `decode` tries; what still does not decode comes back
as `Undecodable` with a reason for the parse-failure row, so it is reported, never skipped.
"""

from __future__ import annotations

from typing import Any

from marketplaced.archive import RawRecord
from marketplaced.errors import MarketplacedError
from marketplaced.http import decode_json


class Undecodable(MarketplacedError):
    """An archived body that does not decode (again)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def decode(rec: RawRecord) -> Any:
    """The decoded body (None when empty); raises `Undecodable`."""
    if not rec.body.strip():
        return None
    try:
        return decode_json(rec.body.encode("utf-8"))
    except ValueError as exc:
        if rec.undecodable is None and 400 <= rec.status < 500:
            return None  # a 4xx error page: the fetcher read it as "no data" too
        was = " (undecodable when received)" if rec.undecodable is not None else ""
        raise Undecodable(f"undecodable body{was}: {exc}"[:1000]) from None
