"""End-to-end ingest benchmark (not a test): the real daemon scanning the simulator.

Starts `marketplaced simulate` (no faults, no rate limit) and `marketplaced run` as subprocesses
against a fresh scratch database, waits until the scanner's committed cursor passes the last id,
and prints:
- products/s and ids/s end to end (found products committed to PostgreSQL),
- the daemon's CPU-ms per 1,000 products (user+sys from /proc) and its peak RSS (VmHWM),
- PostgreSQL's CPU: only the backends of the scratch database (tests/benchmarks/pg_cpu.py says
  how and what it cannot see), in total and per connection,
- in the same run, the baseline ceiling: the same ids fetched by a bare aiohttp client that
  throws the bodies away (no parse, no database).

Nothing leaves the machine: every upstream URL of the daemon's configuration points at the
simulator (checked before the daemon starts), and what the benchmark does not measure (the UZEX
scanners, the scheduled jobs, the dashboard) is switched off.

Usage: python tests/benchmarks/bench_ingest.py [--ids 60000] [--concurrency 64]
Credentials: the environment or .env.test (as the test suite).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ipaddress
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db, platforms  # noqa: E402
from marketplaced.config import Config, DatabaseConfig  # noqa: E402
from tests.benchmarks.pg_cpu import BackendCpu, cpu_s  # noqa: E402
from tests.conftest import env_for_tests  # noqa: E402  (loads .env.test)
from tests.helpers.net import free_port  # noqa: E402


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


def daemon_setup(tmp: Path, url: str, db_name: str, ids: int, concurrency: int) -> dict[str, str]:
    """Write the daemon's config file under `tmp`; return the daemon's environment."""
    conf = tmp / "bench.toml"
    conf.write_text(f"""
[log]
level = "warning"
[uzum]
# the round-robin cycle and its cursor are what this checks
mode = "roundrobin"
rps = 0.0
concurrency = {concurrency}
frontier_misses = 1000
max_id = {ids}
cycle_pause_s = 3600.0
checkpoint_every = 1000
[uzex]
enabled = false
[jobs]
enabled = false
[web]
enabled = false
""")
    env = {
        **os.environ,
        **env_for_tests(),
        "DB_NAME": db_name,
        "MARKETPLACED_CONFIG": str(conf),
        # UZEX is switched off above; its hosts point here too, should anyone switch it on
        "UZUM_BASE_URL": url,
        "UZEX_BASE_URL": url,
        "STATE_DIRECTORY": str(tmp),
    }
    env.pop("NOTIFY_SOCKET", None)
    return env


def off_machine_urls(cfg: Config) -> list[str]:
    """Every `*url` setting of every section whose host is not a loopback address."""
    found = []
    for name, value in cfg.sections().items():
        for f in dataclasses.fields(value):
            url = getattr(value, f.name)
            if f.name.endswith("url") and isinstance(url, str) and not _loopback(url):
                found.append(f"{name}.{f.name} = {url}")
    return found


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def committed_position(conn: asyncpg.Connection) -> tuple[int, int]:
    row = await conn.fetchrow("SELECT position FROM scan_cursors WHERE scanner = 'uzum.products'")
    found = await conn.fetchval("SELECT count(*) FROM products")
    return (row["position"] if row else 0), int(found)


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


@dataclasses.dataclass
class Run:
    elapsed: float
    found: int
    daemon_cpu: float
    sim_cpu: float
    pg: BackendCpu


async def watch(
    daemon: subprocess.Popen[bytes], sim_pid: int, dbcfg: DatabaseConfig, ids: int, log: Path
) -> Run:
    """Poll the committed cursor until it passes the last id, sampling the database's backends.

    One connection does the polling (a new one per poll would be a backend of the measured
    database that exits between samples); the meter leaves it out.
    """
    conn = await db.connect(dbcfg)
    try:
        pg = BackendCpu(conn, dbcfg.name)
        await pg.start()
        started = time.monotonic()
        sim_cpu0 = cpu_s(sim_pid)
        position, found = 0, 0
        while position < ids:
            await asyncio.sleep(0.25)  # the sampling interval (what an exited backend can lose)
            if daemon.poll() is not None:
                raise SystemExit(f"daemon exited early; its log: {log}")
            await pg.sample()
            position, found = await committed_position(conn)
        await pg.sample()
        return Run(
            time.monotonic() - started, found, cpu_s(daemon.pid), cpu_s(sim_pid) - sim_cpu0, pg
        )
    finally:
        await conn.close()


def report(args: argparse.Namespace, run: Run, rss: float, base_rate: float) -> None:
    found, elapsed = run.found, run.elapsed
    per_k = 1e6 / max(found, 1)
    pg_cpu = run.pg.total_s()
    busy = run.pg.per_backend_s()
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
    print(f"daemon CPU             {run.daemon_cpu * per_k:>10,.0f} ms per 1,000 products")
    print(
        f"PostgreSQL CPU         {pg_cpu * per_k:>10,.0f} ms per 1,000 products   "
        f"(this database's backends only: {len(busy)} busy, "
        f"per connection {', '.join(f'{b:.1f}' for b in busy[:6])} s)"
    )
    print(f"daemon peak RSS        {rss:>10,.0f} MB")
    print(
        f"CPU split              daemon {run.daemon_cpu:.1f} s, simulator {run.sim_cpu:.1f} s, "
        f"PostgreSQL {pg_cpu:.1f} s over {elapsed:.1f} s wall (2 cores = {2 * elapsed:.0f} core-s)"
    )
    print(
        f"baseline (fetch only)  {base_rate:>10,.0f} ids/s   "
        "(bare aiohttp client, bodies discarded)"
    )


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
        env = daemon_setup(tmp, url, name, args.ids, args.concurrency)
        remote = off_machine_urls(platforms.load_config(env))
        if remote:
            raise SystemExit(f"the daemon would leave the machine: {'; '.join(remote)}")
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/__sim/stats", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        # both runs are cold for the daemon's side; the simulator's product cache (20k
        # entries) is smaller than the range
        base_rate = asyncio.run(baseline(url, args.ids, args.concurrency))
        dbcfg = asyncio.run(scratch_db(name))
        log = tmp / "daemon.log"
        daemon = subprocess.Popen(
            [sys.executable, "-m", "marketplaced.cli", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        run = asyncio.run(watch(daemon, sim.pid, dbcfg, args.ids, log))
        rss = peak_rss_mb(daemon.pid)
        daemon.terminate()
        daemon.wait(30)
        report(args, run, rss, base_rate)
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)
        sim.terminate()
        sim.wait(10)
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
