"""Re-scan benchmark (not a test): what a first, an unchanged and a changed pass cost.

An upstream of this script (a subprocess on a free loopback port) serves the recorded fixtures
as templates: 70 % of ids answer a product (the others 404), every 10th product is the 102-SKU
fixture, the others the 11-SKU one, each renumbered to its id (SKU ids too) and stamped with a
fresh envelope `timestamp` per request, as the real API does. The real daemon (`marketplaced
run`, UZEX, jobs and web off, every URL on loopback) scans ids 1..N continuously; each cycle is
one pass:

1. first pass (empty database), 2. unchanged pass, 3. a pass where 1 product in 7 changed its
price, then 10 more unchanged passes (the growth of the tables over them).

Per pass it prints products/s, the daemon's CPU-s per 1,000 products, the CPU-s of this
database's PostgreSQL backends per 1,000 (tests/benchmarks/pg_cpu.py), WAL bytes per product
(`pg_current_wal_lsn` difference: the server's WAL is shared, so other databases' work in the
same seconds is included — the idle WAL rate measured before the passes is printed beside it),
the relation size per 1,000 products after the pass, the history rows it added and the oldest
transaction open during it that kept this database's dead row versions (in any database when
it writes: then nothing replaced since it began can be pruned or vacuumed, and the tables grow
whatever their settings; on a shared server that is other databases' work).

The baseline is the code before this change, run in the same invocation: the commit before the
one that added marketplaced/platforms/uzum/visits.py, extracted with `git archive` into a
temporary directory and run from there (PYTHONPATH) against its own scratch database and the
same upstream. `--baseline REV` runs that commit (e.g. main's head before a change) as the
baseline instead; `--passes N` sets how many unchanged passes follow the changed one.
After each table of passes it prints where the bytes go: every relation's size (each table's
heap, its TOAST table and each of its indexes) per 1,000 products after the first, the changed
and the last pass.

Usage: python tests/benchmarks/bench_rescan.py [--ids 30000] [--quick] [--no-baseline]
       [--baseline REV] [--passes N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db  # noqa: E402
from marketplaced.config import DatabaseConfig  # noqa: E402
from tests.benchmarks.bench_ingest import admin, daemon_setup, free_port  # noqa: E402
from tests.benchmarks.pg_cpu import BackendCpu, cpu_s  # noqa: E402
from tests.helpers import recorded  # noqa: E402

SMALL, BIG = 1772350, 2114919
#: stands for the product id in the encoded templates; SKU ids are SENTINEL * 1000 + index,
#: so one bytes.replace renumbers both
SENTINEL = b"987654321"
CHANGED_EVERY = 7
UNCHANGED_PASSES = 10
TABLES = (
    "products",
    "skus",
    "sellers",
    "categories",
    "uzum_visits",
    "uzum_missing",
    "search_vocabulary",
)
#: each table's heap (with its free space and visibility maps), its TOAST table (with the TOAST
#: index) and each index, in bytes; they sum to pg_total_relation_size of the tables
_RELATIONS = """
SELECT t.relname AS table_name, 'heap' AS part,
       pg_table_size(t.oid) - coalesce(pg_total_relation_size(nullif(t.reltoastrelid, 0)), 0)
           AS bytes
FROM pg_class t WHERE t.oid = ANY($1::regclass[])
UNION ALL
SELECT t.relname, 'toast', pg_total_relation_size(t.reltoastrelid)
FROM pg_class t WHERE t.oid = ANY($1::regclass[]) AND t.reltoastrelid <> 0
UNION ALL
SELECT t.relname, i.relname, pg_total_relation_size(i.oid)
FROM pg_class t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid
WHERE t.oid = ANY($1::regclass[])
ORDER BY 1, 2
"""


# -- the upstream ----------------------------------------------------------------------------


def _template(pid: int, bump: int) -> tuple[bytes, bytes]:
    """The fixture encoded around its timestamp, ids replaced by the sentinel; `bump` added to
    every SKU's purchase price (the changed variant)."""
    data = recorded.uzum_json(pid)
    product = data["payload"]["data"]
    product["id"] = int(SENTINEL)
    for i, sku in enumerate(product.get("skuList") or []):
        sku["id"] = int(SENTINEL) * 1000 + i
        if bump and sku.get("purchasePrice") is not None:
            sku["purchasePrice"] += bump
    data.pop("timestamp", None)
    body = orjson.dumps(data)
    return body[:-1] + b',"timestamp":"', b'"}'


def _is_product(pid: int) -> bool:
    return (pid * 2654435761) % 100 < 70


def serve(port: int) -> None:
    from aiohttp import web

    templates = {
        (big, changed): _template(BIG if big else SMALL, 1000 if changed else 0)
        for big in (False, True)
        for changed in (False, True)
    }
    #: visits per id: the third visit and later ones answer the changed price (pass 3 is the
    #: changed pass, and the passes after it see that price unchanged), whichever cycle the
    #: daemon's writer has committed by then
    visits: dict[int, int] = {}
    ordinal = {}
    n = 0
    for pid in range(1, 10_000_000):
        if len(ordinal) >= 2_000_000:
            break
        if _is_product(pid):
            ordinal[pid] = n
            n += 1

    async def product(request: web.Request) -> web.Response:
        pid = int(request.match_info["pid"])
        k = ordinal.get(pid)
        if k is None:
            return web.Response(status=404, body=b'{"errors":[{"message":"not found"}]}')
        visits[pid] = seen = visits.get(pid, 0) + 1
        changed = seen >= 3 and pid % CHANGED_EVERY == 0
        head, tail = templates[(k % 10 == 0, changed)]
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").encode()
        body = head.replace(SENTINEL, str(pid).encode()) + stamp + tail
        return web.Response(body=body, content_type="application/json")

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def reset(request: web.Request) -> web.Response:
        visits.clear()  # a new daemon, a new first pass
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/api/v2/product/{pid}", product)
    app.router.add_get("/__ready", ready)
    app.router.add_get("/__reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- one measured daemon ----------------------------------------------------------------------


@dataclasses.dataclass
class Pass:
    name: str
    seconds: float
    products: int
    daemon_cpu: float
    pg_cpu: float
    wal: int
    size: int
    history: int
    #: WAL bytes/s the server wrote while this daemon idled just before the pass
    idle_wal_rate: float = 0.0
    end_lsn: int = 0
    end_at: float = 0.0
    #: the oldest transaction that held back what this database may prune and vacuum during the
    #: pass, in seconds (see _HORIZON)
    horizon_s: float = 0.0
    #: (table, heap / toast / index name) → bytes after the pass
    relations: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)


async def _relations(conn: Any) -> dict[tuple[str, str], int]:
    present = [t for t in TABLES if await conn.fetchval("SELECT to_regclass($1)", t) is not None]
    rows = await conn.fetch(_RELATIONS, present)
    return {(r["table_name"], r["part"]): int(r["bytes"]) for r in rows}


async def _snapshot(conn: Any) -> tuple[int, int, int]:
    size = 0
    for table in TABLES:
        size += await conn.fetchval(
            "SELECT coalesce(pg_total_relation_size(to_regclass($1)), 0)", table
        )
    history = await conn.fetchval(
        "SELECT (SELECT count(*) FROM price_history) + (SELECT count(*) FROM product_stats_history)"
    )
    lsn = await conn.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
    return int(size), int(history), int(lsn)


def _daemon_env(tmp: Path, url: str, name: str, ids: int, code: Path | None) -> dict[str, str]:
    env = daemon_setup(tmp, url, name, ids, 64)
    conf = Path(env["MARKETPLACED_CONFIG"])
    # 10 s between cycles: the writer commits the tail of a pass before the next pass starts
    # (it may lag the scanner by its queue), so each pass's CPU is its own
    text = conf.read_text().replace("cycle_pause_s = 3600.0", "cycle_pause_s = 10.0")
    conf.write_text(text.replace('level = "warning"', 'level = "info"'))
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


async def measure(label: str, url: str, ids: int, code: Path | None, passes_n: int) -> list[Pass]:
    """Run one daemon (this code, or the baseline's at `code`) through the passes."""
    name = f"mp_rescan_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(lambda: urllib.request.urlopen(f"{url}/__reset", timeout=5).read())
    tmp = Path(tempfile.mkdtemp(prefix=name))
    await admin(f'CREATE DATABASE "{name}"')
    env = _daemon_env(tmp, url, name, ids, code)
    cwd = code or ROOT
    subprocess.run(  # noqa: ASYNC221
        [sys.executable, "-m", "marketplaced.cli", "migrate"],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    dbcfg = dataclasses.replace(await _admin_cfg(), name=name)
    daemon = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "marketplaced.cli", "run"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "daemon.log").open("wb"),
    )
    idle_rate = await idle_wal_rate()
    plan = ["first", "unchanged", "changed"] + [f"unchanged {i + 1}" for i in range(passes_n)]
    passes: list[Pass] = []
    conn = await db.connect(dbcfg)
    try:
        pg = BackendCpu(conn, name)
        await pg.start()
        for cycle, pass_name in enumerate(plan, start=1):
            # the daemon pauses between cycles: the pass starts when its cycle does
            while cycle > 1 and (await conn.fetchrow(_CURSOR))["cycle"] < cycle:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            _, history, lsn = await _snapshot(conn)
            if passes:  # WAL of the pause (this daemon idle): other databases' rate
                idle_rate = (lsn - passes[-1].end_lsn) / (time.monotonic() - passes[-1].end_at)
            await pg.sample()
            cpu0, pg0, started = cpu_s(daemon.pid), pg.total_s(), time.monotonic()
            horizon = 0.0
            while True:
                await asyncio.sleep(0.2)  # the sampling interval of the backends' CPU
                if daemon.poll() is not None:
                    raise SystemExit(f"{label} daemon exited; log {tmp / 'daemon.log'}")
                await pg.sample()
                horizon = max(horizon, float(await conn.fetchval(_HORIZON)))
                row = await conn.fetchrow(_CURSOR)
                # a writer lagging behind the scanner may commit the end of this cycle and the
                # start of the next between two polls
                if row is not None and (
                    row["cycle"] > cycle or (row["cycle"] == cycle and row["position"] >= ids)
                ):
                    break
            seconds = time.monotonic() - started
            cpu, pgs = cpu_s(daemon.pid), pg.total_s()
            size, history2, lsn2 = await _snapshot(conn)
            found = int(await conn.fetchval("SELECT count(*) FROM products"))
            passes.append(
                Pass(
                    pass_name,
                    seconds,
                    found,
                    cpu - cpu0,
                    pgs - pg0,
                    lsn2 - lsn,
                    size,
                    history2 - history,
                    idle_rate,
                )
            )
            passes[-1].relations = await _relations(conn)
            passes[-1].horizon_s = horizon
            passes[-1].end_lsn, passes[-1].end_at = lsn2, time.monotonic()
    finally:
        await conn.close()
        daemon.terminate()
        daemon.wait(30)
        if not os.environ.get("BENCH_KEEP_DB"):
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"{label}: daemon log kept in {tmp}, database {name}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return passes


_CURSOR = "SELECT cycle, position FROM scan_cursors WHERE scanner = 'uzum.products'"
#: the age of the oldest transaction that keeps this database's dead row versions: one holding a
#: transaction id in ANY database of the server (every snapshot taken meanwhile counts it as
#: running, so its xmin holds back pruning and vacuum here too), or a snapshot in this one. While
#: one is open, no row version made dead after it started can be removed: every update needs
#: new space (a HOT update finds no room on its page), and the tables grow whatever their
#: fillfactor and autovacuum settings are. On a shared server, other databases' long
#: transactions are such a cause, and this column tells when they were.
_HORIZON = """
SELECT coalesce(extract(epoch FROM max(clock_timestamp() - xact_start)), 0)
FROM pg_stat_activity
WHERE pid <> pg_backend_pid()
  AND (backend_xid IS NOT NULL OR (datname = current_database() AND backend_xmin IS NOT NULL))"""


async def _admin_cfg() -> DatabaseConfig:
    from tests.conftest import env_for_tests

    env = env_for_tests()
    return DatabaseConfig(
        host=env.get("DB_HOST", "127.0.0.1"),
        port=int(env.get("DB_PORT", "5432")),
        user=env.get("DB_USER", "marketplaced"),
        password=env.get("DB_PASSWORD", ""),
        name="postgres",
    )


async def idle_wal_rate(seconds: float = 3.0) -> float:
    """WAL bytes/s the server writes while nothing of ours runs (other databases' work)."""
    conn = await db.connect(await _admin_cfg())
    try:
        a = await conn.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        await asyncio.sleep(seconds)
        b = await conn.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return float(b - a) / seconds
    finally:
        await conn.close()


def baseline_code(tmp: Path, rev: str | None = None) -> tuple[Path, str]:
    """`rev`, by default the commit before the visits table, extracted into `tmp`."""
    if rev is None:
        rev = _before_visits()
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
    for name in (".env.test",):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, tmp / name)
    return tmp, sha


def _before_visits() -> str:
    """Today's behaviour: the commit before the one that added the visits table."""
    added = subprocess.run(
        [
            "git",
            "log",
            "--diff-filter=A",
            "--format=%H",
            "--",
            "marketplaced/platforms/uzum/visits.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return f"{added[-1]}^" if added else "HEAD"


def report(label: str, passes: list[Pass], ids: int) -> None:
    print(f"\n{label}: {ids:,} ids, {passes[0].products:,} products")
    print(
        f"{'pass':<14}{'products/s':>11}{'daemon CPU-s/1k':>17}{'PG CPU-s/1k':>13}"
        f"{'WAL B/product':>15}{'others B/p':>12}{'net B/p':>9}{'MB/1k after':>13}"
        f"{'history +':>11}{'oldest xact s':>15}"
    )
    for p in passes[:3]:
        k = max(p.products, 1) / 1000
        # the server's WAL is shared: what others wrote at their rate of the pause before
        others = p.idle_wal_rate * p.seconds / max(p.products, 1)
        print(
            f"{p.name:<14}{p.products / p.seconds:>11,.0f}{p.daemon_cpu / k:>17.3f}"
            f"{p.pg_cpu / k:>13.3f}{p.wal / max(p.products, 1):>15,.0f}"
            f"{others:>12,.0f}{max(0.0, p.wal / max(p.products, 1) - others):>9,.0f}"
            f"{p.size / 1e6 / k:>13.2f}{p.history:>11,}{p.horizon_s:>15,.0f}"
        )
    tail = passes[3:]
    if tail:
        first, before = passes[0].size, passes[2].size
        last = tail[-1]
        k = max(last.products, 1) / 1000
        cpu = sum(p.daemon_cpu for p in tail) / len(tail) / k
        wal = sum(max(0.0, p.wal - p.idle_wal_rate * p.seconds) for p in tail) / len(tail)
        wal /= max(last.products, 1)
        print(
            f"after {len(tail)} more unchanged passes: {last.size / 1e6 / k:.2f} MB/1k "
            f"({(last.size / before - 1) * 100:+.1f} % over the changed pass before them, "
            f"{(last.size / first - 1) * 100:+.1f} % over the first pass), "
            f"mean daemon CPU {cpu:.3f} s/1k, mean net WAL {wal:,.0f} B/product; "
            f"oldest transaction during them {max(p.horizon_s for p in tail):,.0f} s"
        )
    report_relations(passes)


def report_relations(passes: list[Pass]) -> None:
    """Where the bytes go: each relation's size per 1,000 products after the first pass, the
    changed pass and the last pass."""
    shown = [p for p in (passes[0], passes[2] if len(passes) > 2 else None, passes[-1]) if p]
    shown = list({id(p): p for p in shown}.values())
    keys = sorted({key for p in shown for key in p.relations})
    print(f"{'MB per 1,000 products after':<52}" + "".join(f"{p.name:>14}" for p in shown))
    for table, part in keys:
        cells = "".join(
            f"{p.relations.get((table, part), 0) / 1e6 / (max(p.products, 1) / 1000):>14.3f}"
            for p in shown
        )
        print(f"  {table + ' ' + part:<50}{cells}")


def start_upstream(port: int) -> subprocess.Popen[bytes]:
    """This benchmark's upstream (the recorded fixtures) in a process of its own, answering."""
    script = str(Path(__file__).resolve())
    upstream = subprocess.Popen([sys.executable, script, "--serve", str(port)])
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/__ready", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    return upstream


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=30_000)
    ap.add_argument("--quick", action="store_true", help="3,000 ids and 3 extra unchanged passes")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--baseline", metavar="REV", help="the commit to run as the baseline")
    ap.add_argument("--passes", type=int, help="unchanged passes after the changed one")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return
    ids = 3000 if args.quick else args.ids
    extra = args.passes if args.passes is not None else 3 if args.quick else UNCHANGED_PASSES
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    upstream = start_upstream(port)
    work = Path(tempfile.mkdtemp(prefix="mp_rescan_code"))
    try:
        runs = [("this code", None)]
        if not args.no_baseline:
            code, sha = baseline_code(work, args.baseline)
            what = "" if args.baseline else ", before the visits table"
            runs.append((f"baseline (commit {sha}{what})", code))
        for label, code in runs:
            report(label, asyncio.run(measure(label, url, ids, code, extra)), ids)
    finally:
        upstream.terminate()
        upstream.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
