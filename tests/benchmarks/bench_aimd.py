"""Rate-control benchmark (not a test): requests/s sustained against a faulty simulator.

Starts `marketplaced simulate` as a subprocess and drives the real fetcher at a configured
2,000 req/s against it, once per (fault profile, rate rule):

- profiles: `hostile` (5 % 429 with Retry-After, 1 % 429 without, 5xx, resets, slow answers,
  block pages …) and `429=0.05` (nothing but 5 % random 429s, with Retry-After: 1 s);
- rules: the current controller (`marketplaced.ratecontrol`, share of 429s per window; the
  Retry-After of a random 429 delays only that request) and, as the baseline measured in the
  same run, the previous rule re-implemented below (halve on every 429 at most once a second,
  +0.5 req/s per second of success, every Retry-After pauses the whole host).

Prints answers/s per time slice, the controller's rate at the end of each slice and the
average over the whole run.

Usage: python tests/benchmarks/bench_aimd.py [--seconds 40] [--slice 5] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import log  # noqa: E402
from marketplaced.errors import FetchError  # noqa: E402
from marketplaced.http import Fetcher, HostPolicy  # noqa: E402
from marketplaced.ratecontrol import (  # noqa: E402
    Change,
    Controller,
    ControllerFactory,
    RateController,
    RateRule,
)
from tests.helpers.net import free_port  # noqa: E402

CONFIGURED_RPS = 2000.0
PROFILES = ("hostile", "429=0.05")
N_IDS = 200_000


class PreviousRule:
    """The rule before the windowed controller: halve on a 429 (once a second at most), grow
    by 0.5 req/s per second since the last change on every other answer."""

    decrease_interval_s = 1.0
    recover_step = 0.5

    def __init__(self, rule: RateRule, now: float) -> None:
        self.rule = rule
        self.rate = rule.target
        self.last_decrease = now - self.decrease_interval_s
        self.last_change = now

    def retarget(self, rule: RateRule, now: float) -> None:
        self.rule, self.rate = rule, rule.target

    def observe(self, now: float, *, limited: bool) -> Change | None:
        floor = min(self.rule.floor, self.rule.target)
        if limited:
            if self.rate <= floor or now - self.last_decrease < self.decrease_interval_s:
                return None
            self.rate = max(floor, self.rate * 0.5)
            self.last_decrease = self.last_change = now
            return "lowered"
        if self.rate >= self.rule.target:
            return None
        self.rate = min(self.rule.target, self.rate + self.recover_step * (now - self.last_change))
        self.last_change = now
        return "recovered" if self.rate >= self.rule.target else "raised"

    def limiting(self, now: float) -> bool:
        return True  # every Retry-After of a 429 paused the whole host


def start_simulator(faults: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marketplaced.cli",
            "simulate",
            "--port",
            str(port),
            "--ids",
            str(N_IDS),
            "--faults",
            faults,
            "--tick-seconds",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/__sim/stats", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the simulator did not start")


async def run_one(
    url: str, factory: ControllerFactory, seconds: float, slice_s: float, concurrency: int
) -> tuple[list[tuple[float, float]], float]:
    """[(answers/s, rate at the end)] per slice, and the run's average answers/s."""
    policy = HostPolicy(rps=CONFIGURED_RPS, concurrency=concurrency, timeout_s=5.0)
    next_id = 0
    stop = asyncio.Event()

    async def worker(fetcher: Fetcher) -> None:
        nonlocal next_id
        while not stop.is_set():
            next_id = next_id % N_IDS + 1
            with contextlib.suppress(FetchError):
                await fetcher.get_json(f"{url}/api/v2/product/{next_id}")

    slices: list[tuple[float, float]] = []
    async with Fetcher(policy, controller=factory) as fetcher:
        tasks = [asyncio.create_task(worker(fetcher)) for _ in range(concurrency)]
        started = time.monotonic()
        before = 0
        for _ in range(int(seconds / slice_s)):
            await asyncio.sleep(slice_s)
            (stats,) = fetcher.stats().values()
            slices.append(((stats.requests - before) / slice_s, stats.rate_current))
            before = stats.requests
        elapsed = time.monotonic() - started
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return slices, before / elapsed


async def main(seconds: float, slice_s: float, concurrency: int) -> None:
    rules: dict[str, ControllerFactory] = {"windowed": RateController, "previous": _previous}
    print(
        f"configured {CONFIGURED_RPS:.0f} req/s, {concurrency} in flight, {seconds:.0f} s per "
        f"run; figures are HTTP exchanges/s (retries included) per {slice_s:.0f} s slice, "
        "and the controller's rate at the end of the slice"
    )
    summary = []
    for faults in PROFILES:
        for name, factory in rules.items():
            # a fresh simulator per run: its faults are a function of (id, faults the id already
            # got), so a second run over the same ids would meet far fewer of them
            proc, url = start_simulator(faults)
            try:
                slices, average = await run_one(url, factory, seconds, slice_s, concurrency)
            finally:
                proc.terminate()
                proc.wait(10)
            cells = "  ".join(f"{done:6.0f}/{rate:<7.1f}" for done, rate in slices)
            print(f"{faults:<9} {name:<9} {cells}", flush=True)
            summary.append((faults, name, average, slices[-1][1]))
    print("\naverage exchanges/s over the run, rate at the end:")
    for faults, name, average, rate in summary:
        print(f"  {faults:<9} {name:<9} {average:8.1f} req/s   rate {rate:8.1f}")


def _previous(rule: RateRule, now: float) -> Controller:
    return PreviousRule(rule, now)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--slice", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    log.setup("error", "console")  # the fetcher's per-event warnings would drown the table
    asyncio.run(main(args.seconds, args.slice, args.concurrency))
