"""End-to-end ingest benchmark (not a test): the real daemon scanning the simulator.

Starts `marketplaced simulate` (no faults, no rate limit) and `marketplaced run` as subprocesses
against a fresh scratch database, waits until the scanner's committed cursor passes the last id,
and prints:
- products/s and ids/s end to end (found products committed to PostgreSQL),
- the daemon's CPU-ms per 1,000 products (user+sys from /proc) and its peak RSS (VmHWM),
- in the same run, the baseline ceiling: the same ids fetched by a bare aiohttp client that
  throws the bodies away (no parse, no database).

Usage: python tests/benchmarks/bench_ingest.py [--ids 60000] [--concurrency 64]
Credentials: the environment or .env.test (as the test suite).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db  # noqa: E402
from marketplaced.config import DatabaseConfig  # noqa: E402
from tests.conftest import env_for_tests  # noqa: E402  (loads .env.test)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def postgres_cpu_s() -> float:
    """CPU of every postgres process (server + backends), where readable."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip().startswith("postgres"):
                    total += cpu_s(int(proc.name))
            except OSError:
                continue
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def admin(sql: str) -> None:
    env = env_for_tests()
    cfg = DatabaseConfig(
        host=env.get("DB_HOST", "127.0.0.1"),
        port=int(env.get("DB_PORT", "5432")),
        user=env.get("DB_USER", "marketplaced"),
        password=env.get("DB_PASSWORD", ""),
        name=os.environ.get("DB_NAME", "postgres"),
    )
    conn = await db.connect(cfg)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def scratch_db(name: str) -> DatabaseConfig:
    await admin(f'CREATE DATABASE "{name}"')
    env = env_for_tests()
    cfg = DatabaseConfig(
        host=env.get("DB_HOST", "127.0.0.1"),
        port=int(env.get("DB_PORT", "5432")),
        user=env.get("DB_USER", "marketplaced"),
        password=env.get("DB_PASSWORD", ""),
        name=name,
    )
    conn = await db.connect(cfg)
    try:
        await db.migrate(conn)
    finally:
        await conn.close()
    return cfg


async def committed_position(cfg: DatabaseConfig) -> tuple[int, int]:
    conn = await db.connect(cfg)
    try:
        row = await conn.fetchrow(
            "SELECT position FROM scan_cursors WHERE scanner = 'uzum.products'"
        )
        found = await conn.fetchval("SELECT count(*) FROM products")
        return (row["position"] if row else 0), int(found)
    finally:
        await conn.close()


async def baseline(url: str, n: int, concurrency: int) -> float:
    """Fetch ids 1..n with a bare client and discard the bodies: the HTTP ceiling."""
    ids = iter(range(1, n + 1))
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            for i in ids:
                async with session.get(f"{url}/api/v2/product/{i}") as resp:
                    await resp.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.monotonic() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=60_000)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marketplaced.cli",
            "simulate",
            "--port",
            str(port),
            "--ids",
            str(args.ids),
            "--tick-seconds",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    name = f"mp_bench_{uuid.uuid4().hex[:8]}"
    daemon: subprocess.Popen[bytes] | None = None
    tmp = Path(f"/tmp/{name}")
    tmp.mkdir()
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/__sim/stats", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        # warm the simulator's caches identically for both runs? No: both runs are cold for the
        # daemon's side; the simulator's product cache (20k entries) is smaller than the range.
        base_rate = asyncio.run(baseline(url, args.ids, args.concurrency))
        dbcfg = asyncio.run(scratch_db(name))
        conf = tmp / "bench.toml"
        conf.write_text(f"""
[log]
level = "warning"
[uzum]
rps = 0.0
concurrency = {args.concurrency}
frontier_misses = 1000
max_id = {args.ids}
cycle_pause_s = 3600.0
checkpoint_every = 1000
[web]
enabled = false
""")
        env = {
            **os.environ,
            **env_for_tests(),
            "DB_NAME": name,
            "MARKETPLACED_CONFIG": str(conf),
            "UZUM_BASE_URL": url,
            "STATE_DIRECTORY": str(tmp),
        }
        env.pop("NOTIFY_SOCKET", None)
        daemon = subprocess.Popen(
            [sys.executable, "-m", "marketplaced.cli", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "daemon.log").open("wb"),
        )
        started = time.monotonic()
        sim_cpu0, pg_cpu0 = cpu_s(sim.pid), postgres_cpu_s()
        cpu0 = None
        position, found = 0, 0
        while position < args.ids:
            time.sleep(0.25)
            if daemon.poll() is not None:
                raise SystemExit(f"daemon exited: {(tmp / 'daemon.log').read_text()[-2000:]}")
            if cpu0 is None:
                cpu0 = 0.0
            position, found = asyncio.run(committed_position(dbcfg))
        elapsed = time.monotonic() - started
        cpu = cpu_s(daemon.pid)
        sim_cpu = cpu_s(sim.pid) - sim_cpu0
        pg_cpu = postgres_cpu_s() - pg_cpu0
        rss = peak_rss_mb(daemon.pid)
        daemon.terminate()
        daemon.wait(30)
        print(
            f"ids scanned            {args.ids:>10,}   "
            f"(concurrency {args.concurrency}, 2 cores shared "
            f"by simulator, daemon and PostgreSQL)"
        )
        print(f"products committed     {found:>10,}")
        print(
            f"end to end             {found / elapsed:>10,.0f} products/s   "
            f"{args.ids / elapsed:,.0f} ids/s"
            f"   ({elapsed:.1f} s incl. start-up)"
        )
        print(f"daemon CPU             {cpu * 1e6 / max(found, 1):>10,.0f} ms per 1,000 products")
        print(f"daemon peak RSS        {rss:>10,.0f} MB")
        print(
            f"CPU split              daemon {cpu:.1f} s, simulator {sim_cpu:.1f} s, PostgreSQL "
            f"{pg_cpu:.1f} s over {elapsed:.1f} s wall (2 cores = {2 * elapsed:.0f} core-s)"
        )
        print(
            f"baseline (fetch only)  {base_rate:>10,.0f} ids/s   "
            "(bare aiohttp client, bodies discarded)"
        )
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)
        sim.terminate()
        sim.wait(10)
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
