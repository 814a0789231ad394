"""Tests of the polite fetcher against a tiny scripted aiohttp upstream (real sockets)."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Callable, Mapping

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer
from structlog.testing import capture_logs

from marketplaced.errors import (
    BlockPageError,
    ConfigError,
    FetchError,
    HttpStatusError,
    InvalidJsonError,
    RateLimitedError,
    TransportError,
    UpstreamBlockedError,
)
from marketplaced.http import Fetcher, HostPolicy, parse_retry_after
from tests.helpers.http import (
    BROWSER,
    FAST,
    Upstream,
    fail_first,
    host_stats,
    json_reply,
    policy,
    raw_reply,
    reset,
    start,
)
from tests.helpers.virtual_time import VirtualTime


@pytest.fixture(params=["idle", pytest.param("stalled", marks=pytest.mark.slow)])
async def machine(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """An idle machine, or a loaded one: the event loop loses 30 ms on every iteration.

    The tests that take it measure the fetcher's waits on a virtual clock (or none at all), so
    they must hold however slowly the loop turns; wall-clock windows failed here."""
    stop = asyncio.Event()

    async def hog() -> None:
        while not stop.is_set():
            time.sleep(0.03)  # noqa: ASYNC251 - blocking the loop is the point: a busy machine
            await asyncio.sleep(0)

    task = asyncio.create_task(hog()) if request.param == "stalled" else None
    yield request.param
    stop.set()
    if task is not None:
        await task


def on_the_wire(fetcher: Fetcher, upstream: Upstream, clock: VirtualTime) -> Callable[[], bool]:
    """True while a request or an answer travels a socket; False once every request the
    fetcher has out is parked in one of the upstream's (virtual) delays, so only the clock can
    move things on."""

    def busy() -> bool:
        out = sum(stats.in_flight for stats in fetcher.stats().values())
        return not out == upstream.in_flight == clock.upstream_asleep

    return busy


async def test_success_returns_json_and_counts_stats(aiohttp_server: AiohttpServer) -> None:
    upstream = await start(aiohttp_server, {"/ok": json_reply({"a": 1, "b": "ж"})})
    with capture_logs() as logs:
        async with Fetcher(FAST, headers=BROWSER) as fetcher:
            response = await fetcher.get_json(upstream.url("/ok"))
            stats = host_stats(fetcher, upstream)

    assert (response.status, response.data) == (200, {"a": 1, "b": "ж"})
    assert response.body == b'{"a": 1, "b": "\\u0436"}'
    assert response.url == upstream.url("/ok")
    assert response.elapsed_s > 0
    assert stats.requests == 1
    assert stats.outcomes["ok"] == 1
    assert sum(stats.outcomes.values()) == 1
    assert (stats.retries, stats.in_flight, stats.queued) == (0, 0, 0)
    assert stats.bytes_received == len(response.body)
    assert stats.latency_count == 1
    assert stats.latency_sum_s == pytest.approx(response.elapsed_s)
    assert stats.latency_buckets[-1] == (float("inf"), 1)
    assert stats.breaker_state == "closed"
    assert logs == []  # nothing is logged per successful request
    sent = upstream.headers[0]
    assert sent["User-Agent"].startswith("Mozilla/5.0")
    assert sent["Accept"] == "application/json"
    assert sent["Accept-Language"].startswith("ru-RU")


async def test_post_json_sends_the_body(aiohttp_server: AiohttpServer) -> None:
    async def echo(request: web.Request, n: int) -> web.StreamResponse:
        return web.json_response({"got": await request.json(), "type": request.content_type})

    upstream = await start(aiohttp_server, {"/list": echo})
    async with Fetcher(FAST) as fetcher:
        response = await fetcher.post_json(upstream.url("/list"), {"from": 1, "to": 100})

    assert response.data == {"got": {"from": 1, "to": 100}, "type": "application/json"}


async def test_not_found_is_returned_not_retried(aiohttp_server: AiohttpServer) -> None:
    upstream = await start(
        aiohttp_server,
        {
            "/missing": json_reply({"errors": ["no product"]}, status=404),
            "/gone": raw_reply(b"<html>gone</html>", status=410, content_type="text/html"),
            "/bad": json_reply({"error": "bad id"}, status=400),
        },
    )
    async with Fetcher(FAST) as fetcher:
        missing = await fetcher.get_json(upstream.url("/missing"))
        gone = await fetcher.get_json(upstream.url("/gone"))
        bad = await fetcher.get_json(upstream.url("/bad"))
        stats = host_stats(fetcher, upstream)

    assert (missing.status, missing.data) == (404, {"errors": ["no product"]})
    assert (gone.status, gone.data) == (410, None)
    assert (bad.status, bad.data) == (400, {"error": "bad id"})
    assert upstream.hits == {"/missing": 1, "/gone": 1, "/bad": 1}
    assert (stats.outcomes["not_found"], stats.outcomes["http_4xx"], stats.retries) == (2, 1, 0)


async def test_server_error_then_success_is_retried(aiohttp_server: AiohttpServer) -> None:
    flaky = fail_first(1, json_reply(status=500), json_reply({"ok": True}))
    upstream = await start(aiohttp_server, {"/flaky": flaky})
    async with Fetcher(FAST) as fetcher:
        response = await fetcher.get_json(upstream.url("/flaky"))
        stats = host_stats(fetcher, upstream)

    assert response.data == {"ok": True}
    assert upstream.hits["/flaky"] == 2
    assert (stats.requests, stats.retries) == (2, 1)
    assert (stats.outcomes["http_5xx"], stats.outcomes["ok"]) == (1, 1)


async def test_server_error_forever_raises_after_all_retries(aiohttp_server: AiohttpServer) -> None:
    upstream = await start(aiohttp_server, {"/down": json_reply(status=503)})
    with capture_logs() as logs:
        async with Fetcher(policy(max_retries=3)) as fetcher:
            with pytest.raises(HttpStatusError) as caught:
                await fetcher.get_json(upstream.url("/down"))
            stats = host_stats(fetcher, upstream)

    assert caught.value.status == 503
    assert caught.value.url == upstream.url("/down")
    assert upstream.hits["/down"] == 4
    assert (stats.outcomes["http_5xx"], stats.retries) == (4, 3)
    failed = [e for e in logs if e["event"] == "request_failed"]
    assert len(failed) == 1
    assert (failed[0]["kind"], failed[0]["attempts"]) == ("http_5xx", 4)


async def test_retry_after_of_a_lone_429_delays_only_its_request(
    aiohttp_server: AiohttpServer,
) -> None:
    limited_once = asyncio.Event()

    async def limited(request: web.Request, n: int) -> web.StreamResponse:
        if n == 1:
            limited_once.set()
            return web.json_response({}, status=429, headers={"Retry-After": "1"})
        return web.json_response({"ok": True})

    clock = VirtualTime()
    routes = {"/limited": limited, "/other": json_reply([])}
    upstream = await start(aiohttp_server, routes, clock)
    with capture_logs() as logs:
        async with Fetcher(policy(rps=50), clock=clock, sleep=clock.sleep) as fetcher:
            busy = on_the_wire(fetcher, upstream, clock)
            first = asyncio.create_task(fetcher.get_json(upstream.url("/limited")))
            await clock.run(limited_once.wait(), busy=busy)
            await clock.run(busy=busy, for_s=0)  # let the 429 be judged
            after_429 = host_stats(fetcher, upstream)
            other = await clock.run(fetcher.get_json(upstream.url("/other")), busy=busy)
            assert (await clock.run(first, busy=busy)).data == {"ok": True}

    assert other.status == 200
    limited_at = upstream.arrivals["/limited"][0]
    assert upstream.arrivals["/limited"][1] - limited_at >= 0.95  # its retry waited
    assert upstream.arrivals["/other"][0] - limited_at < 0.9  # the rest of the host did not
    assert after_429.paused_for_s == 0
    assert after_429.outcomes["rate_limited"] == 1
    # one 429 is no share of a window: the rate stays (tests/test_ratecontrol.py: when it is cut)
    assert after_429.rate_current == 50
    assert [e["event"] for e in logs].count("host_paused") == 0


async def test_retry_after_pauses_the_whole_host_when_it_limits_us(
    aiohttp_server: AiohttpServer,
) -> None:
    async def limited(request: web.Request, n: int) -> web.StreamResponse:
        if n <= 15:
            return web.json_response({}, status=429, headers={"Retry-After": "1"})
        return web.json_response({"ok": True})

    clock = VirtualTime()
    routes = {"/limited": limited, "/other": json_reply([])}
    upstream = await start(aiohttp_server, routes, clock)
    with capture_logs() as logs:
        async with Fetcher(
            policy(rps=50, concurrency=20), clock=clock, sleep=clock.sleep
        ) as fetcher:
            busy = on_the_wire(fetcher, upstream, clock)
            burst = asyncio.gather(*(fetcher.get_json(upstream.url("/limited")) for _ in range(15)))
            # every request of the burst has had its 429
            await clock.run(busy=busy, until=lambda: upstream.hits.get("/limited", 0) >= 15)
            await clock.run(busy=busy, for_s=0)  # let the last 429 be judged
            paused = host_stats(fetcher, upstream)
            other = await clock.run(fetcher.get_json(upstream.url("/other")), busy=busy)
            responses = await clock.run(burst, busy=busy)
            assert all(r.data == {"ok": True} for r in responses)

    assert other.status == 200
    # ten answers, all 429: the host limits us as a whole, its Retry-After holds every request
    assert 0.5 < paused.paused_for_s <= 1.0
    assert upstream.arrivals["/other"][0] - upstream.arrivals["/limited"][14] >= 0.9
    assert [e["event"] for e in logs].count("host_paused") >= 1


async def test_rate_limited_without_retry_after_backs_off(aiohttp_server: AiohttpServer) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    limited = fail_first(2, json_reply(status=429), json_reply({"ok": True}))
    upstream = await start(aiohttp_server, {"/limited": limited, "/always": json_reply(status=429)})
    backoff = policy(max_retries=3, backoff_base_s=0.1, backoff_max_s=1.0)
    async with Fetcher(backoff, sleep=sleep) as fetcher:
        response = await fetcher.get_json(upstream.url("/limited"))
        backoffs = list(sleeps)
        with pytest.raises(RateLimitedError) as caught:
            await fetcher.get_json(upstream.url("/always"))

    assert response.data == {"ok": True}
    assert len(backoffs) == 2
    assert 0 <= backoffs[0] <= 0.1
    assert 0 <= backoffs[1] <= 0.2
    assert sum(backoffs) > 0
    assert caught.value.status == 429
    assert upstream.hits["/always"] == 4


async def test_connection_reset_is_retried_then_raised(aiohttp_server: AiohttpServer) -> None:
    # POST, because aiohttp itself silently resends an idempotent GET once when the server drops
    # the connection; a POST reaches the server exactly once per attempt of ours.
    once = fail_first(1, reset, json_reply({"ok": True}))
    upstream = await start(aiohttp_server, {"/once": once, "/always": reset})
    async with Fetcher(FAST) as fetcher:
        assert (await fetcher.post_json(upstream.url("/once"), {})).data == {"ok": True}
        with pytest.raises(TransportError) as caught:
            await fetcher.post_json(upstream.url("/always"), {})
        stats = host_stats(fetcher, upstream)

    assert upstream.hits == {"/once": 2, "/always": 3}
    assert "ServerDisconnectedError" in str(caught.value)
    assert (stats.outcomes["transport"], stats.retries, stats.in_flight) == (4, 3, 0)


async def test_timeout_raises_transport_error(aiohttp_server: AiohttpServer, machine: str) -> None:
    # the upstream answers only once the test is over: the fetcher can only have given up on
    # it by its own timeout, however slowly a loaded machine runs (waiting would hang the test)
    released = asyncio.Event()

    async def never_in_time(request: web.Request, n: int) -> web.StreamResponse:
        await released.wait()
        return web.json_response({})

    upstream = await start(aiohttp_server, {"/slow": never_in_time})
    try:
        async with Fetcher(policy(timeout_s=0.1, max_retries=1)) as fetcher:
            with pytest.raises(TransportError) as caught:
                await fetcher.get_json(upstream.url("/slow"))
            stats = host_stats(fetcher, upstream)
    finally:
        released.set()

    assert upstream.hits["/slow"] == 2  # both attempts reached it, neither got an answer
    assert "0.1s" in str(caught.value)
    assert stats.outcomes["timeout"] == 2
    assert stats.in_flight == 0


async def test_html_instead_of_json_is_a_block_page(aiohttp_server: AiohttpServer) -> None:
    upstream = await start(
        aiohttp_server,
        {
            "/captcha": raw_reply(b"<html>are you human?</html>", content_type="text/html"),
            "/disguised": raw_reply(b"\n  <!doctype html><p>blocked"),
        },
    )
    async with Fetcher(policy(max_retries=1)) as fetcher:
        for path in ("/captcha", "/disguised"):
            with pytest.raises(BlockPageError):
                await fetcher.get_json(upstream.url(path))
        stats = host_stats(fetcher, upstream)

    assert upstream.hits == {"/captcha": 2, "/disguised": 2}
    assert stats.outcomes["block_page"] == 4


async def test_truncated_json_is_retried_then_invalid(aiohttp_server: AiohttpServer) -> None:
    truncated = raw_reply(b'{"payload": {"data": [1, 2')
    upstream = await start(
        aiohttp_server,
        {"/cut": truncated, "/cut-once": fail_first(1, truncated, json_reply({"ok": 1}))},
    )
    async with Fetcher(FAST) as fetcher:
        with pytest.raises(InvalidJsonError):
            await fetcher.get_json(upstream.url("/cut"))
        assert (await fetcher.get_json(upstream.url("/cut-once"))).data == {"ok": 1}
        stats = host_stats(fetcher, upstream)

    assert upstream.hits == {"/cut": 3, "/cut-once": 2}
    assert stats.outcomes["invalid_json"] == 4


async def test_raw_control_characters_and_bad_utf8_decode(aiohttp_server: AiohttpServer) -> None:
    body = b'\xef\xbb\xbf{"description": "a\x01b\tc\nd\x1f", "title": "\xff ok"}'
    upstream = await start(aiohttp_server, {"/p": raw_reply(body)})
    async with Fetcher(FAST) as fetcher:
        response = await fetcher.get_json(upstream.url("/p"))

    assert response.data == {"description": "a\x01b\tc\nd\x1f", "title": "\ufffd ok"}
    assert response.body == body


async def test_empty_body_gives_none(aiohttp_server: AiohttpServer) -> None:
    upstream = await start(aiohttp_server, {"/empty": raw_reply(b"")})
    async with Fetcher(FAST) as fetcher:
        response = await fetcher.get_json(upstream.url("/empty"))
        stats = host_stats(fetcher, upstream)

    assert (response.status, response.data, response.body) == (200, None, b"")
    assert stats.outcomes["ok"] == 1


async def test_classify_raises_at_once_without_retry(aiohttp_server: AiohttpServer) -> None:
    not_valid = json_reply({"status": 500, "message": "Validation Not Valid"}, status=500)
    upstream = await start(aiohttp_server, {"/lots": not_valid, "/ok": json_reply([1])})
    seen: list[int] = []

    def classify(status: int, headers: Mapping[str, str], body: bytes) -> FetchError | None:
        seen.append(status)
        if status == 500 and b"Not Valid" in body:
            return UpstreamBlockedError("UZEX demands a Validation header")
        return None

    async with Fetcher(policy(max_retries=3, breaker_failures=1)) as fetcher:
        with pytest.raises(UpstreamBlockedError) as caught:
            await fetcher.post_json(upstream.url("/lots"), {"from": 1}, classify=classify)
        after_block = host_stats(fetcher, upstream)
        # a deliberate answer is not an outage: the breaker (opening at 1 failure) stays closed
        assert (after_block.breaker_state, after_block.circuit_opens) == ("closed", 0)
        ok = await fetcher.get_json(upstream.url("/ok"), classify=classify)
        stats = host_stats(fetcher, upstream)

    assert upstream.hits == {"/lots": 1, "/ok": 1}
    assert seen == [500, 200]
    assert ok.data == [1]
    assert (caught.value.url, caught.value.status) == (upstream.url("/lots"), 500)
    assert stats.outcomes["blocked_by_upstream"] == 1
    assert stats.retries == 0


async def test_circuit_opens_waits_probes_once_and_closes(aiohttp_server: AiohttpServer) -> None:
    clock = VirtualTime()
    slow_ok = json_reply({"ok": True}, delay_s=0.2, clock=clock)
    upstream = await start(
        aiohttp_server, {"/h": fail_first(3, json_reply(status=500), slow_ok)}, clock
    )
    breaker = policy(max_retries=0, breaker_failures=3, breaker_cooldown_s=0.3)
    with capture_logs() as logs:
        async with Fetcher(breaker, clock=clock, sleep=clock.sleep) as fetcher:
            busy = on_the_wire(fetcher, upstream, clock)
            for _ in range(3):
                with pytest.raises(HttpStatusError):
                    await clock.run(fetcher.get_json(upstream.url("/h")), busy=busy)
            opened = host_stats(fetcher, upstream)
            opened_at = clock()
            responses = await clock.run(
                asyncio.gather(*(fetcher.get_json(upstream.url("/h")) for _ in range(5))),
                busy=busy,
            )
            closed = host_stats(fetcher, upstream)

    assert (opened.breaker_state, opened.circuit_opens) == ("open", 1)
    assert all(r.data == {"ok": True} for r in responses)
    arrivals = upstream.arrivals["/h"]
    assert len(arrivals) == 8
    probe_at = arrivals[3]
    assert probe_at - opened_at >= 0.25  # waited for the cooldown
    assert all(t - probe_at >= 0.18 for t in arrivals[4:])  # nobody else during the probe
    assert closed.breaker_state == "closed"
    events = [e["event"] for e in logs]
    assert events.count("circuit_opened") == 1
    assert events.count("circuit_closed") == 1


async def test_requests_queued_before_the_circuit_opened_wait_too(
    aiohttp_server: AiohttpServer,
) -> None:
    clock = VirtualTime()
    slow_failure = json_reply(status=500, delay_s=0.1, clock=clock)
    routes = {"/h": fail_first(1, slow_failure, json_reply({}))}
    upstream = await start(aiohttp_server, routes, clock)
    breaker = policy(concurrency=1, max_retries=0, breaker_failures=1, breaker_cooldown_s=0.3)
    async with Fetcher(breaker, clock=clock, sleep=clock.sleep) as fetcher:
        busy = on_the_wire(fetcher, upstream, clock)
        failing = asyncio.create_task(fetcher.get_json(upstream.url("/h")))
        queued = asyncio.create_task(fetcher.get_json(upstream.url("/h")))  # waits for the slot
        with pytest.raises(HttpStatusError):
            await clock.run(failing, busy=busy)
        assert (await clock.run(queued, busy=busy)).status == 200

    first, second = upstream.arrivals["/h"]
    assert second - first >= 0.1 + 0.25  # the slow failure, then the cooldown


async def test_failed_probe_doubles_the_cooldown(aiohttp_server: AiohttpServer) -> None:
    clock = VirtualTime()
    upstream = await start(aiohttp_server, {"/dead": json_reply(status=500)}, clock)
    breaker = policy(max_retries=0, breaker_failures=1, breaker_cooldown_s=0.1)
    async with Fetcher(breaker, clock=clock, sleep=clock.sleep) as fetcher:
        busy = on_the_wire(fetcher, upstream, clock)
        for _ in range(3):
            with pytest.raises(HttpStatusError):
                await clock.run(fetcher.get_json(upstream.url("/dead")), busy=busy)
        stats = host_stats(fetcher, upstream)

    first, second, third = upstream.arrivals["/dead"]
    assert second - first >= 0.09
    assert third - second >= 0.19
    assert stats.circuit_opens == 3


async def test_rate_limit_really_limits(aiohttp_server: AiohttpServer) -> None:
    clock = VirtualTime()
    upstream = await start(aiohttp_server, {"/r": json_reply({})}, clock)
    async with Fetcher(policy(rps=20), clock=clock, sleep=clock.sleep) as fetcher:
        started = clock()
        requests = (fetcher.get_json(upstream.url("/r")) for _ in range(30))
        await clock.run(asyncio.gather(*requests), busy=on_the_wire(fetcher, upstream, clock))
        elapsed = clock() - started

    assert 1.3 <= elapsed < 3.0  # one token at start, then 20/s: 29 / 20 = 1.45 s


async def test_update_policies_raises_the_rate_live(
    aiohttp_server: AiohttpServer, machine: str
) -> None:
    clock = VirtualTime()
    upstream = await start(aiohttp_server, {"/r": json_reply({})}, clock)
    async with Fetcher(policy(rps=4), clock=clock, sleep=clock.sleep) as fetcher:
        busy = on_the_wire(fetcher, upstream, clock)
        started = clock()
        batch = asyncio.gather(*(fetcher.get_json(upstream.url("/r")) for _ in range(20)))
        await clock.run(busy=busy, for_s=0.3)
        assert 1 <= upstream.hits["/r"] <= 3
        fetcher.update_policies(policy(rps=1000))
        await clock.run(batch, busy=busy)
        elapsed = clock() - started
        stats = host_stats(fetcher, upstream)

    assert elapsed < 1.0  # at 4 rps the 20 requests would need ~4.75 s
    assert (stats.rate_configured, stats.rate_current) == (1000, 1000)


async def test_concurrency_limit_is_respected(aiohttp_server: AiohttpServer) -> None:
    upstream = await start(aiohttp_server, {"/s": json_reply({}, delay_s=0.05)})
    async with Fetcher(policy(concurrency=3)) as fetcher:
        await asyncio.gather(*(fetcher.get_json(upstream.url("/s")) for _ in range(12)))
        stats = host_stats(fetcher, upstream)

    assert upstream.max_in_flight == 3
    assert (stats.in_flight, stats.queued, stats.concurrency) == (0, 0, 3)


async def test_update_policies_raises_concurrency_live(
    aiohttp_server: AiohttpServer, machine: str
) -> None:
    clock = VirtualTime()
    upstream = await start(aiohttp_server, {"/s": json_reply({}, delay_s=0.3, clock=clock)}, clock)
    async with Fetcher(policy(concurrency=1), clock=clock, sleep=clock.sleep) as fetcher:
        busy = on_the_wire(fetcher, upstream, clock)
        started = clock()
        batch = asyncio.gather(*(fetcher.get_json(upstream.url("/s")) for _ in range(7)))
        await clock.run(busy=busy, for_s=0.1)
        assert upstream.in_flight == 1
        fetcher.update_policies(policy(concurrency=6))
        await clock.run(batch, busy=busy)
        elapsed = clock() - started

    arrivals = upstream.arrivals["/s"]
    assert upstream.max_in_flight == 6
    assert arrivals[5] - arrivals[0] < 0.2  # admitted at once, not when the first one ended
    assert elapsed < 0.9  # one at a time would take 2.1 s


async def test_cancelled_waiter_does_not_leak_a_slot(aiohttp_server: AiohttpServer) -> None:
    clock = VirtualTime()
    upstream = await start(aiohttp_server, {"/s": json_reply({}, delay_s=0.1, clock=clock)}, clock)
    async with Fetcher(policy(concurrency=1), clock=clock, sleep=clock.sleep) as fetcher:
        busy = on_the_wire(fetcher, upstream, clock)
        running = asyncio.create_task(fetcher.get_json(upstream.url("/s")))
        waiting = asyncio.create_task(fetcher.get_json(upstream.url("/s")))
        await clock.run(busy=busy, for_s=0.02)
        waiting.cancel()
        await clock.run(running, busy=busy)
        # a leaked slot would leave this request nothing to wait for: VirtualTime raises Stuck
        await clock.run(fetcher.get_json(upstream.url("/s")), busy=busy)
        stats = host_stats(fetcher, upstream)

    assert waiting.cancelled()
    assert upstream.hits["/s"] == 2
    assert (stats.in_flight, stats.queued) == (0, 0)


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("5", now) == 5
    assert parse_retry_after(" 0.5 ", now) == 0.5
    assert parse_retry_after("-3", now) == 0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_host_policy_rejects_nonsense() -> None:
    with pytest.raises(ConfigError) as caught:
        HostPolicy(concurrency=0, rps=-1)
    assert len(caught.value.problems) == 2


def test_policy_lookup_by_host_or_authority() -> None:
    uzum = HostPolicy(rps=100, concurrency=60)
    local = HostPolicy(rps=0)
    fetcher = Fetcher(HostPolicy(), {"api.uzum.uz": uzum, "127.0.0.1:8080": local})
    assert fetcher._policy_for("api.uzum.uz:443") is uzum
    assert fetcher._policy_for("127.0.0.1:8080") is local
    assert fetcher._policy_for("127.0.0.1:9090") == HostPolicy()
