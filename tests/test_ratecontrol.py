"""The rate controller under an injected clock: what a share of HTTP 429s does to the rate.

First the controller alone, fed answers at the rate it allows (simulated time, no sleeping);
then the real fetcher against a scripted upstream with a fake clock and sleep, so that seconds
of simulated scanning take a fraction of a real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random

from aiohttp import web
from pytest_aiohttp import AiohttpServer
from structlog.testing import capture_logs

from marketplaced.errors import RateLimitedError
from marketplaced.http import Fetcher
from marketplaced.ratecontrol import MIN_ANSWERS, Change, RateController, RateRule
from tests.helpers.http import Upstream, host_stats, policy, start


def drive(
    ctl: RateController,
    limited: object,
    seconds: float,
    start_s: float = 0.0,
) -> list[tuple[float, Change, float]]:
    """Answers arrive at the controller's own rate for `seconds`; `limited(t, rate)` says
    whether the answer at time t is a 429. Returns the changes as (time, change, new rate)."""
    assert callable(limited)
    changes = []
    t = start_s
    while t < start_s + seconds:
        t += 1.0 / ctl.rate
        change = ctl.observe(t, limited=bool(limited(t, ctl.rate)))
        if change is not None:
            changes.append((t, change, ctl.rate))
    return changes


def test_random_five_percent_429s_keep_the_configured_rate() -> None:
    rng = random.Random(5)
    ctl = RateController(RateRule(target=2000.0), now=0.0)
    changes = drive(ctl, lambda t, rate: rng.random() < 0.05, seconds=120)
    assert changes == []
    assert ctl.rate == 2000.0


def test_a_real_limit_cuts_once_per_window_then_deeper_for_a_deeper_share() -> None:
    rule = RateRule(target=100.0, window_s=10.0)
    ctl = RateController(rule, now=0.0)
    changes = drive(ctl, lambda t, rate: True, seconds=45)  # every answer a 429
    cuts = [(t, rate) for t, change, rate in changes if change == "lowered"]
    assert len(cuts) >= 2
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(cuts)]
    assert all(gap >= rule.window_s for gap in gaps), gaps
    # a window of nothing but 429s is cut by 90 %, not halved, and never below the floor
    assert cuts[0][1] == 100.0 * 0.1
    assert ctl.rate == rule.floor


def test_a_clear_limit_is_cut_before_the_window_ends_but_once_per_window() -> None:
    rule = RateRule(target=1000.0, window_s=10.0)
    ctl = RateController(rule, now=0.0)
    changes = drive(ctl, lambda t, rate: True, seconds=12)
    cuts = [t for t, change, _ in changes if change == "lowered"]
    assert len(cuts) == 2
    # 50 answers at 1,000 req/s: cut 0.05 s in rather than after 10 s; the next cut waits
    assert cuts[0] < 0.1
    assert rule.window_s <= cuts[1] - cuts[0] < rule.window_s + 0.1


def test_a_share_just_over_the_threshold_halves() -> None:
    ctl = RateController(RateRule(target=1000.0, limited_share=0.1), now=0.0)
    answer = iter(range(10**9))
    # 15 %: over the threshold, under the early cut's 20 %: one verdict, at the window's end
    changes = drive(ctl, lambda t, rate: next(answer) % 20 in (0, 7, 14), seconds=10.5)
    assert [(change, rate) for _, change, rate in changes] == [("lowered", 500.0)]


def test_recovery_is_multiplicative_and_takes_minutes_not_an_hour() -> None:
    rule = RateRule(target=2000.0, window_s=10.0, recover_factor=1.5)
    ctl = RateController(rule, now=0.0)
    drive(ctl, lambda t, rate: True, seconds=60)  # an upstream storm: down to the floor
    assert ctl.rate == rule.floor
    changes = drive(ctl, lambda t, rate: False, seconds=900, start_s=60)
    recovered = [t for t, change, _ in changes if change == "recovered"]
    assert len(recovered) == 1
    # 0.2 → 2,000 req/s (x10,000) at x1.5 per 10 s window: 23 windows, a few minutes
    assert recovered[0] - 60 <= 360
    # the case: from ~4 req/s (where the old rule left it) in under 3 minutes
    four = next(t for t, _, rate in changes if rate >= 4.0)
    assert recovered[0] - four <= 180
    raises = [t for t, change, _ in changes]
    assert all(b - a >= rule.window_s for a, b in itertools.pairwise(raises))
    assert ctl.rate == 2000.0


def test_a_host_with_a_real_limit_is_held_near_it() -> None:
    ctl = RateController(RateRule(target=2000.0), now=0.0)
    accepts = 500.0

    def over_the_limit(t: float, rate: float, state: list[float] = [0.0]) -> bool:  # noqa: B006
        # the host refuses what exceeds its limit: a deterministic share 1 - accepts/rate
        state[0] += max(0.0, 1.0 - accepts / rate)
        if state[0] >= 1.0:
            state[0] -= 1.0
            return True
        return False

    changes = drive(ctl, over_the_limit, seconds=600)
    later = [rate for t, _, rate in changes if t > 60]
    assert later, changes
    # never collapses towards the floor, never sits at the configured 4x the limit
    assert min(later) >= accepts / 2
    assert max(later) < accepts * 2


def test_few_answers_extend_the_window_instead_of_judging_noise() -> None:
    ctl = RateController(RateRule(target=2.0, window_s=10.0), now=0.0)
    assert ctl.observe(5.0, limited=True) is None
    assert ctl.observe(11.0, limited=False) is None  # 1 of 2 is 50 %, but of two answers
    assert ctl.rate == 2.0
    t = 11.0
    for _ in range(MIN_ANSWERS - 3):
        t += 0.5
        assert ctl.observe(t, limited=False) is None
    assert ctl.observe(t + 0.5, limited=True) == "lowered"  # 2 of 10: now it is a share
    assert ctl.rate == 1.0


def test_a_new_configured_rate_replaces_a_lowered_one() -> None:
    ctl = RateController(RateRule(target=100.0), now=0.0)
    drive(ctl, lambda t, rate: True, seconds=11)
    assert ctl.rate < 100.0
    ctl.retarget(RateRule(target=300.0), now=20.0)
    assert ctl.rate == 300.0
    ctl.retarget(RateRule(target=300.0, window_s=5.0), now=21.0)  # other knobs: rate kept
    assert ctl.rate == 300.0


# -- the fetcher with an injected clock ----------------------------------------------------------


class FakeTime:
    """Simulated time: sleeping moves the clock at once (and lets other tasks run)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # at least a microsecond, as any real sleep: a token bucket asking for the last
        # 1e-14 s of a token would otherwise spin on a clock that float rounding keeps still
        self.now += max(1e-6, seconds)
        await asyncio.sleep(0)


def every_nth_is_429(n: int, flag: list[bool] | None = None) -> object:
    async def behaviour(request: web.Request, hit: int) -> web.StreamResponse:
        if (flag is None or flag[0]) and hit % n == 0:
            return web.json_response({}, status=429)  # no Retry-After: only the rate reacts
        return web.json_response({"ok": True})

    return behaviour


async def fetch_many(fetcher: Fetcher, upstream: Upstream, count: int) -> None:
    async def worker(share: int) -> None:
        for _ in range(share):
            with contextlib.suppress(RateLimitedError):
                await fetcher.get_json(upstream.url("/p"))

    await asyncio.gather(*(worker(count // 4) for _ in range(4)))


async def test_fetcher_keeps_its_rate_under_five_percent_429s(
    aiohttp_server: AiohttpServer,
) -> None:
    upstream = await start(aiohttp_server, {"/p": every_nth_is_429(20)})  # type: ignore[dict-item]
    clock = FakeTime()
    with capture_logs() as logs:
        async with Fetcher(policy(rps=100), clock=clock, sleep=clock.sleep) as fetcher:
            await fetch_many(fetcher, upstream, 2000)  # ≈ 20 s at 100 req/s
            stats = host_stats(fetcher, upstream)

    assert clock.now - 1000.0 >= 15  # the run spanned several windows of simulated time
    assert stats.outcomes["rate_limited"] >= 90
    assert stats.rate_current == 100
    assert [e for e in logs if e["event"] == "host_rate_lowered"] == []


async def test_fetcher_backs_off_a_real_limit_and_recovers_in_windows(
    aiohttp_server: AiohttpServer,
) -> None:
    limiting = [True]
    behaviour = every_nth_is_429(2, limiting)  # half the answers are 429 while limiting
    upstream = await start(aiohttp_server, {"/p": behaviour})  # type: ignore[dict-item]
    clock = FakeTime()
    aimd = policy(rps=100, rate_window_s=1.0, max_retries=1)
    with capture_logs() as logs:
        async with Fetcher(aimd, clock=clock, sleep=clock.sleep) as fetcher:
            await fetch_many(fetcher, upstream, 200)
            lowered = host_stats(fetcher, upstream).rate_current
            limiting[0] = False
            healed_at = clock.now
            for _ in range(40):
                await fetch_many(fetcher, upstream, 40)
                if host_stats(fetcher, upstream).rate_current == 100:
                    break
            recovered = host_stats(fetcher, upstream).rate_current

    assert lowered < 100
    assert recovered == 100
    # even from the floor (0.2 req/s, one answer per 5 s) to 100 req/s at x1.5 per 1 s window:
    # under a minute; the old additive rule (+0.5 req/s per second) needed 200 s
    assert clock.now - healed_at < 60
    events = [e["event"] for e in logs]
    assert events.count("host_rate_recovered") == 1
