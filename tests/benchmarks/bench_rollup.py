"""Sales rollup benchmark (not a test): what keeping today's sales current costs per writer
batch, next to the writer's own time for that batch, measured in the same run.

A simulated catalogue is scanned hour by hour in batches of `--batch` products (parsed before
the clock starts); each batch is written as the writer's sink writes it (upserts, change-based
history, the commit-log stamp) and timed; then the minute job folds it into the day rows and
is timed too. Target: rollup ≤ 10 % of the writer's time per batch. Odd hours fold after
every batch (the worst case: one batch a minute); even hours fold as the minute job does when
the writer is busy, `--per-minute` batches at once, and the fold's time is divided by them.
Also prints one nightly recomputation of a whole day. The process runs under the daemon's
garbage-collector policy (gc_policy.py), as the writer and the minute job do there. Each
step's median is printed as wall time and as CPU time (this process's and its server
processes', read from /proc): on a shared, loaded machine the wall time also counts the waits
for a core, the CPU time only the work.

`--baseline REV` measures commit REV's code first (its package and migrations exported with
`git archive`, run in a subprocess on a database of its own), then this tree's the same way, and
prints both side by side with the load average: the before and after of a change from one run.
`--rounds N` alternates N measurements of each and prints each figure's median.

Usage: python tests/benchmarks/bench_rollup.py [--ids 3000] [--batch 500] [--hours 6]
    [--per-minute 6] [--realistic] [--baseline REV [--rounds 1]]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# after $PYTHONPATH: a baseline's exported package put there is the one imported
sys.path.append(str(ROOT))

import asyncpg  # noqa: E402

from marketplaced import commit_log, db, gc_policy  # noqa: E402
from marketplaced.platforms.uzum.parser import parse_product  # noqa: E402
from marketplaced.platforms.uzum.records import ProductSnapshot  # noqa: E402
from marketplaced.platforms.uzum.storage import UzumSink  # noqa: E402
from marketplaced.sales import rollup  # noqa: E402
from marketplaced.simulator.uzum import UzumCatalogue  # noqa: E402
from marketplaced.simulator.uzum.realism import Realism  # noqa: E402
from tests.benchmarks import baseline_tree  # noqa: E402
from tests.conftest import base_config  # noqa: E402  (loads .env.test)
from tests.helpers.sales_scenario import TZ  # noqa: E402

DAY = date(2026, 11, 2)


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ids", type=int, default=3000, help="product ids of the catalogue")
    ap.add_argument("--batch", type=int, default=500, help="products per writer batch")
    ap.add_argument("--hours", type=int, default=6, help="simulated hours (one pass each)")
    ap.add_argument(
        "--per-minute", type=int, default=6, help="batches the minute job folds at once"
    )
    ap.add_argument(
        "--realistic",
        action="store_true",
        help="the simulator's realistic dynamics (a long tail: most visits find no change)",
    )
    ap.add_argument(
        "--baseline", metavar="REV", help="also measure commit REV's code, first (the before)"
    )
    ap.add_argument(
        "--rounds", type=int, default=1, help="with --baseline: measurements of each, alternated"
    )
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # a measuring child
    return ap.parse_args()


class CpuClock:
    """CPU time spent by this process and by the pool's server processes, in ms: on a shared,
    loaded machine what a step costs, where its wall time also counts the waits for a core.
    Read from /proc (a server on this host); NaN where it cannot be read."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends

    def now(self) -> float:
        total = time.process_time_ns()
        try:
            for pid in self.backends:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return math.nan
        return total / 1e6


async def cpu_clock(pool: asyncpg.Pool) -> CpuClock:
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    pids = [await c.fetchval("SELECT pg_backend_pid()") for c in held]
    for c in held:
        await pool.release(c)
    return CpuClock(pids)


async def run(args: argparse.Namespace) -> dict[str, float]:
    """One measurement with the imported code; returns its figures (ms, rows)."""
    base = base_config()
    name = f"mp_benchr_{uuid.uuid4().hex[:8]}"
    admin = await db.connect(dataclasses.replace(base.database, name="postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    cfg = dataclasses.replace(base.database, name=name, pool_min=2, pool_max=2)
    settings = rollup.SalesSettings.from_config(base.jobs)
    try:
        conn = await db.connect(cfg)
        await db.migrate(conn)
        await conn.close()
        pool = await db.create_pool(cfg)
        # realistic: one tick per simulated hour, as the passes here
        realism = Realism(tick_ms=3_600_000) if args.realistic else None
        cat = UzumCatalogue(7, args.ids, realism=realism)
        ids = [i for i in range(1, args.ids + 1) if cat.product_payload(i, 0) is not None]
        # the daemon's collector policy: the writer and the minute job run in its process
        gc_policy.apply(base.daemon)
        sink = UzumSink()
        start = datetime.combine(DAY, datetime.min.time(), TZ) + timedelta(hours=1)
        clock = await cpu_clock(pool)
        # wall times, then CPU times ("…_cpu"), per batch
        ms: dict[str, list[float]] = {k: [] for k in ("writer", "rollup", "minute")}
        cpu: dict[str, list[float]] = {k: [] for k in ("writer", "rollup", "minute")}
        pending = 0
        for hour in range(args.hours):
            for k in range(0, len(ids), args.batch):
                chunk = ids[k : k + args.batch]
                snaps = []
                for pid in chunk:
                    raw = cat.product_payload(pid, hour)
                    if raw is None:  # delisted this hour (realistic dynamics)
                        continue
                    snap = parse_product(200, json.loads(json.dumps(raw)), pid)
                    assert isinstance(snap, ProductSnapshot)
                    snaps.append(snap)
                now = start + timedelta(hours=hour, seconds=k)
                t0, c0 = time.perf_counter(), clock.now()
                async with pool.acquire() as c, c.transaction():
                    await sink.write(c, {ProductSnapshot: snaps}, now)
                    await commit_log.stamp(c, now)
                t1, c1 = time.perf_counter(), clock.now()
                pending += 1
                every = hour == 0 or hour % 2 == 1
                fold = every or pending == args.per_minute or k + args.batch >= len(ids)
                if fold:
                    await rollup.catch_up(pool, settings, now + timedelta(seconds=1))
                t2, c2 = time.perf_counter(), clock.now()
                if hour > 0:  # the first pass writes every product new: not the steady state
                    ms["writer"].append((t1 - t0) * 1000)
                    cpu["writer"].append(c1 - c0)
                    if fold:
                        kind = "rollup" if every else "minute"
                        ms[kind].append((t2 - t1) * 1000 / pending)
                        cpu[kind].append((c2 - c1) / pending)
                if fold:
                    pending = 0
        figures = {"products": len(ids), "batches": len(ms["writer"])}
        for kind in ms:
            figures[kind] = statistics.median(ms[kind]) if ms[kind] else math.nan
            figures[f"{kind}_cpu"] = statistics.median(cpu[kind]) if cpu[kind] else math.nan
        t0 = time.perf_counter()
        figures["recount_rows"] = await rollup.compute_day(pool, DAY, settings)
        figures["recount_s"] = time.perf_counter() - t0
        await pool.close()
        return figures
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def report(args: argparse.Namespace, columns: dict[str, dict[str, float]]) -> None:
    first = next(iter(columns.values()))
    dynamics = "realistic" if args.realistic else "uniform"
    print(
        f"{int(first['products'])} products ({dynamics} dynamics), batches of {args.batch}, "
        f"{int(first['batches'])} batches measured; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(f"{'':44}" + "".join(f"{name:>22}" for name in columns))

    def line(label: str, key: str) -> None:
        cells = []
        for f in columns.values():
            writer = f["writer_cpu" if key.endswith("_cpu") else "writer"]
            pct = f"({100 * f[key] / writer:.1f} %)" if not key.startswith("writer") else ""
            cells.append(f"{f[key]:8.1f} ms {pct:>10}")
        print(f"{label:44}" + "".join(f"{c:>22}" for c in cells))

    for suffix, what in (("", "wall time"), ("_cpu", "CPU, client + server")):
        print(f"median per batch, {what}:")
        line("  writer", f"writer{suffix}")
        line("  rollup, folded after each batch", f"rollup{suffix}")
        line(f"  minute job, {args.per_minute} batches a fold", f"minute{suffix}")
    recounts = [
        f"{int(f['recount_rows'])} rows in {f['recount_s']:.2f} s" for f in columns.values()
    ]
    print(f"{'nightly recount of the day':44}" + "".join(f"{c:>22}" for c in recounts))


def export(rev: str, tmp: Path) -> Path:
    """The package and migrations of commit ``rev``, under ``tmp``."""
    return baseline_tree.export(rev, tmp / "baseline")


def measure(args: argparse.Namespace, code: Path | None) -> dict[str, float]:
    """This script run as a child on `code` (None: this tree) with the same sizes; its
    figures."""
    argv = ["--ids", str(args.ids), "--batch", str(args.batch), "--hours", str(args.hours)]
    argv += ["--per-minute", str(args.per_minute), "--json"]
    if args.realistic:
        argv.append("--realistic")
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    done = subprocess.run([sys.executable, __file__, *argv], env=env, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"the measurement on {code or 'this tree'} failed:\n{done.stderr.decode()}")
    figures: dict[str, float] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return figures


def main() -> None:
    args = arguments()
    if args.json:
        print(json.dumps(asyncio.run(run(args))))
        return
    if not args.baseline:
        report(args, {"this tree": asyncio.run(run(args))})
        return
    runs: dict[str, list[dict[str, float]]] = {f"baseline {args.baseline}": [], "this tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        code = {f"baseline {args.baseline}": export(args.baseline, Path(tmp)), "this tree": None}
        for i in range(args.rounds):
            # baseline first in even rounds, this tree first in odd ones: a load that drifts
            # during the run weighs on both alike
            for name in list(runs) if i % 2 == 0 else list(runs)[::-1]:
                runs[name].append(measure(args, code[name]))
    # each figure's median over the rounds
    report(
        args,
        {
            name: {k: statistics.median(f[k] for f in fs) for k in fs[0]}
            for name, fs in runs.items()
        },
    )


if __name__ == "__main__":
    main()
