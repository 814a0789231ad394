"""The failed-authentication limiter on an injected clock: burst, refill, Retry-After, the
IPv6 /64 grouping and the bound on remembered addresses."""

from __future__ import annotations

from marketplaced.web.ratelimit import FailureLimiter, bucket_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_one_attempt_per_refill() -> None:
    clock = Clock()
    lim = FailureLimiter(burst=3, refill_per_s=0.5, clock=clock)
    for _ in range(3):
        assert lim.retry_after("192.0.2.1") is None
        lim.failed("192.0.2.1")
    assert lim.retry_after("192.0.2.1") == 2  # one token refills in 1 / 0.5 s
    clock.now += 1.0
    assert lim.retry_after("192.0.2.1") == 1
    clock.now += 1.0
    assert lim.retry_after("192.0.2.1") is None
    lim.failed("192.0.2.1")
    assert lim.retry_after("192.0.2.1") == 2
    assert lim.retry_after("192.0.2.2") is None  # another address has its own bucket


def test_a_full_bucket_is_forgotten() -> None:
    clock = Clock()
    lim = FailureLimiter(burst=2, refill_per_s=1.0, clock=clock)
    lim.failed("192.0.2.1")
    assert len(lim) == 1
    clock.now += 5
    assert lim.retry_after("192.0.2.1") is None and len(lim) == 0


def test_memory_is_bounded_and_the_oldest_is_forgotten() -> None:
    clock = Clock()
    lim = FailureLimiter(burst=1, refill_per_s=0.001, max_clients=100, clock=clock)
    for i in range(10_000):
        lim.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert len(lim) == 100
    assert lim.retry_after("10.0.39.15") is not None  # the newest (i = 9999) is remembered
    assert lim.retry_after("10.0.0.0") is None  # the oldest was forgotten


def test_ipv6_counts_per_64() -> None:
    clock = Clock()
    lim = FailureLimiter(burst=2, refill_per_s=0.01, clock=clock)
    lim.failed("2001:db8:1:2::1")
    lim.failed("2001:db8:1:2:ffff::9")
    assert lim.retry_after("2001:db8:1:2::abcd") is not None
    assert lim.retry_after("2001:db8:1:3::1") is None
    assert bucket_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert bucket_key("unknown") == "unknown"
