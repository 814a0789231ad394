"""Switchable upstream faults for the simulator: what can go wrong, how often, and for which ids.

A ``FaultProfile`` is an immutable description (parsed from a compact spec such as
``"429=0.02,500=0.01;html@100-120;reset@200-210*1"`` or a preset name); a ``FaultInjector`` owns
the mutable side: it decides per request which fault to inject and counts what it did. Decisions
are hashes of (seed, key, number of faults this key already got), so a run is repeatable whatever
the request order, a retry of a faulted id rolls again (and usually succeeds), and memory grows
only with the ids that actually got a fault. Renderers for the platform-independent fault bodies
live here too, so every simulated upstream fails the same way.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

from aiohttp import web

from marketplaced.simulator.rng import mix64, stable_hash, unit

FaultKind = Literal[
    "429",
    "429noretry",
    "403",
    "500",
    "502",
    "503",
    "slow",
    "reset",
    "truncated",
    "html",
    "empty",
    "ctrlchars",
    "badshape",
    "deepnest",
    "negprice",
    "strprice",
]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)

#: how the upstream may say "no product at this id" (the real answer was never recorded)
MissingForm = Literal["404", "empty", "payload_null", "data_null", "no_title", "errors_key"]
MISSING_FORMS: Final[tuple[MissingForm, ...]] = get_args(MissingForm)

#: mostly plain 404s, but every form turns up often enough for a scan to meet all of them
DEFAULT_MISSING_MIX: Final[tuple[tuple[MissingForm, float], ...]] = (
    ("404", 0.5),
    ("empty", 0.1),
    ("payload_null", 0.1),
    ("data_null", 0.1),
    ("no_title", 0.1),
    ("errors_key", 0.1),
)

#: nesting of a "deepnest" body: past orjson's 1,024 levels and the stdlib decoder's recursion
DEEPNEST_LEVELS: Final = 3000

#: default duration of a "slow" response: long enough to trip a tight client timeout
DEFAULT_SLOW_S: Final = 2.0

_SALT_FAULT: Final = 101
_SALT_MISSING: Final = 102

_RULE_RE: Final = re.compile(
    r"^(?P<kind>[\w]+)@(?P<first>\d+)(?:-(?P<last>\d+))?(?:\*(?P<n>\d+))?$"
)


@dataclass(frozen=True, slots=True)
class RangeRule:
    """Every request for an id in [first, last] gets ``kind`` (only the first ``times``
    requests per id when ``times`` is set, after which the id heals)."""

    kind: FaultKind
    first: int
    last: int
    times: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.first > self.last:
            raise ValueError(f"empty id range {self.first}-{self.last}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"*N must be at least 1, got {self.times}")

    def spec(self) -> str:
        span = f"{self.first}" if self.first == self.last else f"{self.first}-{self.last}"
        return f"{self.kind}@{span}" + ("" if self.times is None else f"*{self.times}")


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """What goes wrong and how often. Build one with ``parse`` or ``preset``."""

    #: per-request probability of each fault kind (they add up to at most 1)
    rates: tuple[tuple[FaultKind, float], ...] = ()
    rules: tuple[RangeRule, ...] = ()
    slow_s: float = DEFAULT_SLOW_S
    #: relative weights of the answers for ids without a product
    missing_mix: tuple[tuple[MissingForm, float], ...] = DEFAULT_MISSING_MIX
    seed: int = 0
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for kind, rate in self.rates:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"probability of {kind} must be in [0, 1], got {rate}")
        if sum(rate for _, rate in self.rates) > 1.0 + 1e-9:
            raise ValueError("fault probabilities add up to more than 1")
        if self.slow_s < 0:
            raise ValueError(f"slow_s must not be negative, got {self.slow_s}")
        if any(form not in MISSING_FORMS or w < 0 for form, w in self.missing_mix):
            raise ValueError(f"bad missing mix {self.missing_mix!r}")
        if sum(w for _, w in self.missing_mix) <= 0:
            raise ValueError("the missing mix needs at least one positive weight")

    def rate(self, kind: FaultKind) -> float:
        return sum(r for k, r in self.rates if k == kind)

    def spec(self) -> str:
        """The profile as a spec string that ``parse`` turns back into an equal profile."""
        tokens = [f"{kind}={rate:g}" for kind, rate in self.rates]
        tokens += [rule.spec() for rule in self.rules]
        if self.slow_s != DEFAULT_SLOW_S:
            tokens.append(f"slow_s={self.slow_s:g}")
        if self.missing_mix != DEFAULT_MISSING_MIX:
            tokens.append("missing=" + "/".join(f"{f}:{w:g}" for f, w in self.missing_mix))
        if self.seed:
            tokens.append(f"seed={self.seed}")
        return ",".join(tokens) or "none"

    @classmethod
    def preset(cls, name: str) -> FaultProfile:
        """``none`` (no faults), ``mild`` (a flaky but friendly upstream) or ``hostile``."""
        try:
            rates = _PRESETS[name]
        except KeyError:
            raise ValueError(
                f"unknown fault preset {name!r} (known: {', '.join(_PRESETS)})"
            ) from None
        return cls(rates=rates, name=name)

    @classmethod
    def parse(cls, spec: str) -> FaultProfile:
        """Parse ``"429=0.02,500=0.01,slow=0.001;html@100-120;reset@200-210*1"``.

        Tokens are separated by ``,`` or ``;``: ``kind=probability``, ``kind@A-B`` or
        ``kind@A-B*N`` (also ``kind@A``), a preset name (merged in), ``slow_s=seconds``,
        ``seed=N`` and ``missing=404:5/empty:1/...`` (weights). Raises ValueError naming the
        bad token.
        """
        rates: dict[FaultKind, float] = {}
        rules: list[RangeRule] = []
        options: dict[str, Any] = {}
        for raw in re.split(r"[,;]", spec):
            token = raw.strip()
            if not token:
                continue
            try:
                _parse_token(token, rates, rules, options)
            except ValueError as exc:
                raise ValueError(f"bad fault spec token {token!r}: {exc}") from None
        profile = cls(rates=tuple(rates.items()), rules=tuple(rules), **options)
        return replace(profile, name=spec.strip() or "none")


def _parse_token(
    token: str, rates: dict[FaultKind, float], rules: list[RangeRule], options: dict[str, Any]
) -> None:
    if token in _PRESETS:
        rates.update(_PRESETS[token])
        return
    if "@" in token:
        match = _RULE_RE.match(token)
        if match is None:
            raise ValueError("expected kind@A-B or kind@A-B*N")
        kind = _kind(match["kind"])
        first = int(match["first"])
        last = int(match["last"]) if match["last"] else first
        times = int(match["n"]) if match["n"] else None
        rules.append(RangeRule(kind, first, last, times))
        return
    key, sep, value = token.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not value:
        raise ValueError("expected kind=probability, kind@A-B[*N], a preset or an option")
    if key == "slow_s":
        options["slow_s"] = _number(value)
        if options["slow_s"] < 0:
            raise ValueError("slow_s must not be negative")
    elif key == "seed":
        options["seed"] = int(value)
    elif key == "missing":
        options["missing_mix"] = _missing_mix(value)
    else:
        rate = _number(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {value}")
        rates[_kind(key)] = rate


def _kind(text: str) -> FaultKind:
    for kind in FAULT_KINDS:
        if kind == text:
            return kind
    raise ValueError(f"unknown fault kind {text!r} (known: {', '.join(FAULT_KINDS)})")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


def _missing_mix(text: str) -> tuple[tuple[MissingForm, float], ...]:
    mix: list[tuple[MissingForm, float]] = []
    for part in text.split("/"):
        form_text, _, weight = part.partition(":")
        form = next((f for f in MISSING_FORMS if f == form_text.strip()), None)
        if form is None:
            raise ValueError(
                f"unknown missing form {form_text!r} (known: {', '.join(MISSING_FORMS)})"
            )
        mix.append((form, _number(weight or "1")))
    return tuple(mix)


_PRESETS: Final[Mapping[str, tuple[tuple[FaultKind, float], ...]]] = MappingProxyType(
    {
        "none": (),
        # a healthy upstream on a bad day: the odd throttle, 5xx, hang-up or broken description
        "mild": (
            ("429", 0.01),
            ("500", 0.005),
            ("502", 0.002),
            ("503", 0.002),
            ("slow", 0.001),
            ("reset", 0.001),
            ("ctrlchars", 0.002),
        ),
        # everything at once, about one request in five fails: the retry and dead-letter paths
        # must carry the scan
        "hostile": (
            ("429", 0.05),
            ("429noretry", 0.01),
            ("403", 0.01),
            ("500", 0.03),
            ("502", 0.02),
            ("503", 0.02),
            ("slow", 0.005),
            ("reset", 0.02),
            ("truncated", 0.01),
            ("html", 0.02),
            ("empty", 0.01),
            ("ctrlchars", 0.01),
        ),
    }
)


class FaultInjector:
    """Decides which fault each request gets under a profile, and counts what it did."""

    def __init__(self, profile: FaultProfile | None = None) -> None:
        self._profile = profile or FaultProfile()
        self._key = stable_hash(self._profile.seed, _SALT_FAULT)
        #: faults injected, by kind
        self.injected: Counter[str] = Counter()
        #: requests per key, kept only for keys that had at least one fault
        self.requests_by_faulted_key: Counter[int] = Counter()
        self._random_faults: Counter[int] = Counter()
        self._rule_hits: Counter[tuple[int, int]] = Counter()

    @property
    def profile(self) -> FaultProfile:
        return self._profile

    @profile.setter
    def profile(self, profile: FaultProfile) -> None:
        self._profile = profile
        self._key = stable_hash(profile.seed, _SALT_FAULT)
        self._rule_hits.clear()  # rule numbers refer to the old profile

    def decide(self, key: int, *, ranged: bool = True) -> FaultKind | None:
        """The fault for this request of ``key`` (None: answer normally). ``ranged=False``
        skips the id-range rules (for keys that are not product ids)."""
        kind = self._ranged(key) if ranged else None
        if kind is None and self._profile.rates:
            kind = self._random(key)
        if kind is not None:
            self.injected[kind] += 1
            self.requests_by_faulted_key[key] += 1
        elif key in self.requests_by_faulted_key:
            self.requests_by_faulted_key[key] += 1
        return kind

    def _ranged(self, key: int) -> FaultKind | None:
        for index, rule in enumerate(self._profile.rules):
            if not rule.first <= key <= rule.last:
                continue
            if rule.times is None:
                return rule.kind
            used = self._rule_hits[index, key]
            if used < rule.times:
                self._rule_hits[index, key] = used + 1
                return rule.kind
        return None

    def _random(self, key: int) -> FaultKind | None:
        attempt = self._random_faults[key]  # rolls again once this key got a fault
        u = unit(mix64(mix64(self._key + key) + attempt))
        edge = 0.0
        for kind, rate in self._profile.rates:
            edge += rate
            if u < edge:
                self._random_faults[key] = attempt + 1
                return kind
        return None

    def missing_form(self, key: int) -> MissingForm:
        """How the upstream answers for a missing id: fixed per (seed, id)."""
        mix = self._profile.missing_mix
        u = unit(stable_hash(self._profile.seed, _SALT_MISSING, key)) * sum(w for _, w in mix)
        for form, weight in mix:
            u -= weight
            if u < 0:
                return form
        return mix[-1][0]

    def stats(self) -> dict[str, Any]:
        return {
            "profile": self._profile.spec(),
            "injected": dict(self.injected),
            "faulted_keys": len(self.requests_by_faulted_key),
            "most_faulted": self.requests_by_faulted_key.most_common(10),
        }


# --------------------------------------------------------------------------------------------
# responses for the platform-independent faults

_BLOCK_PAGE: Final = (
    "<!DOCTYPE html><html><head><title>Проверка браузера</title></head><body>"
    "<h1>Подтвердите, что вы не робот</h1><form method='post' action='/captcha'>"
    "<div class='captcha' data-sitekey='sim'></div></form></body></html>"
)
_NGINX_PAGE: Final = (
    "<html><head><title>{code} {reason}</title></head><body><center><h1>{code} {reason}</h1>"
    "</center><hr><center>nginx</center></body></html>"
)


def _nginx(status: int, reason: str) -> web.Response:
    body = _NGINX_PAGE.format(code=status, reason=reason)
    return web.Response(status=status, text=body, content_type="text/html")


def _json_error(status: int, error: str, path: str) -> web.Response:
    body = f'{{"status":{status},"error":"{error}","path":"{path}"}}'
    return web.Response(status=status, text=body, content_type="application/json")


async def fault_response(
    kind: FaultKind, request: web.Request, body: Callable[[], bytes], slow_s: float
) -> web.StreamResponse | None:
    """Answer ``request`` the way ``kind`` fails; ``body`` makes the body a healthy upstream
    would send (needed only to truncate it). Returns None when the caller should send its
    normal answer (after ``slow``; and for ``ctrlchars``, which only the platform knows how
    to corrupt, and ``negprice``/``strprice``, which change a product's own prices)."""
    if kind == "slow":
        await asyncio.sleep(slow_s)
        return None
    if kind == "reset":
        # abort() drops the TCP connection without a response: the client sees a
        # disconnect, exactly like a middlebox resetting it
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=200)  # goes nowhere: the connection is already gone
    if kind in ("429", "429noretry"):
        resp = _json_error(429, "Too Many Requests", request.path)
        if kind == "429":
            resp.headers["Retry-After"] = "1"  # seconds; small so tests stay fast
        return resp
    if kind == "403":
        return _nginx(403, "Forbidden")
    if kind == "500":
        return _json_error(500, "Internal Server Error", request.path)
    if kind == "502":
        return _nginx(502, "Bad Gateway")
    if kind == "503":
        return _nginx(503, "Service Temporarily Unavailable")
    if kind == "html":
        return web.Response(status=200, text=_BLOCK_PAGE, content_type="text/html")
    if kind == "empty":
        return web.Response(status=200, body=b"", content_type="application/json")
    if kind == "badshape":
        # well-formed JSON of the wrong shape (a schema change upstream): it must become a
        # parse failure with the raw body kept, never a crash or a silent drop
        return web.json_response(
            {"payload": {"data": {"id": "not-a-number", "title": "x", "skuList": "oops"}}}
        )
    if kind == "deepnest":
        # well-formed JSON nested deeper than any decoder recurses (a category chain gone
        # wild): one body like this must cost one id, never the scanner
        depth = DEEPNEST_LEVELS
        chain = b'{"parent":' * depth + b"null" + b"}" * depth
        nested = b'{"payload":{"data":{"category":' + chain + b"}}}"
        return web.Response(status=200, body=nested, content_type="application/json")
    if kind == "truncated":
        whole = body() or b'{"payload":null}'
        cut = whole[: len(whole) // 2]  # half a JSON document never parses
        return web.Response(status=200, body=cut, content_type="application/json")
    return None
