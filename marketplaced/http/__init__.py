"""The polite HTTP fetcher shared by every scanner.

One :class:`Fetcher` owns its clients (a lean HTTP/1.1 client for GETs, one aiohttp session for
the rest) and, per upstream host (URL authority
``host:port``), a circuit breaker, a token-bucket rate limit whose rate follows the host's share
of HTTP 429s (:mod:`marketplaced.ratecontrol`), a resizable concurrency limit and O(1) counters
for the dashboard and Prometheus. Scanners ask for JSON (:meth:`Fetcher.get_json`,
:meth:`Fetcher.post_json`) and get a :class:`JsonResponse`, or a
:class:`~marketplaced.errors.FetchError` subclass once retries are spent. The daemon swaps
policies live on SIGHUP with :meth:`Fetcher.update_policies`.

The package's modules, one concern each: `policy` (HostPolicy, Route), `decoding` (bytes to
JSON, Retry-After), `limits` (token bucket, concurrency slots), `breaker`, `stats` (counters,
HostStats), `host` (one host's state), `interface` (JsonResponse, JsonFetcher), `h1` (the GET
client), `wire` (which client carries an exchange) and `fetcher`.
This module is their public face.
"""

from marketplaced.http.decoding import decode_json, parse_retry_after
from marketplaced.http.fetcher import NOT_FOUND, Fetcher, PlatformFetcher
from marketplaced.http.interface import Classify, Decode, JsonFetcher, JsonResponse
from marketplaced.http.policy import HostPolicy, Route, Routes
from marketplaced.http.stats import OUTCOMES, HostStats
from marketplaced.http.timing import Clock, Sleep

__all__ = [
    "NOT_FOUND",
    "OUTCOMES",
    "Classify",
    "Clock",
    "Decode",
    "Fetcher",
    "HostPolicy",
    "HostStats",
    "JsonFetcher",
    "JsonResponse",
    "PlatformFetcher",
    "Route",
    "Routes",
    "Sleep",
    "decode_json",
    "parse_retry_after",
]
