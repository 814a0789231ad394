"""The polite fetcher itself: its clients (`wire`) and, per host, the retry loop of one request
(admit → exchange → judge → settle) over the host's breaker, limits and counters."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import aiohttp
import structlog
from yarl import URL

from marketplaced.errors import (
    BlockPageError,
    FetchError,
    HttpStatusError,
    InvalidJsonError,
    RateLimitedError,
    TransportError,
)
from marketplaced.http.decoding import decode_json, lenient_data, looks_like_html, parse_retry_after
from marketplaced.http.host import Host
from marketplaced.http.interface import Classify, Decode, JsonResponse
from marketplaced.http.policy import HostPolicy, Route, Routes
from marketplaced.http.stats import HostStats, outcome_of
from marketplaced.http.timing import Clock, Sleep
from marketplaced.http.wire import Transport, Wire
from marketplaced.ratecontrol import ControllerFactory, RateController

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

#: Cap on a Retry-After pause: a bogus "come back tomorrow" must not freeze a scanner silently;
#: after 10 minutes we ask again (and get paused again if the host meant it).
MAX_RETRY_AFTER_S: Final = 600.0
#: 4xx answers that mean "try again later" rather than "no such thing".
RETRYABLE_4XX: Final = frozenset({403, 408, 429})
NOT_FOUND: Final = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class _Raw:
    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed_s: float


class _Retryable(Exception):
    """An attempt failed in a way that may heal; carries the error to raise when retries end."""

    def __init__(self, error: FetchError, outcome: str, retry_after_s: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.outcome = outcome
        self.retry_after_s = retry_after_s
        #: set when the Retry-After paused the whole host (then that pause is the wait)
        self.paused_host = False


class Fetcher:
    """Polite JSON fetcher: one set of clients, per-host limits, retries and breaker.

    Use as ``async with Fetcher(policy, {"api.uzum.uz": uzum_policy}) as fetcher: ...``.
    Policy keys are ``host:port`` or bare ``host``; unknown hosts get the default policy.

    The daemon builds it from every platform's `routes` instead, and hands each platform
    `for_platform(name)`: that platform's requests get its route's policy and headers. When
    several platforms declare the same host (the simulator serves every platform from one
    origin), each keeps its own limits, breaker and counters there, keyed
    ``<platform>@host:port``: one platform's rate, backoff or headers never decide another's
    requests, as they would not against the real, separate hosts. A host only one platform
    declares keeps the plain ``host:port`` key (the dashboard's and metrics' host name).

    `transport` says which client carries GETs (`wire.Transport`): the lean one by default,
    or aiohttp as every other request.
    """

    def __init__(
        self,
        default_policy: HostPolicy,
        policies: Mapping[str, HostPolicy] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        routes: Routes | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        controller: ControllerFactory = RateController,
        transport: Transport = "lean",
    ) -> None:
        self._default = default_policy
        self._policies = dict(policies or {})
        self._routes: Routes = dict(routes or {})
        # no headers of the fetcher's own: a platform's User-Agent and the rest come with its
        # routes (or `headers`), from its configuration, so there is one default, not two
        self._wire = Wire(headers or {}, transport)
        #: host key → (platform or None, ``host:port``): what the key was resolved from
        self._origins: dict[str, tuple[str | None, str]] = {}
        self._clock = clock
        self._sleep = sleep
        self._controller = controller
        self._rng = random.Random()
        self._hosts: dict[str, Host] = {}
        #: (platform, ``host:port``) → its host and route: resolved once, not on every request
        self._resolved: dict[tuple[str | None, str], tuple[Host, Route | None]] = {}

    async def __aenter__(self) -> Self:
        self._wire.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._wire.close()

    def update_policies(
        self,
        default_policy: HostPolicy,
        policies: Mapping[str, HostPolicy] | None = None,
        *,
        routes: Routes | None = None,
    ) -> None:
        """Apply new policies live: in-flight requests finish, limits change at once."""
        self._default = default_policy
        self._policies = dict(policies or {})
        if routes is not None:
            self._routes = dict(routes)
        self._resolved.clear()
        for key, host in self._hosts.items():
            platform, authority = self._origins[key]
            host.apply(self._resolve(platform, authority)[0])

    def for_platform(self, name: str) -> PlatformFetcher:
        """This fetcher as platform `name` uses it: its routes' policies and headers."""
        return PlatformFetcher(self, name)

    def stats(self) -> dict[str, HostStats]:
        """Snapshot of every host seen so far, keyed by ``host:port``."""
        now = self._clock()
        return {key: host.snapshot(now) for key, host in self._hosts.items()}

    async def get_json(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
        platform: str | None = None,
        decode: Decode | None = None,
    ) -> JsonResponse:
        """GET ``url`` politely; see the module docstring for what is retried and raised.
        `decode` reads a 2xx body instead of `decode_json` (see `Decode`)."""
        return await self._fetch("GET", url, None, headers, classify, platform, decode)

    async def post_json(
        self,
        url: str,
        body: object,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
        platform: str | None = None,
    ) -> JsonResponse:
        """POST ``body`` as JSON to ``url`` politely (UZEX list endpoints)."""
        merged = {"Content-Type": "application/json", **(headers or {})}
        data = json.dumps(body).encode()
        return await self._fetch("POST", url, data, merged, classify, platform)

    # -- one request: retry loop -------------------------------------------------------------

    async def _fetch(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        classify: Classify | None,
        platform: str | None = None,
        decode: Decode | None = None,
    ) -> JsonResponse:
        target = URL(url)
        host, route = self._host(target, platform)
        if route is not None and route.headers:
            headers = {**route.headers, **headers} if headers else route.headers
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._attempt(
                    host, method, url, target, data, headers, classify, decode or decode_json
                )
            except _Retryable as failure:
                if attempts > host.policy.max_retries:
                    log.warning(
                        "request_failed",
                        host=host.key,
                        url=url,
                        kind=failure.outcome,
                        attempts=attempts,
                        error=str(failure.error),
                    )
                    raise failure.error from failure.__cause__
                host.counters.retries += 1
                if failure.paused_host:
                    continue  # the host-wide pause is the wait
                if failure.retry_after_s is not None:
                    await self._sleep(min(failure.retry_after_s, MAX_RETRY_AFTER_S))
                else:
                    await self._sleep(self._backoff_s(host.policy, attempts))

    def _backoff_s(self, policy: HostPolicy, attempt: int) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^(n-1))]."""
        ceiling = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    # -- one attempt: admit → exchange → judge → settle ----------------------------------------

    async def _attempt(
        self,
        host: Host,
        method: str,
        url: str,
        target: URL,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        classify: Classify | None,
        decode: Decode,
    ) -> JsonResponse:
        is_probe = await self._admit(host)
        verdict: bool | None = None  # None: cancelled before the host answered anything
        try:
            raw = await self._exchange(host, method, target, data, headers)
            self._observe_rate(host, raw.status)
            try:
                response = self._judge(host, url, raw, classify, decode)
            except FetchError:
                verdict = True  # classify() rejected a deliberate answer: the host is alive
                raise
            verdict = True
            return response
        except _Retryable as failure:
            # a 429 is a live host asking us to slow down: AIMD and Retry-After handle it, so it
            # gives the breaker no verdict (a burst of 429s must not pause the host for minutes)
            verdict = None if failure.outcome == "rate_limited" else False
            self._on_failure(host, failure)
            raise
        finally:
            self._settle_breaker(host, is_probe, verdict)

    async def _admit(self, host: Host) -> bool:
        """Pass the breaker, take a token, hold a slot; True if this attempt is the probe."""
        host.queued += 1
        try:
            while True:
                is_probe = await host.breaker.enter(self._sleep)
                try:
                    await host.bucket.take(self._sleep)
                    await host.slots.acquire()
                except BaseException:
                    host.breaker.abandoned(is_probe)
                    raise
                if is_probe or host.breaker.state == "closed":
                    return is_probe
                host.slots.release()  # the circuit opened while we queued: wait for it again
        finally:
            host.queued -= 1

    async def _exchange(
        self,
        host: Host,
        method: str,
        target: URL,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> _Raw:
        """One HTTP exchange; releases the slot taken by ``_admit``."""
        host.counters.requests += 1
        started = self._clock()
        try:
            status, got, body = await self._wire.send(method, target, data, headers, host.timeout)
            raw = _Raw(status, got, body, self._clock() - started)
        except TimeoutError as exc:  # before ClientError: ServerTimeoutError is both
            message = f"no answer within {host.policy.timeout_s}s from {host.key}"
            raise _Retryable(TransportError(message, url=str(target)), "timeout") from exc
        except (aiohttp.ClientError, OSError) as exc:
            message = f"{type(exc).__name__} talking to {host.key}: {exc}"
            raise _Retryable(TransportError(message, url=str(target)), "transport") from exc
        finally:
            host.slots.release()
        host.counters.observe(raw.elapsed_s, len(raw.body))
        return raw

    def _judge(
        self, host: Host, url: str, raw: _Raw, classify: Classify | None, decode: Decode
    ) -> JsonResponse:
        """Turn an answer into a response, a retryable failure or a final error."""
        outcomes = host.counters.outcomes
        if classify is not None and (error := classify(raw.status, raw.headers, raw.body)):
            outcomes[outcome_of(error)] += 1
            error.url = error.url or url
            error.status = raw.status if error.status is None else error.status
            raise error
        status = raw.status
        if 200 <= status < 300:
            data = self._decode_ok(host, url, raw, decode)
            outcomes["ok"] += 1
            return JsonResponse(status, data, raw.body, raw.elapsed_s, url)
        if status in RETRYABLE_4XX or status >= 500:
            raise self._status_failure(host, url, raw)
        if 400 <= status < 500:
            outcomes["not_found" if status in NOT_FOUND else "http_4xx"] += 1
            return JsonResponse(status, lenient_data(raw.body), raw.body, raw.elapsed_s, url)
        outcomes["http_other"] += 1  # 1xx/3xx left after redirects: retrying will not help
        raise HttpStatusError(f"unexpected HTTP {status} from {host.key}", url=url, status=status)

    @staticmethod
    def _decode_ok(host: Host, url: str, raw: _Raw, decode: Decode) -> Any:
        if not raw.body.strip():
            return None
        if looks_like_html(raw.headers, raw.body):
            message = f"HTML page instead of JSON from {host.key} (block page or captcha?)"
            error: FetchError = BlockPageError(message, url=url, status=raw.status, body=raw.body)
            raise _Retryable(error, "block_page")
        try:
            return decode(raw.body)
        except Exception as exc:  # whatever a body makes the decoder do, it is one bad body
            message = f"invalid JSON from {host.key} ({len(raw.body)} bytes): {exc}"
            error = InvalidJsonError(message, url=url, status=raw.status, body=raw.body)
            raise _Retryable(error, "invalid_json") from exc

    @staticmethod
    def _status_failure(host: Host, url: str, raw: _Raw) -> _Retryable:
        status = raw.status
        retry_after = parse_retry_after(raw.headers.get("Retry-After"), time.time())
        if status == 429:
            message = f"HTTP 429 from {host.key}: rate limited"
            return _Retryable(
                RateLimitedError(message, url=url, status=status), "rate_limited", retry_after
            )
        if status == 403 and looks_like_html(raw.headers, raw.body):
            message = f"HTTP 403 HTML page from {host.key} (block page or captcha?)"
            block = BlockPageError(message, url=url, status=status, body=raw.body)
            return _Retryable(block, "block_page")
        error = HttpStatusError(f"HTTP {status} from {host.key}", url=url, status=status)
        outcome = "http_5xx" if status >= 500 else "http_4xx"
        return _Retryable(error, outcome, retry_after if status == 503 else None)

    def _on_failure(self, host: Host, failure: _Retryable) -> None:
        """Count the failure; honour a Retry-After of a 503, or of a 429 while the host limits
        us as a whole, by pausing the host.

        A 429 that is one of a few random ones (its window's share is under the threshold)
        delays only its own retry: pausing the whole host for each of them froze a scan at 5 %
        random 429s with Retry-After: 1 s, since at 100 req/s some 429 arrives every second.
        """
        host.counters.outcomes[failure.outcome] += 1
        now = self._clock()
        if failure.outcome == "rate_limited" and not host.controller.limiting(now):
            return
        if failure.retry_after_s is not None:
            failure.paused_host = True
            until = now + min(failure.retry_after_s, MAX_RETRY_AFTER_S)
            if host.bucket.paused_until <= now:
                log.warning("host_paused", host=host.key, pause_s=round(until - now, 3))
            host.bucket.paused_until = max(host.bucket.paused_until, until)

    def _observe_rate(self, host: Host, status: int) -> None:
        """Every answer, whatever its status, is a vote for the rate (429: slow down)."""
        change = host.observe_answer(self._clock(), limited=status == 429)
        if change == "lowered":
            log.warning(
                "host_rate_lowered",
                host=host.key,
                rate=host.bucket.rate,
                configured=host.policy.rps,
            )
        elif change == "recovered":
            log.info("host_rate_recovered", host=host.key, rate=host.bucket.rate)

    def _settle_breaker(self, host: Host, is_probe: bool, verdict: bool | None) -> None:
        if verdict is None:
            host.breaker.abandoned(is_probe)
        elif verdict:
            if host.breaker.succeeded():
                log.info("circuit_closed", host=host.key)
        elif host.breaker.failed(is_probe):
            host.counters.circuit_opens += 1
            log.warning(
                "circuit_opened",
                host=host.key,
                cooldown_s=host.breaker.cooldown_s,
                probe_failed=is_probe,
            )

    # -- bookkeeping -----------------------------------------------------------------------

    def _host(self, target: URL, platform: str | None) -> tuple[Host, Route | None]:
        if target.host is None:
            raise ValueError(f"not an absolute URL: {target}")
        authority = f"{target.host}:{target.port}"
        if (found := self._resolved.get((platform, authority))) is not None:
            return found
        policy, route = self._resolve(platform, authority)
        key = authority
        if route is not None and self._declared_by(authority) > 1:
            key = f"{platform}@{authority}"  # a shared origin: see the class docstring
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = Host(key, policy, self._clock, self._controller)
            self._origins[key] = (platform, authority)
        self._resolved[(platform, authority)] = (host, route)
        return host, route

    def _resolve(self, platform: str | None, authority: str) -> tuple[HostPolicy, Route | None]:
        """The policy for `authority` (and `platform`'s route to it, if it declares one)."""
        if platform is not None and (route := _lookup(self._routes.get(platform), authority)):
            return route.policy, route
        return self._policy_for(authority), None

    def _policy_for(self, key: str) -> HostPolicy:
        """The policy of a host reached without a platform (by ``host:port`` or bare host)."""
        return _lookup(self._policies, key) or self._default

    def _declared_by(self, authority: str) -> int:
        """How many platforms declare a route to `authority`."""
        return sum(_lookup(routes, authority) is not None for routes in self._routes.values())


class PlatformFetcher:
    """The shared `Fetcher` as one platform uses it (see `Fetcher.for_platform`)."""

    def __init__(self, fetcher: Fetcher, platform: str) -> None:
        self._fetcher = fetcher
        self.platform = platform

    async def get_json(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
        decode: Decode | None = None,
    ) -> JsonResponse:
        return await self._fetcher.get_json(
            url, headers=headers, classify=classify, platform=self.platform, decode=decode
        )

    async def post_json(
        self,
        url: str,
        body: object,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
    ) -> JsonResponse:
        return await self._fetcher.post_json(
            url, body, headers=headers, classify=classify, platform=self.platform
        )


def _lookup(table: Mapping[str, _T] | None, authority: str) -> _T | None:
    """`table`'s entry for ``host:port``, else for the bare host."""
    if table is None:
        return None
    return table.get(authority) or table.get(authority.rsplit(":", 1)[0])
