"""CPU per product of the one-shot Uzum download on the recorded payloads (not a test).

Serves the recorded fixtures as templates (tests/benchmarks/recorded_upstream.py: 70 % hits,
every 10th product the 102-SKU one) from a child process, and runs `marketplaced download uzum
--from 1 --to N` into a fresh scratch database once per variant and round, the variants
interleaved round by round (this machine is shared: a slow minute hits every variant alike).
A variant is a set of config overrides; the first one is the baseline. Per variant it prints
the medians of:
- products/s end to end (wall time of the command, start-up included),
- the command's CPU-s per 1,000 products (user + sys of the process, from wait4), and the same
  after subtracting the CPU of a run over 10 ids (start-up: imports, pool, schema check),
- PostgreSQL CPU-s per 1,000 products (the scratch database's backends only, pg_cpu.py).
Then, in this process and with no I/O at all, decode + parse of the same bodies with Python's
collector policy and with the shipped one, interleaved, holding the last writer batch of
records alive as a scan does (the writer queue is what the full collections keep traversing):
CPU-s per 1,000 products from time.process_time. It is the steadier figure on a loaded machine.

    python tests/benchmarks/bench_hotpath.py [--ids 10000] [--rounds 3] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db, gc_policy  # noqa: E402
from marketplaced.config import DaemonConfig  # noqa: E402
from marketplaced.http import decode_json  # noqa: E402
from marketplaced.platforms.uzum.parser import parse_product  # noqa: E402
from tests.benchmarks.pg_cpu import BackendCpu  # noqa: E402
from tests.benchmarks.recorded_upstream import BIG, BIG_EVERY, SMALL, Template, is_hit  # noqa: E402
from tests.conftest import _admin, _admin_cfg, env_for_tests  # noqa: E402
from tests.helpers.net import free_port  # noqa: E402

#: name → [daemon] overrides; the first is the baseline (Python's own collector policy)
VARIANTS: dict[str, dict[str, object]] = {
    "python gc": {"gc_threshold": 0, "gc_freeze": False},
    "freeze only": {"gc_threshold": 0, "gc_freeze": True},
    "threshold only": {"gc_threshold": 50_000, "gc_freeze": False},
    "shipped (both)": {},
}


@dataclasses.dataclass
class Run:
    wall_s: float
    cpu_s: float
    pg_cpu_s: float
    found: int


def toml_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def write_config(path: Path, concurrency: int, daemon: dict[str, object]) -> None:
    lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in daemon.items())
    path.write_text(f"""
[daemon]
{lines}
[log]
level = "warning"
[uzum]
# the round-robin cycle and its cursor are what this checks
mode = "roundrobin"
rps = 0.0
concurrency = {concurrency}
checkpoint_every = 1000
[uzex]
enabled = false
""")


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[int, resource.struct_rusage]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return status, usage


async def sample_until_cancelled(pg: BackendCpu) -> None:
    while True:
        await pg.sample()
        await asyncio.sleep(0.2)  # sampling interval: what an exited backend can lose


async def run_once(url: str, template: str, conf: Path, ids: int, state: Path) -> Run:
    name = f"mp_hot_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    dbcfg = dataclasses.replace(_admin_cfg(), name=name)
    env = {
        **os.environ,
        **env_for_tests(),
        "DB_NAME": name,
        "MARKETPLACED_CONFIG": str(conf),
        "UZUM_BASE_URL": url,
        "UZEX_BASE_URL": url,
        "STATE_DIRECTORY": str(state),
    }
    conn = await db.connect(dbcfg)
    try:
        pg = BackendCpu(conn, name)
        await pg.start()
        started = time.monotonic()
        cmd = [sys.executable, "-m", "marketplaced.cli", "download", "uzum", "--to", str(ids)]
        sampler = asyncio.create_task(sample_until_cancelled(pg))
        try:
            # wait4, not asyncio's child watcher: the child's rusage is its CPU, start to exit
            status, usage = await asyncio.to_thread(run_child, cmd, env)
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        await pg.sample()
        wall = time.monotonic() - started
        if code := os.waitstatus_to_exitcode(status):
            raise SystemExit(f"download exited {code} (config {conf})")
        found = int(await conn.fetchval("SELECT count(*) FROM products"))
        return Run(wall, usage.ru_utime + usage.ru_stime, pg.total_s(), found)
    finally:
        await conn.close()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median_run(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.wall_s for r in runs),
        statistics.median(r.cpu_s for r in runs),
        statistics.median(r.pg_cpu_s for r in runs),
        runs[0].found,
    )


async def bench(args: argparse.Namespace, url: str, tmp: Path) -> None:
    template = f"mp_hot_tpl_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{template}"')
    try:
        conn = await db.connect(dataclasses.replace(_admin_cfg(), name=template))
        try:
            await db.migrate(conn)
        finally:
            await conn.close()
        confs = {}
        for n, (name, overrides) in enumerate(VARIANTS.items()):
            confs[name] = tmp / f"variant{n}.toml"
            write_config(confs[name], args.concurrency, overrides)
        runs: dict[str, list[Run]] = {name: [] for name in VARIANTS}
        startup: dict[str, list[Run]] = {name: [] for name in VARIANTS}
        for rnd in range(args.rounds):
            for name, conf in confs.items():
                startup[name].append(await run_once(url, template, conf, 10, tmp))
                run = await run_once(url, template, conf, args.ids, tmp)
                runs[name].append(run)
                print(
                    f"  round {rnd + 1} {name:<16} {run.found / run.wall_s:7,.0f} products/s "
                    f"{run.cpu_s * 1000 / run.found:6.3f} CPU-s/1k",
                    file=sys.stderr,
                )
        report(args, runs, startup)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


def report(
    args: argparse.Namespace, runs: dict[str, list[Run]], startup: dict[str, list[Run]]
) -> None:
    hits = sum(1 for i in range(1, args.ids + 1) if is_hit(i))
    print(
        f"one-shot download of {args.ids:,} ids ({hits:,} products) on the recorded payloads, "
        f"concurrency {args.concurrency}; medians of {args.rounds} interleaved rounds"
    )
    print(
        f"{'variant':<16} {'products/s':>10} {'CPU-s/1k':>9} {'w/o start':>9} "
        f"{'PG CPU-s/1k':>11}   vs baseline (CPU w/o start-up)"
    )
    base: float | None = None
    for name in VARIANTS:
        m = median_run(runs[name])
        boot = statistics.median(r.cpu_s for r in startup[name])
        per_k = m.cpu_s * 1000 / m.found
        net_k = (m.cpu_s - boot) * 1000 / m.found
        base = net_k if base is None else base
        print(
            f"{name:<16} {m.found / m.wall_s:>10,.0f} {per_k:>9.3f} {net_k:>9.3f} "
            f"{m.pg_cpu_s * 1000 / m.found:>11.3f}   {100 * (net_k / base - 1):+6.1f} %"
        )
    print(f"(start-up alone: {boot:.2f} CPU-s, the median of the 10-id runs)")


def decode_parse_cpu_s(products: int, policy: DaemonConfig) -> float:
    """CPU-s per 1,000 products of decode + parse under `policy`, a batch of records alive."""
    small, big = Template(SMALL), Template(BIG)
    bodies = [(big if n % BIG_EVERY == 0 else small).body(n + 1) for n in range(BIG_EVERY)]
    batch_max = 2000  # writer.batch_max: records held until their batch commits
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    gc.collect()
    gc_policy.apply(policy)
    held: collections.deque[object] = collections.deque(maxlen=batch_max)
    started = time.process_time()
    for n in range(products):
        k = n % BIG_EVERY
        held.append(parse_product(200, decode_json(bodies[k]), k + 1))
    spent = time.process_time() - started
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    return spent * 1000 / products


def decode_parse(rounds: int, products: int) -> None:
    policies = {
        "python gc": DaemonConfig(gc_threshold=0, gc_freeze=False),
        "shipped": DaemonConfig(),
    }
    spent: dict[str, list[float]] = {name: [] for name in policies}
    for _ in range(rounds):
        for name, policy in policies.items():
            spent[name].append(decode_parse_cpu_s(products, policy))
    base = statistics.median(spent["python gc"])
    print(f"decode + parse only, {products:,} products x {rounds} interleaved rounds (medians):")
    for name in policies:
        m = statistics.median(spent[name])
        print(f"  {name:<14} {m:6.3f} CPU-s per 1,000 products   {100 * (m / base - 1):+6.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--decode-only", action="store_true", help="only the in-process figure")
    args = ap.parse_args()
    if args.decode_only:
        decode_parse(args.rounds * 2, 5000)
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    upstream = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("recorded_upstream.py")), "--port", str(port)]
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/api/v2/product/1", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory(prefix="mp-hot-") as tmp:
            asyncio.run(bench(args, url, Path(tmp)))
        decode_parse(args.rounds * 2, 5000)
    finally:
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    main()
