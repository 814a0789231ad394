"""The polite HTTP fetcher shared by every scanner.

One :class:`Fetcher` owns one aiohttp session and, per upstream host (URL authority
``host:port``), a circuit breaker, a token-bucket rate limit whose rate follows the host's share
of HTTP 429s (:mod:`marketplaced.ratecontrol`), a resizable concurrency limit and O(1) counters
for the dashboard and Prometheus. Scanners ask for JSON (:meth:`Fetcher.get_json`,
:meth:`Fetcher.post_json`) and get a :class:`JsonResponse`, or a
:class:`~marketplaced.errors.FetchError` subclass once retries are spent. The daemon swaps
policies live on SIGHUP with :meth:`Fetcher.update_policies`.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime
import email.utils
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Final, Literal, Protocol, Self, TypeVar

import aiohttp
import orjson
import structlog
from yarl import URL

from marketplaced.errors import (
    BlockPageError,
    ConfigError,
    FetchError,
    HttpStatusError,
    InvalidJsonError,
    RateLimitedError,
    TransportError,
)
from marketplaced.ratecontrol import Change, ControllerFactory, RateController, RateRule

log = structlog.get_logger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
#: ``classify(status, headers, body)``: return an error to raise it at once (no retry), else None.
Classify = Callable[[int, Mapping[str, str], bytes], FetchError | None]
_T = TypeVar("_T")
BreakerState = Literal["closed", "open", "half_open"]

#: Uzum wants a browser-like client; UZEX answers HTTP 500 to a missing/non-browser User-Agent.
DEFAULT_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "User-Agent": (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36"
        ),
        "Accept": "application/json",
        "Accept-Language": "ru-RU,ru;q=0.9",
    }
)

#: Every outcome an attempt is counted under (keys of ``HostStats.outcomes``).
OUTCOMES: Final = (
    "ok",
    "not_found",
    "http_4xx",
    "http_5xx",
    "http_other",
    "rate_limited",
    "timeout",
    "transport",
    "block_page",
    "invalid_json",
    "blocked_by_upstream",
)
#: Prometheus' default histogram buckets (seconds): they span LAN simulator to slow upstream.
LATENCY_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: A circuit that keeps failing its probe backs off to at most 10 minutes: a dead host is still
#: noticed when it comes back within one dashboard glance.
BREAKER_MAX_COOLDOWN_S: Final = 600.0
#: Cap on a Retry-After pause: a bogus "come back tomorrow" must not freeze a scanner silently;
#: after 10 minutes we ask again (and get paused again if the host meant it).
MAX_RETRY_AFTER_S: Final = 600.0
#: The head waiter of a token bucket re-reads rate and pause at least this often, so a live
#: rate change (SIGHUP) takes effect within a quarter second even at a very low rate.
TOKEN_WAIT_SLICE_S: Final = 0.25
#: DNS answers are cached 5 minutes: thousands of requests per second must not each resolve,
#: yet a moved host is followed within minutes.
DNS_CACHE_TTL_S: Final = 300
#: Idle keep-alive connections live 30 s: longer than any gap in a running scan, shorter than
#: typical server-side keep-alive (nginx: 75 s) so we rarely reuse a connection the peer closed.
KEEPALIVE_S: Final = 30.0
#: 4xx answers that mean "try again later" rather than "no such thing".
RETRYABLE_4XX: Final = frozenset({403, 408, 429})
NOT_FOUND: Final = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """How politely one upstream host is treated. Defaults suit UZEX; Uzum gets its own."""

    #: requests per second; 0 = unlimited (local simulator). 2 rps is UZEX's polite default.
    rps: float = 2.0
    #: simultaneous requests; a little above rps x typical latency so slow answers don't starve.
    concurrency: int = 4
    #: whole-exchange timeout; long enough for a 100-row UZEX page, short enough that a hung
    #: connection does not hold a concurrency slot for minutes.
    timeout_s: float = 20.0
    #: retries after the first attempt: 5 attempts ride out a short blip without hiding an outage.
    max_retries: int = 4
    #: full-jitter exponential backoff: 0.5 s, 1 s, 2 s, … spreads retries of a burst apart.
    backoff_base_s: float = 0.5
    #: never wait longer than this between two attempts of one request.
    backoff_max_s: float = 30.0
    #: consecutive failed attempts that open the circuit (0 = no breaker); 10 is far above the
    #: noise of a healthy host yet stops a dead one after a few seconds of scanning.
    breaker_failures: int = 10
    #: first open period; doubles on every failed probe up to BREAKER_MAX_COOLDOWN_S.
    breaker_cooldown_s: float = 30.0
    #: rate floor: never slower than one request per 5 s, so recovery is still observed.
    min_rps: float = 0.2
    #: the 429 share is judged over windows this long; the rate changes at most once per window.
    #: 10 s holds ~1,000 answers at Uzum's 100 rps (a share is exact) and 20 at UZEX's 2 rps.
    rate_window_s: float = 10.0
    #: cut the rate when more than this percentage of a window's answers are 429: well above
    #: the few percent of random 429s a busy API sends, well below what a real limit sends
    #: (a client at twice the allowed rate sees 50 %).
    rate_limited_pct: float = 10.0
    #: after a window below the threshold the rate is multiplied by this: a host that calmed
    #: down is back at its configured rate within minutes (x1.5 per window: x500 in 2.5 min)
    rate_recover_factor: float = 1.5

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    def problems(self) -> list[str]:
        """Say what is wrong with these values, one message per bad field."""
        checks = [
            ("rps", self.rps >= 0, ">= 0 (0 = unlimited)"),
            ("concurrency", self.concurrency >= 1, ">= 1"),
            ("timeout_s", self.timeout_s > 0, "> 0"),
            ("max_retries", self.max_retries >= 0, ">= 0"),
            ("backoff_base_s", self.backoff_base_s >= 0, ">= 0"),
            ("backoff_max_s", self.backoff_max_s >= self.backoff_base_s, ">= backoff_base_s"),
            ("breaker_failures", self.breaker_failures >= 0, ">= 0 (0 = no breaker)"),
            ("breaker_cooldown_s", self.breaker_cooldown_s > 0, "> 0"),
            ("min_rps", self.min_rps > 0, "> 0"),
            ("rate_window_s", self.rate_window_s > 0, "> 0"),
            ("rate_limited_pct", 0 <= self.rate_limited_pct < 100, "in [0, 100)"),
            ("rate_recover_factor", self.rate_recover_factor > 1, "> 1"),
        ]
        return [
            f"{name} must be {rule}, got {getattr(self, name)!r}"
            for name, ok, rule in checks
            if not ok
        ]

    def rate_rule(self) -> RateRule:
        return RateRule(
            target=self.rps,
            floor=self.min_rps,
            window_s=self.rate_window_s,
            limited_share=self.rate_limited_pct / 100,
            recover_factor=self.rate_recover_factor,
        )


@dataclass(frozen=True, slots=True)
class JsonResponse:
    """A response the caller gets to judge (2xx, or a 4xx such as 404)."""

    status: int
    #: decoded JSON; None for an empty body (or an undecodable 4xx body)
    data: Any
    #: raw bytes as received, for the raw archive
    body: bytes
    #: duration of the exchange that produced this response (queueing and retries excluded)
    elapsed_s: float
    url: str


@dataclass(frozen=True, slots=True)
class HostStats:
    """A snapshot of one host's counters and limiter state (for the dashboard and metrics)."""

    host: str
    #: HTTP exchanges attempted (retries included)
    requests: int
    #: attempts by outcome (see OUTCOMES)
    outcomes: Mapping[str, int]
    retries: int
    bytes_received: int
    latency_sum_s: float
    latency_count: int
    #: cumulative Prometheus buckets: (le, count), the last one with le = +inf
    latency_buckets: tuple[tuple[float, int], ...]
    rate_current: float
    rate_configured: float
    concurrency: int
    in_flight: int
    #: requests waiting for the breaker, a token or a slot
    queued: int
    breaker_state: BreakerState
    circuit_opens: int
    #: seconds left of a Retry-After pause (0 when not paused)
    paused_for_s: float


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date), else None."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown origin
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - now_epoch)


def decode_json(body: bytes) -> Any:
    """Decode a JSON body leniently: bad UTF-8 is replaced, raw control characters are allowed
    (Uzum descriptions contain them), a UTF-8 BOM is skipped. Raises ValueError, and only that:
    a stranger's body must never raise anything a caller does not expect."""
    try:
        # orjson first: decoding is the hottest step of a scan (≈ 3× faster than json on a big
        # product), but it is strict (RFC 8259), so the rare body with raw control characters,
        # bad UTF-8 or a BOM takes the lenient path below
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text, strict=False)
    except RecursionError:
        # orjson refuses more than 1,024 levels and the stdlib decoder recurses per level: a
        # body nested that deep (no real payload is) is undecodable, not a crash of the caller
        raise ValueError("JSON nested too deep to decode") from None


def _looks_like_html(headers: Mapping[str, str], body: bytes) -> bool:
    content_type = headers.get("Content-Type", "").lower()
    return "text/html" in content_type or body.lstrip()[:1] == b"<"


def _lenient_data(body: bytes) -> Any:
    """JSON of a 4xx body when there is one; such bodies are often HTML, which is fine here."""
    if not body.strip():
        return None
    try:
        return decode_json(body)
    except ValueError:
        return None


def _outcome_of(error: FetchError) -> str:
    """The stats outcome of an error returned by a ``classify`` callback."""
    if error.kind in OUTCOMES:
        return error.kind
    if error.status is not None and error.status >= 500:
        return "http_5xx"
    return "http_4xx"


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


class _Counters:
    """Per-host counters: fixed size, O(1) per attempt."""

    __slots__ = (
        "buckets",
        "bytes_received",
        "circuit_opens",
        "latency_count",
        "latency_sum_s",
        "outcomes",
        "requests",
        "retries",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.retries = 0
        self.bytes_received = 0
        self.latency_sum_s = 0.0
        self.latency_count = 0
        self.circuit_opens = 0
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.buckets = [0] * (len(LATENCY_BUCKETS_S) + 1)

    def observe(self, elapsed_s: float, size: int) -> None:
        self.bytes_received += size
        self.latency_sum_s += elapsed_s
        self.latency_count += 1
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS_S, elapsed_s)] += 1

    def cumulative_buckets(self) -> tuple[tuple[float, int], ...]:
        total = 0
        out = []
        for bound, count in zip((*LATENCY_BUCKETS_S, float("inf")), self.buckets, strict=True):
            total += count
            out.append((bound, total))
        return tuple(out)


class _TokenBucket:
    """Rate limit plus Retry-After pause. Taking an available token never awaits; waiters queue
    FIFO behind one lock so only the head sleeps (no thundering herd at thousands of req/s)."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self._clock = clock
        self._lock = asyncio.Lock()
        self.rate = rate
        self.burst = max(1.0, rate)  # ≈ one second of requests, and at least one
        self.tokens = 1.0  # start nearly empty: no burst against a host right after start-up
        self.updated = clock()
        self.paused_until = 0.0

    def set_rate(self, rate: float) -> None:
        self._refill(self._clock())
        self.rate = rate
        self.burst = max(1.0, rate)
        self.tokens = min(self.tokens, self.burst)

    def _refill(self, now: float) -> None:
        if self.rate > 0:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def _take_or_wait_s(self, now: float) -> float:
        """Take a token and return 0, or return how long to wait before asking again."""
        if self.paused_until > now:
            return self.paused_until - now
        if self.rate <= 0:
            return 0.0
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def take(self, sleep: Sleep) -> None:
        if not self._lock.locked() and self._take_or_wait_s(self._clock()) == 0.0:
            return
        async with self._lock:
            while (wait := self._take_or_wait_s(self._clock())) > 0:
                await sleep(min(wait, TOKEN_WAIT_SLICE_S))


class _Slots:
    """A concurrency limit that can be resized while requests are in flight (SIGHUP)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.in_use < self.limit and not self._waiters:
            self.in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted just before the cancellation landed: hand it on
            raise

    def release(self) -> None:
        self.in_use -= 1
        self._wake()

    def resize(self, limit: int) -> None:
        self.limit = limit
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_use < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():  # cancelled waiters are skipped
                waiter.set_result(None)
                self.in_use += 1


class _Breaker:
    """Consecutive-failure circuit breaker that waits (rather than fails) while open."""

    def __init__(self, policy: HostPolicy, clock: Clock) -> None:
        self._clock = clock
        self.policy = policy
        self.state: BreakerState = "closed"
        self.failures = 0
        self.cooldown_s = policy.breaker_cooldown_s
        self.open_until = 0.0
        self._probe_done = asyncio.Event()

    async def enter(self, sleep: Sleep) -> bool:
        """Wait until a request may go; True if it is the single half-open probe."""
        while self.state != "closed":
            if self.state == "half_open":
                await self._probe_done.wait()
                continue
            wait = self.open_until - self._clock()
            if wait > 0:
                await sleep(wait)
                continue
            self.state = "half_open"
            self._probe_done = asyncio.Event()
            return True
        return False

    def succeeded(self) -> bool:
        """Record a success; True if that closed the circuit."""
        self.failures = 0
        if self.state == "closed":
            return False
        self.state = "closed"
        self.cooldown_s = self.policy.breaker_cooldown_s
        self._probe_done.set()
        return True

    def failed(self, is_probe: bool) -> bool:
        """Record a failure; True if that opened the circuit."""
        if is_probe and self.state == "half_open":
            self.cooldown_s = min(self.cooldown_s * 2, BREAKER_MAX_COOLDOWN_S)
            self._open()
            return True
        if self.state != "closed":
            return False  # a straggler sent before the circuit opened
        self.failures += 1
        if 0 < self.policy.breaker_failures <= self.failures:
            self._open()
            return True
        return False

    def abandoned(self, is_probe: bool) -> None:
        """The probe was cancelled without a verdict: let the next waiter probe at once."""
        if is_probe and self.state == "half_open":
            self.state = "open"
            self.open_until = self._clock()
            self._probe_done.set()

    def _open(self) -> None:
        self.state = "open"
        self.open_until = self._clock() + self.cooldown_s
        self._probe_done.set()


class _Host:
    """Everything the fetcher keeps for one upstream authority."""

    def __init__(
        self, key: str, policy: HostPolicy, clock: Clock, controller: ControllerFactory
    ) -> None:
        self.key = key
        self.policy = policy
        self.timeout = aiohttp.ClientTimeout(total=policy.timeout_s)
        self.bucket = _TokenBucket(policy.rps, clock)
        self.slots = _Slots(policy.concurrency)
        self.breaker = _Breaker(policy, clock)
        self.counters = _Counters()
        self.queued = 0
        self._clock = clock
        self.controller = controller(policy.rate_rule(), clock())

    def apply(self, policy: HostPolicy) -> None:
        old, self.policy = self.policy, policy
        self.timeout = aiohttp.ClientTimeout(total=policy.timeout_s)
        self.slots.resize(policy.concurrency)
        self.breaker.policy = policy
        self.controller.retarget(policy.rate_rule(), self._clock())
        if policy.rps != old.rps:  # a new configured rate replaces any lowered one
            self.bucket.set_rate(policy.rps)

    def observe_answer(self, now: float, *, limited: bool) -> Change | None:
        """Feed one HTTP answer to the rate controller; apply a changed rate to the bucket."""
        change = self.controller.observe(now, limited=limited)
        if change is not None:
            self.bucket.set_rate(self.controller.rate)
        return change

    def snapshot(self, now: float) -> HostStats:
        c = self.counters
        return HostStats(
            host=self.key,
            requests=c.requests,
            outcomes=dict(c.outcomes),
            retries=c.retries,
            bytes_received=c.bytes_received,
            latency_sum_s=c.latency_sum_s,
            latency_count=c.latency_count,
            latency_buckets=c.cumulative_buckets(),
            rate_current=self.bucket.rate,
            rate_configured=self.policy.rps,
            concurrency=self.slots.limit,
            in_flight=self.slots.in_use,
            queued=self.queued,
            breaker_state=self.breaker.state,
            circuit_opens=c.circuit_opens,
            paused_for_s=max(0.0, self.bucket.paused_until - now),
        )


@dataclass(frozen=True, slots=True)
class Route:
    """How one platform reaches one host: how politely, and the headers its requests carry.

    Headers belong to the route, not to the fetcher's session, so one platform's User-Agent,
    Origin or Referer never rides along on another platform's requests.
    """

    policy: HostPolicy
    headers: Mapping[str, str] = field(default_factory=dict)


#: platform name → host key (``host:port`` or bare ``host``) → its route
Routes = Mapping[str, Mapping[str, Route]]


class JsonFetcher(Protocol):
    """What a scanner needs of the fetcher: the shared `Fetcher` or one platform's view of it."""

    async def get_json(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
    ) -> JsonResponse: ...

    async def post_json(
        self,
        url: str,
        body: object,
        *,
        headers: Mapping[str, str] | None = None,
        classify: Classify | None = None,
    ) -> JsonResponse: ...


class Fetcher:
    """Polite JSON fetcher: one aiohttp session, per-host limits, retries and breaker.

    Use as ``async with Fetcher(policy, {"api.uzum.uz": uzum_policy}) as fetcher: ...``.
    Policy keys are ``host:port`` or bare ``host``; unknown hosts get the default policy.

    The daemon builds it from every platform's `routes` instead, and hands each platform
    `for_platform(name)`: that platform's requests get its route's policy and headers. When
    several platforms declare the same host (the simulator serves every platform from one
    origin), each keeps its own limits, breaker and counters there, keyed
    ``<platform>@host:port``: one platform's rate, backoff or headers never decide another's
    requests, as they would not against the real, separate hosts. A host only one platform
    declares keeps the plain ``host:port`` key (the dashboard's and metrics' host name).
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
    ) -> None:
        self._default = default_policy
        self._policies = dict(policies or {})
        self._routes: Routes = dict(routes or {})
        self._headers = dict(
            DEFAULT_HEADERS if headers is None and routes is None else headers or {}
        )
        #: host key → (platform or None, ``host:port``): what the key was resolved from
        self._origins: dict[str, tuple[str | None, str]] = {}
        self._clock = clock
        self._sleep = sleep
        self._controller = controller
        self._rng = random.Random()
        self._hosts: dict[str, _Host] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(
            # Unlimited here: the per-host slots are the real limit and, unlike the connector's,
            # they can be resized live; a fixed pool would silently cap a raised concurrency.
            limit=0,
            ttl_dns_cache=DNS_CACHE_TTL_S,
            keepalive_timeout=KEEPALIVE_S,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            # Public APIs need no cookies; a shared jar would leak state between platforms.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

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
    ) -> JsonResponse:
        """GET ``url`` politely; see the module docstring for what is retried and raised."""
        return await self._fetch("GET", url, None, headers, classify, platform)

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
    ) -> JsonResponse:
        target = URL(url)
        host, route = self._host(target, platform)
        if route is not None and route.headers:
            headers = {**route.headers, **(headers or {})}
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._attempt(host, method, target, data, headers, classify)
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
        host: _Host,
        method: str,
        target: URL,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        classify: Classify | None,
    ) -> JsonResponse:
        is_probe = await self._admit(host)
        verdict: bool | None = None  # None: cancelled before the host answered anything
        try:
            raw = await self._exchange(host, method, target, data, headers)
            self._observe_rate(host, raw.status)
            try:
                response = self._judge(host, str(target), raw, classify)
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

    async def _admit(self, host: _Host) -> bool:
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
        host: _Host,
        method: str,
        target: URL,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> _Raw:
        """One HTTP exchange; releases the slot taken by ``_admit``."""
        host.counters.requests += 1
        started = self._clock()
        try:
            session = self._require_session()
            async with session.request(
                method, target, data=data, headers=headers, timeout=host.timeout
            ) as resp:
                body = await resp.read()
                raw = _Raw(resp.status, resp.headers, body, self._clock() - started)
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

    def _judge(self, host: _Host, url: str, raw: _Raw, classify: Classify | None) -> JsonResponse:
        """Turn an answer into a response, a retryable failure or a final error."""
        outcomes = host.counters.outcomes
        if classify is not None and (error := classify(raw.status, raw.headers, raw.body)):
            outcomes[_outcome_of(error)] += 1
            error.url = error.url or url
            error.status = raw.status if error.status is None else error.status
            raise error
        status = raw.status
        if 200 <= status < 300:
            data = self._decode_ok(host, url, raw)
            outcomes["ok"] += 1
            return JsonResponse(status, data, raw.body, raw.elapsed_s, url)
        if status in RETRYABLE_4XX or status >= 500:
            raise self._status_failure(host, url, raw)
        if 400 <= status < 500:
            outcomes["not_found" if status in NOT_FOUND else "http_4xx"] += 1
            return JsonResponse(status, _lenient_data(raw.body), raw.body, raw.elapsed_s, url)
        outcomes["http_other"] += 1  # 1xx/3xx left after redirects: retrying will not help
        raise HttpStatusError(f"unexpected HTTP {status} from {host.key}", url=url, status=status)

    @staticmethod
    def _decode_ok(host: _Host, url: str, raw: _Raw) -> Any:
        if not raw.body.strip():
            return None
        if _looks_like_html(raw.headers, raw.body):
            message = f"HTML page instead of JSON from {host.key} (block page or captcha?)"
            error: FetchError = BlockPageError(message, url=url, status=raw.status, body=raw.body)
            raise _Retryable(error, "block_page")
        try:
            return decode_json(raw.body)
        except Exception as exc:  # whatever a body makes the decoder do, it is one bad body
            message = f"invalid JSON from {host.key} ({len(raw.body)} bytes): {exc}"
            error = InvalidJsonError(message, url=url, status=raw.status, body=raw.body)
            raise _Retryable(error, "invalid_json") from exc

    @staticmethod
    def _status_failure(host: _Host, url: str, raw: _Raw) -> _Retryable:
        status = raw.status
        retry_after = parse_retry_after(raw.headers.get("Retry-After"), time.time())
        if status == 429:
            message = f"HTTP 429 from {host.key}: rate limited"
            return _Retryable(
                RateLimitedError(message, url=url, status=status), "rate_limited", retry_after
            )
        if status == 403 and _looks_like_html(raw.headers, raw.body):
            message = f"HTTP 403 HTML page from {host.key} (block page or captcha?)"
            block = BlockPageError(message, url=url, status=status, body=raw.body)
            return _Retryable(block, "block_page")
        error = HttpStatusError(f"HTTP {status} from {host.key}", url=url, status=status)
        outcome = "http_5xx" if status >= 500 else "http_4xx"
        return _Retryable(error, outcome, retry_after if status == 503 else None)

    def _on_failure(self, host: _Host, failure: _Retryable) -> None:
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

    def _observe_rate(self, host: _Host, status: int) -> None:
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

    def _settle_breaker(self, host: _Host, is_probe: bool, verdict: bool | None) -> None:
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

    def _host(self, target: URL, platform: str | None) -> tuple[_Host, Route | None]:
        if target.host is None:
            raise ValueError(f"not an absolute URL: {target}")
        authority = f"{target.host}:{target.port}"
        policy, route = self._resolve(platform, authority)
        key = authority
        if route is not None and self._declared_by(authority) > 1:
            key = f"{platform}@{authority}"  # a shared origin: see the class docstring
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(key, policy, self._clock, self._controller)
            self._origins[key] = (platform, authority)
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

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        return self._session


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
    ) -> JsonResponse:
        return await self._fetcher.get_json(
            url, headers=headers, classify=classify, platform=self.platform
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
