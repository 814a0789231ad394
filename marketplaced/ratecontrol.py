"""How fast the fetcher may ask one host: a rate that follows the host's share of HTTP 429s.

The old rule — halve on every 429, at most once a second, creep back by a fixed step — reads
noise as a signal: an upstream that answers ≈ 5 % of requests with a random 429 drove 2,000
req/s down to ~4 in eleven seconds and needed about an hour to climb back. A
:class:`RateController` instead judges *windows* of answers: it cuts the rate only when the
share of 429s among a window's answers exceeds a threshold (at most once per window, so one
burst of 429s answering requests already sent at the old rate costs one cut; the deeper the
share, the deeper the cut), and raises it
multiplicatively after every window whose share stayed below the threshold, so a host that has
calmed down gets its configured rate back within minutes (×1.5 per 10 s window: 4 → 2,000 req/s
in ~2.5 minutes) instead of an hour. The controller is pure: it is told the time, so tests drive
it with an injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Protocol

#: Fewer answers than this say nothing about a share (one 429 out of three is 33 %): the window
#: is extended until it holds this many. At the 0.2 req/s floor that is a 50 s window.
MIN_ANSWERS: Final = 10
#: A window may be cut before its end once it holds this many answers and more than twice the
#: threshold of them were 429: a host refusing 20 %+ of 50 requests is limiting us (random 5 %
#: 429s reach that one time in 10^4), and waiting out the window would only collect more 429s.
EARLY_ANSWERS: Final = 50

#: the deepest single cut: to a tenth of the rate
MAX_CUT: Final = 0.1

Change = Literal["lowered", "raised", "recovered"]


@dataclass(frozen=True, slots=True)
class RateRule:
    """The knobs of one host's controller (from ``[uzum]`` / ``[uzex]`` via ``HostPolicy``)."""

    #: requests per second the host is configured for (0 = unlimited: nothing to control)
    target: float
    #: never slower than this, so that recovery is still observed
    floor: float = 0.2
    #: length of a judging window, and the shortest time between two changes of the rate
    window_s: float = 10.0
    #: cut when more than this share of a window's answers were 429 (0.1 = 10 %)
    limited_share: float = 0.1
    #: a cut multiplies the rate by this
    decrease_factor: float = 0.5
    #: every calm window multiplies the rate by this, up to ``target``
    recover_factor: float = 1.5


class Controller(Protocol):
    """What the fetcher needs of a rate controller (a benchmark plugs in the old rule)."""

    rate: float

    def retarget(self, rule: RateRule, now: float) -> None: ...

    def observe(self, now: float, *, limited: bool) -> Change | None: ...

    def limiting(self, now: float) -> bool:
        """Does the host limit us as a whole (so a Retry-After pauses all its requests)?"""
        ...


#: ``factory(rule, now)``: a fresh controller for one host
ControllerFactory = Callable[[RateRule, float], Controller]


class RateController:
    """The current rate of one host, fed with every answer the host gives."""

    __slots__ = ("_answered", "_last_cut", "_limited", "_window_start", "rate", "rule")

    def __init__(self, rule: RateRule, now: float) -> None:
        self.rule = rule
        self.rate = rule.target
        self._window_start = now
        self._last_cut = float("-inf")
        self._answered = 0
        self._limited = 0

    def retarget(self, rule: RateRule, now: float) -> None:
        """New knobs (SIGHUP); a new configured rate replaces any lowered one."""
        if rule.target != self.rule.target:
            self.rate = rule.target
            self._reset(now)
        self.rule = rule

    def observe(self, now: float, *, limited: bool) -> Change | None:
        """Count one answer (``limited``: it was a 429); say whether the rate changed.

        Verdicts fall at the end of a window, not mid-window on a small sample (the first ten
        answers of a window hold two random 429s of a 5 % host one time in twelve), except for
        the clear case of EARLY_ANSWERS.
        """
        rule = self.rule  # target 0 (unlimited) is counted too: limiting() still matters
        self._answered += 1
        self._limited += limited
        share = self._limited / self._answered
        if now - self._window_start < rule.window_s:
            clear = self._answered >= EARLY_ANSWERS and share > 2 * rule.limited_share
            if clear and now - self._last_cut >= rule.window_s:
                return self._cut(now, share)
            return None
        if share <= rule.limited_share:
            return self._raise(now)
        if self._answered < MIN_ANSWERS:
            return None  # too few answers to tell noise from a limit: extend the window
        return self._cut(now, share)

    def limiting(self, now: float) -> bool:
        """True within a window after a cut, or when the window so far is over the share."""
        if now - self._last_cut < self.rule.window_s:
            return True
        answered = self._answered
        return answered >= MIN_ANSWERS and self._limited / answered > self.rule.limited_share

    def _cut(self, now: float, share: float) -> Change | None:
        self._reset(now)
        self._last_cut = now
        floor = min(self.rule.floor, self.rule.target)
        if self.rate <= floor:
            return None
        # a host that refused 80 % of the window accepts about a fifth of the rate: go there
        # at once rather than halving four windows in a row; but by a tenth per window at most,
        # since a storm of 429s can be a short fit rather than the host's new limit
        factor = max(MAX_CUT, min(self.rule.decrease_factor, 1.0 - share))
        self.rate = max(floor, self.rate * factor)
        return "lowered"

    def _raise(self, now: float) -> Change | None:
        self._reset(now)
        if self.rate >= self.rule.target:
            return None
        self.rate = min(self.rule.target, self.rate * self.rule.recover_factor)
        return "recovered" if self.rate >= self.rule.target else "raised"

    def _reset(self, now: float) -> None:
        # answers counted so far reflect the old rate: the next verdict is about the new one
        self._window_start = now
        self._answered = self._limited = 0
