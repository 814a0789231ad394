"""CPU per request of the fetcher alone (not a test): `Fetcher.get_json` over loopback.

The upstream is bench_rescan's (a child process serving the recorded fixtures as templates,
70 % hits, every 10th product the 102-SKU one). In this process, on uvloop, 64 workers GET ids
1..N through one `Fetcher` with the unchanged pass's decode hook (an XXH3 fingerprint of the
raw body, no JSON decoding), so what is measured is the HTTP client and the fetcher's own
bookkeeping. Each variant is one way of doing the GET (`Fetcher(transport=...)`); variants run
interleaved round by round (the machine is shared), and per variant the medians are printed:
this process's CPU-s per 1,000 requests (time.process_time) and requests/s.

    python tests/benchmarks/bench_fetcher.py [--ids 5000] [--rounds 3] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import uvloop
import xxhash

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced.http import Fetcher, HostPolicy  # noqa: E402
from tests.benchmarks.bench_rescan import start_upstream  # noqa: E402
from tests.helpers.net import free_port  # noqa: E402

VARIANTS = ("aiohttp", "lean")


async def one_round(url: str, transport: str, ids: int, concurrency: int) -> tuple[float, float]:
    """CPU-s per 1,000 requests and requests/s of one pass over ids 1..`ids`."""
    policy = HostPolicy(rps=0, concurrency=concurrency, timeout_s=30, max_retries=2)
    queue = iter(range(1, ids + 1))

    def fingerprint(body: bytes) -> int:
        return xxhash.xxh3_64_intdigest(body)

    async with Fetcher(policy, transport=transport) as fetcher:  # type: ignore[arg-type]
        await fetcher.get_json(f"{url}/__ready", decode=fingerprint)

        async def worker() -> None:
            for pid in queue:
                await fetcher.get_json(f"{url}/api/v2/product/{pid}", decode=fingerprint)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / ids * 1000, ids / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    variants = args.variants.split(",")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    upstream = start_upstream(port)
    try:
        results: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
        for _ in range(args.rounds):
            for variant in variants:
                figures = uvloop.run(one_round(url, variant, args.ids, args.concurrency))
                results[variant].append(figures)
        print(f"{args.ids:,} GETs per round, {args.rounds} rounds, medians:")
        print(f"{'transport':<12}{'CPU-s/1k requests':>19}{'requests/s':>12}")
        for variant, runs in results.items():
            cpu = statistics.median(r[0] for r in runs)
            rate = statistics.median(r[1] for r in runs)
            print(f"{variant:<12}{cpu:>19.3f}{rate:>12,.0f}")
    finally:
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    main()
