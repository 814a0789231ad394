"""What a scanner sees of the fetcher: the `JsonResponse` it gets, the `Classify` and `Decode`
callbacks it may pass, and `JsonFetcher`, the shared fetcher or one platform's view of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from marketplaced.errors import FetchError

#: ``classify(status, headers, body)``: return an error to raise it at once (no retry), else None.
Classify = Callable[[int, Mapping[str, str], bytes], FetchError | None]

#: ``decode(body)``: the caller's reading of a non-empty 2xx JSON body instead of the full
#: decode (`decode_json`); it may skip decoding a body it already knows (a stored one) and must
#: raise ValueError for a body that does not decode, which the fetcher retries as invalid JSON.
Decode = Callable[[bytes], Any]


@dataclass(frozen=True, slots=True)
class JsonResponse:
    """A response the caller gets to judge (2xx, or a 4xx such as 404)."""

    status: int
    #: decoded JSON (what the caller's `Decode` returned, when it passed one); None for an
    #: empty body (or an undecodable 4xx body)
    data: Any
    #: raw bytes as received, for the raw archive
    body: bytes
    #: duration of the exchange that produced this response (queueing and retries excluded)
    elapsed_s: float
    url: str


class JsonFetcher(Protocol):
    """What a scanner needs of the fetcher: the shared `Fetcher` or one platform's view of it."""

    async def get_json(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
        decode: Decode | None = None,
    ) -> JsonResponse: ...

    async def post_json(
        self,
        url: str,
        body: object,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
    ) -> JsonResponse: ...
