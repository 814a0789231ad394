"""Dashboard and API latency at full Uzum scale (a benchmark script, not a test).

Builds a database of its own (migrated like production) filled with the synthetic catalogue of
bench_web_data.py — at `--scale 1`: 1.5 M products, ≈ 6 M SKUs, ≈ 50 M history rows, 60 000
sellers, a 2 775-category tree and 90 days of sales rollups, all generated set-based in SQL
(the time of every step is printed) — serves the real app from a separate process on loopback
and prints, per page, p50/p95 under 8 concurrent clients (the seller's pages first: products by
30-day revenue with and without a category, trends, category page, seller page and comparison,
search with a typo, product page) with the CPU each request cost the server process and the
database's backends (the work, which a loaded machine changes less than the latencies), then
time to first byte, total time and the server's peak RSS of a 100 000-row CSV and XLSX
export, then the nightly analytics of yesterday.

    .venv/bin/python tests/benchmarks/bench_web.py                  # generate, measure, drop
    .venv/bin/python tests/benchmarks/bench_web.py --reuse          # keep it / use a kept one
    .venv/bin/python tests/benchmarks/bench_web.py --scale 0.033    # 50 000 products, quick
    .venv/bin/python tests/benchmarks/bench_web.py --reuse --only search,trends

A kept database gets the migrations added since it was generated. Targets: p95 < 100 ms per
page, XLSX export peak RSS < 150 MB, the nightly analytics of one day < 60 s. A page not served
by this version (HTTP 404) is listed as not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import uvloop

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
if "--tree" in sys.argv:  # the server of a baseline: the package from that source tree
    sys.path.insert(0, sys.argv[sys.argv.index("--tree") + 1])

from marketplaced import db, price_bands  # noqa: E402
from tests.benchmarks import bench_web_data as data  # noqa: E402
from tests.benchmarks.pg_cpu import BackendCpu, cpu_s  # noqa: E402
from tests.conftest import _admin, _admin_cfg, base_config  # noqa: E402
from tests.helpers.net import free_port  # noqa: E402

CLIENTS = 8
#: requests per endpoint: enough for a stable p95 (the 95th of 200 is the 10th worst)
REQUESTS = 200
#: warm-up requests per endpoint, not measured (first plans, page cache)
WARMUP = 16
EXPORT_ROWS = 100_000
TARGET_P95_MS = 100.0
TARGET_RSS_MIB = 150.0
TARGET_NIGHTLY_S = 60.0


def reused_name(scale: float) -> str:
    return f"mp_bench_web_s{scale:g}".replace(".", "_")


async def _connect(name: str) -> asyncpg.Connection:
    return await db.connect(dataclasses.replace(_admin_cfg(), name=name))


async def _exists(name: str) -> bool:
    conn = await db.connect(_admin_cfg())
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def usable(name: str, scale: float) -> bool:
    """A kept database of this scale and generator version, generated to the end."""
    if not await _exists(name):
        return False
    conn = await _connect(name)
    try:
        if await conn.fetchval("SELECT to_regclass('bench_meta') IS NULL"):
            return False
        row = await conn.fetchrow("SELECT scale, version FROM bench_meta")
        return row is not None and (row["scale"], row["version"]) == (scale, data.VERSION)
    finally:
        await conn.close()


async def build_database(name: str, scale: float) -> None:
    s = data.Scale.of(scale)
    print(f"building {name}: {s.products:,} products, {s.sellers:,} sellers (scale {scale:g})")
    await _admin(f'DROP DATABASE IF EXISTS "{name}"')
    await _admin(f'CREATE DATABASE "{name}"')
    conn = await _connect(name)
    try:
        await db.migrate(conn)
        # scratch data: no need to wait for the WAL flush; sorts and index builds in memory
        await conn.execute(
            "SET synchronous_commit = off; SET work_mem = '512MB'; SET maintenance_work_mem = '1GB'"
        )
        started = time.monotonic()
        for step, sql in data.steps(s):
            t = time.monotonic()
            status = await conn.execute(sql)
            rows = status.rsplit(" ", 1)[-1] if status.startswith(("INSERT", "SELECT")) else ""
            print(f"  generated {step:<24} {time.monotonic() - t:7.1f} s  {rows:>12}", flush=True)
        await conn.execute(
            "CREATE TABLE bench_meta AS SELECT $1::float8 AS scale, $2::int AS version,"
            " now() AS generated_at",
            scale,
            data.VERSION,
        )
        print(f"  generation total           {time.monotonic() - started:7.1f} s")
        for table in ("products", "skus", "price_history", "product_stats_history",
                      "sales_product_daily"):  # fmt: skip
            n = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 - constants
            print(f"  {table:<26} {n:>12,} rows")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"  database size              {size}")
    finally:
        await conn.close()


async def prepare_reused(name: str) -> None:
    """A kept database gets the migrations added since it was generated (new indexes)."""
    conn = await _connect(name)
    try:
        t = time.monotonic()
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await db.migrate(conn)
        print(f"  migrations                 {time.monotonic() - t:7.1f} s")
        at = await conn.fetchval("SELECT generated_at FROM bench_meta")
        print(f"  reusing data generated at {at:%Y-%m-%d %H:%M} UTC")
    finally:
        await conn.close()


# -- the server (a separate process, so clients and server do not share a core's loop) --------


async def serve(name: str, port: int) -> None:
    from aiohttp import web

    from marketplaced.web.app import WebDeps, create_app
    from marketplaced.web.daemon_interface import JobStatus, ScannerStatus, StaticStatus

    cfg = base_config(web={"port": port})
    cfg = dataclasses.replace(cfg, database=dataclasses.replace(_admin_cfg(), name=name))
    pool = await db.create_pool(cfg.database)
    snapshot = {
        "state": "scanning",
        "cycle": 2,
        "position": 600_000,
        "frontier": 1_200_000,
        "rate": 95.0,
        "hit_rate": 0.7,
        "found": 420_000,
        "missing": 180_000,
        "errors": {"rate_limited": 12, "http_5xx": 3},
        "parse_failures": 1,
        "stale_s": 0.3,
        "last_commit_position": 599_500,
    }
    source = StaticStatus(
        scanner_list=[ScannerStatus("uzum.products", snapshot)],
        job_list=[JobStatus("analytics", "cron: 0 3 * * *", time.time() + 3600)],
    )
    app = create_app(WebDeps(pool, cfg, source, source, summary_refresh_s=None))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# -- the load -----------------------------------------------------------------------------------


def endpoints(ids: dict[str, list[int]]) -> dict[str, list[str]]:
    """Name → URLs cycled through (varied ids so the cache does not answer every request).
    The pages of the scale targets come first."""
    rnd = random.Random(7)

    def some(key: str, fmt: str, n: int = 50) -> list[str]:
        return [fmt.format(rnd.choice(ids[key])) for _ in range(n)]

    def pairs(n: int = 30) -> list[str]:
        return [
            "/seller-comparison?period=30d&ids=" + ",".join(map(str, rnd.sample(ids["sellers"], 5)))
            for _ in range(n)
        ]

    return {
        "products by 30-day revenue": ["/products?sort=revenue&period=30d"],
        "products by 30-day revenue, category": some(
            "tops", "/products?sort=revenue&period=30d&category={}"
        ),
        "products by 7-day units, leaf": some("leaves", "/products?sort=units&category={}"),
        "trends (7 days)": ["/trends"],
        "trends (30 days)": ["/trends?period=30d"],
        "category page (30 days)": some("tops", "/categories/{}?period=30d"),
        "category page, subcategory (30 days)": some("cats", "/categories/{}?period=30d"),
        "sellers of a category by 30-day revenue": some(
            "tops", "/sellers?category={}&sort=sales_revenue&period=30d"
        ),
        "category overview": [
            "/analytics/categories",
            *some("tops", "/analytics/categories?category={}", 10),
        ],
        "seller page": some("sellers", "/sellers/{}"),
        "seller comparison (5 sellers)": pairs(),
        "search, common word": [
            "/products?q=smartfon",
            "/products?q=%D1%87%D0%B0%D0%B9%D0%BD%D0%B8%D0%BA",
        ],
        "search with a typo": ["/products?q=samsyng", "/products?q=smartfn+xiaomi"],
        "product page": some("products", "/products/{}"),
        "status page": ["/status"],
        "products (default sort)": ["/products"],
        "products deep page (cursor)": ["__deep__"],
        "products category+in stock": some("cats", "/products?category={}&in_stock=1"),
        "products price asc + range": [
            "/products?sort=price_asc&min_price=100000&max_price=500000"
        ],
        "products rating, leaf category": some("leaves", "/products?category={}&sort=rating"),
        "sellers ranking": ["/sellers", "/sellers?sort=revenue", "/sellers?sort=products"],
        "analytics overview": ["/analytics"],
        "price drops": ["/analytics/price-drops", "/analytics/price-drops?min_pct=10"],
        "top sellers per category": some("cats", "/analytics/top-sellers?category={}"),
        "price comparison": [
            "/analytics/compare?q=redmi",
            "/analytics/compare?q=%D1%87%D0%B0%D0%B9%D0%BD%D0%B8%D0%BA",
        ],
        "UZEX lots": ["/uzex/lots", "/uzex/lots?type=shop"],
        "API products": ["/api/v1/products?limit=100", "/api/v1/products?sort=price_desc"],
        "API product history": some("products", "/api/v1/products/{}/history"),
        "API sellers": ["/api/v1/sellers?sort=revenue&limit=100"],
        "API price drops": ["/api/v1/price-drops?limit=100"],
        "API top sellers": some("cats", "/api/v1/top-sellers?category={}"),
        "API status": ["/api/v1/status"],
        "metrics": ["/metrics"],
        "healthz": ["/healthz"],
    }


async def deep_cursor(session: aiohttp.ClientSession, base: str, pages: int) -> str:
    """Follow next_cursor `pages` times (deep pagination must cost what page 1 costs)."""
    url = f"{base}/api/v1/products?limit=500"
    cursor = ""
    for _ in range(pages):
        async with session.get(url + (f"&cursor={cursor}" if cursor else "")) as r:
            cursor = (await r.json())["next_cursor"]
    return f"/products?cursor={cursor}"


async def measure(session: aiohttp.ClientSession, base: str, urls: list[str]) -> list[float]:
    queue = [urls[i % len(urls)] for i in range(WARMUP + REQUESTS)]
    times: list[float] = []
    lock = asyncio.Lock()

    async def client() -> None:
        while True:
            async with lock:
                if not queue:
                    return
                n = len(queue)
                url = queue.pop()
            started = time.perf_counter()
            async with session.get(base + url) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"{url}: HTTP {r.status}")
            if n <= REQUESTS:
                times.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return times


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def export(session: aiohttp.ClientSession, base: str, pid: int, url: str) -> dict[str, float]:
    """Time to headers and first body byte, total, size and the server's RSS (sampled every
    10 ms from /proc) while `url` streams."""
    baseline = rss_kib(pid)
    peak = baseline
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(pid))
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    ttfb = headers = 0.0
    size = 0
    async with session.get(base + url) as r:
        headers = time.perf_counter() - started
        if r.status != 200:
            raise RuntimeError(f"{url}: HTTP {r.status}")
        async for chunk in r.content.iter_chunked(65536):
            if not ttfb:
                ttfb = time.perf_counter() - started
            size += len(chunk)
    total = time.perf_counter() - started
    done.set()
    await sampler
    return {
        "headers_ms": headers * 1000,
        "ttfb_ms": ttfb * 1000,
        "total_s": total,
        "mib": size / 2**20,
        "rss_base_mib": baseline / 1024,
        "rss_peak_mib": peak / 1024,
    }


async def sample_ids(name: str) -> dict[str, list[int]]:
    first_leaf, _ = data.leaves()
    queries = {
        "products": "SELECT id FROM products TABLESAMPLE SYSTEM (0.1) ORDER BY random() LIMIT 200",
        # sellers with sales, as a seller would look up and compare
        "sellers": "SELECT seller_id FROM sales_seller_daily GROUP BY 1 ORDER BY random() LIMIT 99",
        "tops": "SELECT id FROM categories WHERE parent_id IS NULL",
        "cats": f"SELECT id FROM categories WHERE id < {first_leaf:d} ORDER BY random() LIMIT 99",  # noqa: S608 - a number
        "leaves": f"SELECT id FROM categories WHERE id >= {first_leaf:d} ORDER BY random()",  # noqa: S608 - a number
    }
    conn = await _connect(name)
    try:
        return {k: [r[0] for r in await conn.fetch(sql)] for k, sql in queries.items()}
    finally:
        await conn.close()


async def refresh_summaries(name: str, reused: bool) -> None:
    """The dashboard's summaries, refreshed once (a kept database keeps them): plain REFRESH
    without the daemon's statement timeout, as nothing reads them yet."""
    from marketplaced.web import price_drops, summaries

    conn = await _connect(name)
    try:
        done = await conn.fetchval("SELECT count(*) FROM web_summary_refreshes")
        if reused and done == len(summaries.SUMMARIES):
            print("  summaries: kept from an earlier run")
            return
        total = 0.0
        for view in summaries.SUMMARIES:
            t = time.monotonic()
            if view == price_drops.NAME:  # a table the refresh keeps, not a view
                await price_drops.refresh(conn)
            else:
                await conn.execute(f"REFRESH MATERIALIZED VIEW {view}", timeout=None)
            took = time.monotonic() - t
            total += took
            await conn.execute(
                "INSERT INTO web_summary_refreshes VALUES ($1, now(), $2) ON CONFLICT (name) "
                "DO UPDATE SET refreshed_at = now(), duration_ms = EXCLUDED.duration_ms",
                view,
                int(took * 1000),
            )
            print(f"  refresh {view:<26} {took:6.1f} s", flush=True)
        print(f"  refresh total                      {total:6.1f} s")
    finally:
        await conn.close()


async def build_periods(name: str) -> None:
    """Yesterday's, the 7- and 30-day sums the minute job builds when a day has ended (a
    kept database's build is used while it is current)."""
    from datetime import datetime

    from marketplaced.jobs import triggers
    from marketplaced.sales import periods

    cfg = base_config()
    pool = await db.create_pool(dataclasses.replace(_admin_cfg(), name=name))
    try:
        t = time.monotonic()
        tz = triggers.timezone(cfg.jobs.timezone)
        edges = price_bands.edges(cfg.jobs.price_bands)
        work_mem = cfg.jobs.analytics_work_mem_mb
        rows = await periods.refresh(pool, tz, datetime.now(tz), work_mem, edges)
        print(f"  1-, 7- and 30-day periods built: {rows:,} rows in {time.monotonic() - t:.1f} s")
    finally:
        await pool.close()


async def nightly(name: str) -> float:
    """The nightly analytics of yesterday (the 03:00 job's day), as the job runs it."""
    from datetime import datetime, timedelta

    from marketplaced.jobs import analytics

    cfg = base_config()
    settings = analytics.AnalyticsSettings.from_config(cfg.jobs)
    pool = await db.create_pool(dataclasses.replace(_admin_cfg(), name=name))
    try:
        day = datetime.now(settings.tz).date() - timedelta(days=1)
        started = time.monotonic()
        result = await analytics.compute_day(pool, day, settings)
        took = time.monotonic() - started
    finally:
        await pool.close()
    slow = sorted(result.steps_ms.items(), key=lambda kv: -kv[1])[:5]
    print(
        f"\nnightly analytics of {day}: {took:.1f} s (target < {TARGET_NIGHTLY_S:.0f} s), "
        f"{result.products:,} product rows; slowest steps: "
        + ", ".join(f"{k} {v / 1000:.1f} s" for k, v in slow)
    )
    return took


Results = dict[str, tuple[float, float] | None]


def baseline_tree(ref: str, into: Path) -> Path:
    """The source tree of `ref` (a git archive), with this benchmark's own helpers beside it,
    to serve the same database with the code before a change."""
    tree = into / "baseline"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    for helper in ("tests/benchmarks/bench_web_data.py", "tests/helpers/net.py"):
        (tree / helper).write_bytes((ROOT / helper).read_bytes())
    return tree


async def run_load(
    name: str, only: str | None, export_rows: int, tree: Path | None = None
) -> tuple[bool, Results]:
    port = free_port()
    code = ["--tree", str(tree)] if tree is not None else []
    # a baseline reads its own config/marketplaced.toml (the defaults of its version: a key
    # added since would be unknown to it)
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", name, "--port", str(port), *code,
        stdout=subprocess.PIPE, cwd=tree,
    )  # fmt: skip
    results: Results = {}
    try:
        assert server.stdout is not None
        if (await server.stdout.readline()).strip() != b"ready":
            raise RuntimeError("the server did not start")
        ids = await sample_ids(name)
        base = f"http://127.0.0.1:{port}"
        ok = True
        timeout = aiohttp.ClientTimeout(total=600)
        connector = aiohttp.TCPConnector(limit=CLIENTS)
        meter = await _connect(name)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            # the CPU each request cost the server process and the database's backends: the
            # work, which a loaded or shared machine does not change as it does the latencies
            print(
                f"\n{'endpoint (8 clients)':<40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
                f" {'server CPU ms/req':>18} {'database CPU ms/req':>20}"
            )
            for label, urls in endpoints(ids).items():
                if only and not any(o in label for o in only.split(",")):
                    continue
                if urls == ["__deep__"]:
                    urls = [await deep_cursor(session, base, 200)]  # row 100 000
                async with session.get(base + urls[0]) as r:
                    await r.read()
                    if r.status != 200:  # a page this version does not have (yet)
                        print(f"{label:<40} not measured: {urls[0]} answers HTTP {r.status}")
                        results[label] = None
                        continue
                backends = BackendCpu(meter, name)
                await backends.start()
                server_cpu = cpu_s(server.pid)
                times = sorted(await measure(session, base, urls))
                server_cpu = cpu_s(server.pid) - server_cpu
                await backends.sample()
                sent = WARMUP + REQUESTS
                p50 = statistics.median(times)
                p95 = times[int(len(times) * 0.95) - 1]
                flag = "" if p95 < TARGET_P95_MS else "  <-- over target"
                ok = ok and p95 < TARGET_P95_MS
                results[label] = (p50, p95)
                print(
                    f"{label:<40} {p50:8.1f} {p95:8.1f} {times[-1]:8.1f}"
                    f" {server_cpu / sent * 1000:18.1f} {backends.total_s() / sent * 1000:20.1f}"
                    f"{flag}",
                    flush=True,
                )
            if export_rows:
                for suffix in (".csv", ".xlsx"):
                    e = await export(
                        session, base, server.pid, f"/products{suffix}?limit={export_rows}"
                    )
                    over = suffix == ".xlsx" and e["rss_peak_mib"] >= TARGET_RSS_MIB
                    ok = ok and not over
                    print(
                        f"\nexport {suffix} of {export_rows:,} rows ({e['mib']:.1f} MiB): headers "
                        f"{e['headers_ms']:.0f} ms, first byte {e['ttfb_ms']:.0f} ms, total "
                        f"{e['total_s']:.1f} s, server RSS {e['rss_base_mib']:.0f} MiB before, "
                        f"{e['rss_peak_mib']:.0f} MiB peak" + ("  <-- over target" if over else "")
                    )
        await meter.close()
        return ok, results
    finally:
        server.terminate()
        await server.wait()


def compare(before: Results, after: Results) -> None:
    print(f"\n{'p95 ms, 8 clients':<40} {'baseline':>9} {'now':>9}")
    for label, now in after.items():
        was = before.get(label)
        cells = [f"{v[1]:9.1f}" if v else f"{'—':>9}" for v in (was, now)]
        print(f"{label:<40} {cells[0]} {cells[1]}")


async def drop_database(name: str) -> None:
    """DROP … WITH (FORCE) cannot end an autovacuum worker (a superuser process) for a
    non-superuser role: wait for it to finish its table, up to a minute."""
    for _ in range(20):
        try:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except asyncpg.InsufficientPrivilegeError:
            await asyncio.sleep(3)
    raise SystemExit(f"could not drop {name}: drop it by hand")


async def main() -> int:
    global REQUESTS, WARMUP
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1.5 M products")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database for the next run, and use a kept one",
    )
    parser.add_argument("--only", help="measure only pages whose label contains one of these")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="measured per page")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="unmeasured first requests")
    parser.add_argument("--export-rows", type=int, default=EXPORT_ROWS, help="0: no export")
    parser.add_argument("--no-nightly", action="store_true", help="skip the nightly analytics")
    parser.add_argument(
        "--no-periods",
        action="store_true",
        help="do not build the 1-, 7- and 30-day sums (pages measured read none of them)",
    )
    parser.add_argument(
        "--baseline", metavar="REF", help="first measure the same database served by REF's code"
    )
    parser.add_argument(
        "--baseline-requests", type=int, default=8, help="per page for the baseline (no warm-up)"
    )
    parser.add_argument("--baseline-only", help="the pages (as --only) the baseline measures")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=18080, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        await serve(args.serve, args.port)
        return 0
    REQUESTS, WARMUP = args.requests, args.warmup
    name = reused_name(args.scale) if args.reuse else f"mp_bench_web_{uuid.uuid4().hex[:8]}"
    ok = True
    try:
        reused = args.reuse and await usable(name, args.scale)
        if reused:
            await prepare_reused(name)
        else:
            await build_database(name, args.scale)
        await refresh_summaries(name, reused)
        before: Results = {}
        if args.baseline:
            with tempfile.TemporaryDirectory() as tmp:
                tree = baseline_tree(args.baseline, Path(tmp))
                print(f"\n-- baseline: the code of {args.baseline}, {args.baseline_requests} "
                      "requests a page --")  # fmt: skip
                REQUESTS, WARMUP = args.baseline_requests, 0
                only = args.baseline_only or args.only
                _, before = await run_load(name, only, 0, tree)  # the export code is unchanged
                REQUESTS, WARMUP = args.requests, args.warmup
            print("\n-- this code --")
        if not args.no_periods:
            await build_periods(name)
        ok, after = await run_load(name, args.only, args.export_rows)
        if before:
            compare(before, after)
        if not args.no_nightly:
            ok = await nightly(name) < TARGET_NIGHTLY_S and ok
    finally:
        if args.reuse:
            print(f"kept {name}: the next --reuse run of scale {args.scale:g} uses it")
        else:
            await drop_database(name)
            print(f"dropped {name}")
    print("all within target" if ok else "SOME OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    # uvloop, as `marketplaced run` serves the dashboard (on asyncio's own loop a page's
    # socket writes alone took a fifth of the server's time)
    sys.exit(uvloop.run(main()))
