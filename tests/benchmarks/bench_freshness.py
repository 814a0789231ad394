"""Freshness benchmark (not a test): round-robin vs adaptive revisits of the same catalogue.

For one seeded realistic catalogue (``Realism``: skewed activity, growth above the frontier,
delistings, dead ranges; one tick = one simulated minute), one request budget and one duration,
it runs side by side, each against its own scratch database and its own simulator:
- ``roundrobin``: one real daemon (``marketplaced run``, uzum.mode = "roundrobin"),
- ``adaptive``: one real daemon, uzum.mode = "adaptive",
- ``adaptive x2``: two daemons sharing one database, each with half the budget.
Each run's simulator answers from a process of its own (``freshness_upstream``: one shared
event loop stalled every run on a loaded machine), which keeps the request log; this process
keeps an identical simulator for the ground truth. The daemons are subprocesses whose every URL
points at their run's upstream, with UZEX, jobs and the dashboard off.

The daemons run on wall time and the catalogue on simulated time, so the schedule's knobs are
the defaults scaled by real seconds per simulated second (1 simulated hour = 36 s; --quick: 12 s),
clamped to the configuration's lower bounds; the maximum age is 24 simulated hours and the
longest product interval the same (so quiet products stretch to the 0.9 of it the schedule
plans at most, leaving the budget to active ones: the defaults, 7 and 30 days, could never show
in a day's run; a maximum age of 12 h would cost 24,000 ids / 12 h = 2,000 of the 3,600 requests
per simulated hour, 55 % of the budget, where the live default costs 1 %; the full run lasts
30 h, so every id's second visit is checked against it), the
frontier window is the live default's share of the id space (2,000 of ≈ 2.4 M ids; at least 5),
a claim covers 0.5 s of work and a lease lasts at least 5 s. The adaptive schedule starts with
every initial id due at once (the same cold start as the round-robin cycle). The figures count
only the changes after one round-robin cycle (the warm-up: both modes do their first pass) and
at least an hour before the end (so every change had an hour to be seen).

Figures, from the databases and the ground truth (``catalogue.truth``):
- price changes observed within 1 simulated hour, median and p90 detection latency (minutes),
  split by activity class (active: ≥ 1 order/day; quiet: the rest). A change counts as observed
  at the first ``price_history`` row of its product at or after it (a row is written only when
  a stored price differs, so a change undone before the next visit is never observed);
- minutes from a new product's creation to its first stored observation (the earliest
  ``product_stats_history`` row);
- share of product requests that hit an existing product (the simulator's request log);
- maximum age of any id up to the final frontier at the end (time since its last request;
  never requested = the whole run), against the adaptive run's configured maximum;
- daemon CPU seconds (user + system, all of a run's daemons) per 1,000 requests;
- the oracle: the best share of active products' price changes any schedule could see within
  an hour in this simulated world, from the true change rates (``oracle_within_1h``), with the
  same budget and the same mandatory visits (the frontier window every frontier interval, every
  id once per maximum age) — at the budget, at the run's achieved request rate, and with only
  the visits the run gave active products (the gap to it is the schedule's ordering and
  knowledge; the gap above it, the budget the other visits took);
- two daemons: the duplicate-fetch rate, the share of fetches of an id made by one daemon less
  than half a frontier interval (the shortest revisit the policy schedules) after the other
  daemon fetched it — a lease that did not keep them apart.

Diagnostics (``freshness_diagnostics``), to see why changes are late: where the requests went
after the warm-up (active products, quiet ones, ids without a product, ids above the initial
catalogue) and what they found (no product, the body of the id's previous request, a new one:
a miss and an unchanged body cost the daemon far less than a changed one, so CPU per request
follows this mix), the active products in four bands of equal price-change weight (within
1 h, visits per product-hour, the schedule's estimated change rate against the true one) and a
timeline of the run in ten windows (within 1 h and where the requests went, per window: visits that
bunch up show there). ``freshness_model.py`` replays the same world offline in about a minute
with the schedule's own policy functions, to try a policy before a 20-minute run.

``--baseline REV`` adds a fourth column, one adaptive daemon running commit REV's code (exported
with ``git archive``) on the same catalogue and settings: a policy change's before and after
from the same run. ``--variant KEY=VALUE`` (repeatable) adds a column of one adaptive daemon
with that [uzum] setting overriding the benchmark's, to compare knob values in one run.

Usage: python tests/benchmarks/bench_freshness.py [--quick] [--baseline REV] [--variant K=V]
Credentials: the environment or .env.test (as the test suite).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplaced import db, platforms  # noqa: E402
from marketplaced.config import DatabaseConfig  # noqa: E402
from marketplaced.errors import DatabaseError  # noqa: E402
from marketplaced.simulator.uzum import UzumSimulator  # noqa: E402
from marketplaced.simulator.uzum.truth import CHANGE_KINDS  # noqa: E402
from tests.benchmarks import baseline_tree  # noqa: E402
from tests.benchmarks.bench_ingest import admin, off_machine_urls, scratch_db  # noqa: E402
from tests.benchmarks.freshness_diagnostics import (  # noqa: E402
    OUTCOMES,
    REQUEST_KINDS,
    rate_bands,
    request_split,
    timeline,
    visit_outcomes,
)
from tests.benchmarks.freshness_upstream import simulator  # noqa: E402
from tests.conftest import env_for_tests  # noqa: E402  (loads .env.test)
from tests.helpers.net import free_port  # noqa: E402

INF = math.inf
UPSTREAM = Path(__file__).with_name("freshness_upstream.py")
#: the adaptive runs' maximum age, in simulated hours (see the module docstring)
MAX_AGE_H = 24
#: requests in flight per daemon: the live default. Fewer capped every mode below its budget
#: on a loaded machine (16 in flight at ≈ 0.3 s per request there is ≈ 53 req/s, whatever the
#: schedule), and the figures are meant to compare schedules at the budget, not the bench host
CONCURRENCY = 50
#: windows of the run the timeline diagnostic is cut into
TIMELINE_WINDOWS = 10


# ---- the figures (pure: checked on a toy case by tests/test_bench_freshness.py) -------------


def first_at_or_after(times: list[float], t: float) -> float:
    """The earliest of the ascending ``times`` ≥ ``t`` (INF if none)."""
    lo, hi = 0, len(times)
    while lo < hi:
        mid = (lo + hi) // 2
        if times[mid] < t:
            lo = mid + 1
        else:
            hi = mid
    return times[lo] if lo < len(times) else INF


def latencies(
    changes: dict[int, list[int]], observed: dict[int, list[float]]
) -> dict[int, list[float]]:
    """Per id, each change's detection latency in ticks (INF: never observed)."""
    out = {}
    for pid, ticks in changes.items():
        seen = sorted(observed.get(pid, []))
        out[pid] = [first_at_or_after(seen, c) - c for c in ticks]
    return out


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (INF entries sort last; NaN for no values)."""
    if not values:
        return math.nan
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


@dataclass(frozen=True)
class Detection:
    changes: int
    within_1h: float
    median_min: float
    p90_min: float


def detection(lat: Iterable[float], ticks_per_hour: float, ticks_per_min: float) -> Detection:
    values = list(lat)
    within = sum(1 for v in values if v <= ticks_per_hour) / len(values) if values else math.nan
    return Detection(
        len(values),
        within,
        quantile(values, 0.5) / ticks_per_min,
        quantile(values, 0.9) / ticks_per_min,
    )


def by_class(
    lat: dict[int, list[float]], cls: Callable[[int], str], ticks_per_hour: float, tpm: float
) -> dict[str, Detection]:
    groups: dict[str, list[float]] = {"active": [], "quiet": []}
    for pid, values in lat.items():
        groups[cls(pid)].extend(values)
    return {k: detection(v, ticks_per_hour, tpm) for k, v in groups.items()}


def hit_share(requests: Iterable[tuple[float, int]], exists: Callable[[int, int], bool]) -> float:
    """Share of (tick, id) requests whose id held a product at that tick."""
    n = hits = 0
    for tick, pid in requests:
        n += 1
        hits += exists(pid, int(tick))
    return hits / n if n else math.nan


def max_age(last_visit: dict[int, float], ids: Iterable[int], start: float, end: float) -> float:
    """The longest time since the last visit of any of ``ids`` at ``end`` (never: since start)."""
    return max((end - last_visit.get(pid, start) for pid in ids), default=0.0)


def duplicate_rate(log: Iterable[tuple[float, int, str]], window: float) -> float:
    """Share of fetches (time, id, fetcher) that follow another fetcher's fetch of the same id
    by less than ``window``."""
    last: dict[int, tuple[float, str]] = {}
    n = dup = 0
    for t, pid, who in sorted(log):
        n += 1
        prev = last.get(pid)
        if prev is not None and prev[1] != who and t - prev[0] < window:
            dup += 1
        last[pid] = (t, who)
    return dup / n if n else math.nan


def oracle_with_visits(
    price_rates: dict[int, float], visits: dict[int, int], hours: float
) -> float:
    """``oracle_within_1h`` with only the visits ``visits`` gave the products of
    ``price_rates`` over ``hours`` (and no mandatory ones): below it, a schedule's order and
    knowledge lose changes; above it, the budget its other visits took."""
    own = sum(visits.get(pid, 0) for pid in price_rates) / hours
    return oracle_within_1h(price_rates.values(), own, 0.0)


def oracle_within_1h(rates: Iterable[float], spare_per_h: float, base_per_h: float) -> float:
    """The best share of changes seen within an hour, given each product's true change rate,
    ``spare_per_h`` visits per hour left after the mandatory ones, and the visits per hour each
    product gets from those anyway (``base_per_h`` ≤ 1, the maximum age's).

    A product visited f times an hour (f ≤ 1, evenly) has a share f of its changes seen within
    the hour (those in the last hour before a visit), so its changes caught per visit are its
    rate whatever f is, up to f = 1: the fractional knapsack's greedy is exact — hourly visits
    to the products of highest rate until the spare visits run out."""
    ranked = sorted(rates, reverse=True)
    total = sum(ranked)
    if total <= 0:
        return math.nan
    caught, left = 0.0, max(0.0, spare_per_h)
    for rate in ranked:
        extra = min(left, 1.0 - base_per_h)
        left -= extra
        caught += rate * (base_per_h + extra)
    return caught / total


# ---- a run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    ids: int
    rps: float
    hour_s: float  # real seconds per simulated hour
    hours: float  # simulated hours run
    seed: int = 7

    @property
    def tick_s(self) -> float:
        return self.hour_s / 60

    @property
    def factor(self) -> float:
        """Real seconds per simulated second."""
        return self.hour_s / 3600

    @property
    def cycle_h(self) -> float:
        return self.ids / self.rps / self.hour_s

    def scaled(self, seconds: float, lo: float = 1.0) -> float:
        return max(lo, seconds * self.factor)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_upstream(s: Scale, port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(UPSTREAM), str(s.seed), str(s.ids), str(s.tick_s), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def start_daemon(env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    # `python -m` puts the working directory first on the path, ahead of $PYTHONPATH: a
    # baseline's daemon must start in its exported tree, or it imports this tree's package
    return subprocess.Popen(
        [sys.executable, "-m", "marketplaced.cli", "run"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


@dataclass
class Run:
    name: str
    mode: str
    daemons: int
    scale: Scale
    #: the source tree the daemons run from (None: this one): a baseline commit's, exported
    code: Path | None = None
    #: [uzum] settings that override the benchmark's policy (a variant's column), TOML lines
    overrides: tuple[str, ...] = ()
    sim: UzumSimulator = field(init=False)
    log: list[tuple[float, int, str]] = field(default_factory=list)  # (wall time, id, agent)
    db_name: str = field(default_factory=lambda: f"mp_fresh_{uuid.uuid4().hex[:8]}")
    started: float = 0.0
    ended: float = 0.0
    cpu_s: float = 0.0  # the daemons' CPU (user + system) over the run
    upstream_cpu_s: float = 0.0  # its upstream process's CPU, up to the end of the run
    lags: list[float] = field(default_factory=list)  # its upstream's event-loop lags (s)

    def __post_init__(self) -> None:
        # the ground truth's copy; the requests are answered by the run's upstream process
        self.sim = simulator(self.scale.seed, self.scale.ids, self.scale.tick_s)

    @property
    def tree(self) -> Path:
        """The source tree its daemons start in (and import their package from)."""
        return self.code or ROOT

    def tick(self, wall: float) -> float:
        return (wall - self.sim._started) / self.scale.tick_s

    def policy_toml(self) -> str:
        s = self.scale
        settings = self._policy(s)
        for line in self.overrides:
            key = line.split("=", 1)[0].strip()
            settings = "\n".join(x for x in settings.splitlines() if not x.startswith(key + " "))
            settings += f"\n{line}\n"
        return settings

    def _policy(self, s: Scale) -> str:
        return f"""
mode = "{self.mode}"
min_interval_s = {s.scaled(3300)}
max_interval_s = {s.scaled(MAX_AGE_H * 3600)}
miss_interval_s = {s.scaled(86400)}
max_age_s = {s.scaled(MAX_AGE_H * 3600)}
fresh_within_s = {s.scaled(3600)}
order_age_s = {s.scaled(365 * 86400)}
frontier_window = {self.frontier_window}
frontier_interval_s = {self.frontier_interval_s}
lease_s = {s.scaled(600, lo=5.0)}
claim_interval_s = 0.5
"""

    @property
    def frontier_window(self) -> int:
        # the default window (2,000 ids) is sized for the live ~2.4 M ids; the same share of
        # this catalogue keeps the frontier's share of the budget as live (≈ 7 % at 100 req/s)
        return max(5, round(2000 * self.scale.ids / 2_400_000))

    @property
    def frontier_interval_s(self) -> float:
        return self.scale.scaled(300)

    def daemon_env(self, tmp: Path, url: str, k: int) -> dict[str, str]:
        conf = tmp / f"{self.name}-{k}.toml"
        conf.write_text(f"""
[log]
level = "warning"
[uzum]
rps = {self.scale.rps / self.daemons}
concurrency = {CONCURRENCY}
frontier_misses = 1000
max_id = {self.scale.ids * 2}
cycle_pause_s = 0.0
checkpoint_every = 200
user_agent = "bench-{k}"
{self.policy_toml()}
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
            "DB_NAME": self.db_name,
            "MARKETPLACED_CONFIG": str(conf),
            "UZUM_BASE_URL": url,
            "UZEX_BASE_URL": url,
            "STATE_DIRECTORY": str(tmp),
            "REDIS_DB": os.environ.get("REDIS_DB", "13"),
        }
        if self.code is not None:
            # ahead of the installed package on the path: the daemons run the baseline's code
            env["PYTHONPATH"] = str(self.code)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("RPS_LIMIT", None)
        return env

    async def execute(self, tmp: Path) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        upstream = start_upstream(self.scale, port, tmp / f"{self.name}-upstream.log")
        async with aiohttp.ClientSession() as http:
            try:
                await self._steer(http, url, upstream, tmp)
            finally:
                upstream.terminate()
                await asyncio.to_thread(upstream.wait, 30)

    async def _steer(
        self, http: aiohttp.ClientSession, url: str, upstream: subprocess.Popen[bytes], tmp: Path
    ) -> None:
        """The run itself, against its upstream process at ``url``."""
        for _ in range(600):
            try:
                async with http.get(f"{url}/__bench/ping") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if upstream.poll() is not None:
                raise SystemExit(f"{self.name}: the upstream exited; see {tmp}")
            await asyncio.sleep(0.1)
        envs = [self.daemon_env(tmp, url, k) for k in range(self.daemons)]
        dbcfg = await self._database(envs[0])
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for env in envs:
                remote = off_machine_urls(platforms.load_config(env))
                if remote:
                    raise SystemExit(f"the daemon would leave the machine: {'; '.join(remote)}")
            if self.mode == "adaptive":
                await self._seed_schedule(dbcfg)
            self.sim._started = time.time()
            self.started = self.sim._started
            async with http.post(f"{url}/__bench/start", params={"t": repr(self.started)}) as r:
                r.raise_for_status()
            procs = [
                start_daemon(env, tmp / f"{self.name}-{k}.log", self.tree)
                for k, env in enumerate(envs)
            ]
            deadline = self.started + self.scale.hours * self.scale.hour_s
            while time.time() < deadline:
                await asyncio.sleep(1.0)
                for p in procs:
                    if p.poll() is not None:
                        raise SystemExit(f"{self.name}: a daemon exited early; see {tmp}")
            self.ended = time.time()
            self.cpu_s = sum(cpu_seconds(p.pid) for p in procs)
            for p in procs:
                p.terminate()
            for p in procs:
                await asyncio.to_thread(p.wait, 60)
            self.upstream_cpu_s = cpu_seconds(upstream.pid)
            async with http.get(f"{url}/__bench/log") as r:
                got = await r.json()
            self.log = [(t, pid, agent) for t, pid, agent in got["requests"]]
            window = self.started, self.ended
            self.lags = [lag for t, lag in got["lags"] if window[0] <= t <= window[1]]
            self.figures = await self.compute(dbcfg)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            await drop(self.db_name)

    async def _database(self, env: dict[str, str]) -> DatabaseConfig:
        """The run's scratch database, migrated by the code its daemons run (a baseline's
        daemon refuses a schema newer than its own migrations)."""
        if self.code is None:
            return await scratch_db(self.db_name)
        await admin(f'CREATE DATABASE "{self.db_name}"')
        cmd = [sys.executable, "-m", "marketplaced.cli", "migrate"]
        done = await asyncio.to_thread(
            subprocess.run, cmd, env=env, cwd=self.tree, capture_output=True
        )
        if done.returncode != 0:
            raise SystemExit(f"{self.name}: migrating failed: {done.stderr.decode()[-2000:]}")
        return dataclasses.replace(platforms.load_config(env).database, name=self.db_name)

    async def _seed_schedule(self, dbcfg: DatabaseConfig) -> None:
        """Every id of the initial catalogue due now: the adaptive run starts from the same
        knowledge as the round-robin one (none), doing a first pass over the id space."""
        conn = await db.connect(dbcfg)
        try:
            await conn.execute(
                "INSERT INTO uzum_schedule (product_id, next_due) "
                "SELECT g, now() FROM generate_series(1, $1::bigint) g",
                self.scale.ids,
            )
        finally:
            await conn.close()

    def oracle(self, top: int, rps: float) -> float:
        """The best share of active products' price changes seen within an hour at ``rps``
        (``oracle_within_1h``): the mandatory visits are the frontier window's, probed every
        frontier interval, and one visit of every id up to ``top`` per maximum age (which also
        covers the ids without a product); what is left goes to hourly visits."""
        truth = self.sim.catalogue.truth
        assert truth is not None
        per_h = rps * self.scale.hour_s
        frontier = self.frontier_window * self.scale.hour_s / self.frontier_interval_s
        spare = per_h - frontier - top / MAX_AGE_H
        rates = (
            truth.change_rate(pid, "price")
            for pid in range(1, top + 1)
            if truth.activity_class(pid) == "active"
        )
        return oracle_within_1h(rates, spare, 1 / MAX_AGE_H)

    async def compute(self, dbcfg: DatabaseConfig) -> dict[str, object]:
        truth = self.sim.catalogue.truth
        assert truth is not None
        s = self.scale
        tph = truth.ticks_per_hour
        tpm = tph / 60
        end = self.tick(self.ended)
        warm = s.cycle_h * tph
        last = int(end - tph)
        top = truth.frontier(int(end))
        conn = await db.connect(dbcfg)
        try:
            prices = await conn.fetch("SELECT DISTINCT product_id, observed_at FROM price_history")
            firsts = await conn.fetch(
                "SELECT product_id, min(observed_at) AS t FROM product_stats_history "
                "GROUP BY product_id"
            )
            estimated = await conn.fetch(
                "SELECT product_id, rate_h FROM uzum_schedule "
                "WHERE misses = 0 AND checked_at IS NOT NULL"
            )
        finally:
            await conn.close()
        observed: dict[int, list[float]] = {}
        for r in prices:
            observed.setdefault(r["product_id"], []).append(self.tick(r["observed_at"].timestamp()))
        changes = {
            pid: ticks
            for pid in range(1, top + 1)
            if (ticks := truth.change_ticks(pid, "price", int(warm), last))
        }
        lat = latencies(changes, observed)
        det = by_class(lat, truth.activity_class, tph, tpm)
        first_seen = {r["product_id"]: self.tick(r["t"].timestamp()) for r in firsts}
        new_lat = []
        for pid in range(s.ids + 1, top + 1):
            born = truth.created(pid)
            if born is None or born <= 0 or born > last:
                continue
            new_lat.append((first_seen.get(pid, INF) - born) / tpm)
        requests = [(self.tick(t), pid) for t, pid, _ in self.log]
        last_visit: dict[int, float] = {}
        for t, pid in requests:
            last_visit[pid] = t
        age_min = max_age(last_visit, range(1, top + 1), 0.0, end) / tpm
        window = 0.5 * self.frontier_interval_s

        def delisted(pid: int, tick: int) -> bool:
            born = truth.created(pid)
            return born is not None and born <= tick and not truth.exists(pid, tick)

        achieved = len(requests) / (self.ended - self.started)

        def changed(pid: int, a: int, b: int) -> bool:
            return any(truth.change_ticks(pid, k, a, b) for k in CHANGE_KINDS)

        # the diagnostics: over the measured window, the initial catalogue's active products
        visits: dict[int, int] = {}
        for t, pid in requests:
            if warm <= t <= end:
                visits[pid] = visits.get(pid, 0) + 1
        active = [pid for pid in range(1, s.ids + 1) if truth.activity_class(pid) == "active"]
        price = {pid: truth.change_rate(pid, "price") * tph for pid in active}
        every = {pid: tph * sum(truth.change_rate(pid, k) for k in CHANGE_KINDS) for pid in active}
        # the schedule's rates are per hour of wall time: per simulated hour they are smaller
        est = {r["product_id"]: r["rate_h"] * s.factor for r in estimated}
        bands = rate_bands(price, every, lat, visits, est, (end - warm) / tph, tph)
        # the changed bodies found over the whole run, as the CPU is counted: what it bought
        changed_n = visit_outcomes(requests, truth.exists, changed)["changed"] * len(requests)
        return {
            "split": request_split(
                [(t, pid) for t, pid in requests if warm <= t <= end],
                s.ids,
                truth.exists,
                truth.activity_class,
            ),
            "bands": bands,
            "outcomes": visit_outcomes(requests, truth.exists, changed, warm),
            "timeline": timeline(
                changes,
                lat,
                requests,
                s.ids,
                truth.exists,
                truth.activity_class,
                0.0,
                end,
                TIMELINE_WINDOWS,
                tph,
            ),
            "oracle": self.oracle(top, s.rps),
            "oracle_achieved": self.oracle(top, achieved),
            # with only the visits this run gave the initial active products after the warm-up
            "oracle_own_visits": oracle_with_visits(price, visits, (end - warm) / tph),
            "det": det,
            "new_median_min": quantile(new_lat, 0.5),
            "new_n": len(new_lat),
            "hit_share": hit_share(requests, truth.exists),
            "delisted_share": hit_share(requests, delisted),
            "requests": len(requests),
            "achieved_rps": achieved,
            "max_age_min": age_min,
            "cpu_per_1k": per_thousand(self.cpu_s, len(requests)),
            "cpu_per_1k_changed": per_thousand(self.cpu_s, changed_n),
            "duplicate": duplicate_rate(self.log, window) if self.daemons > 1 else math.nan,
        }


def per_thousand(cpu_s: float, n: float) -> float:
    """CPU seconds per 1,000 of something counted `n` times (nan when it never happened)."""
    return 1000 * cpu_s / n if n > 0 else math.nan


async def drop(name: str) -> None:
    """Drop a run's scratch database without losing the figures already computed: another
    role's session on it (a monitoring query, say) refuses FORCE, so wait for it and retry,
    and in the end leave the database with a warning rather than fail the whole benchmark."""
    for attempt in range(10):
        try:
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (asyncpg.PostgresError, DatabaseError, OSError, TimeoutError) as e:
            # a loaded server may also time the DROP out (it waits for a checkpoint) or refuse
            # the connection for a while
            last = e
            await asyncio.sleep(1 + attempt)
    print(f"warning: scratch database {name} left behind: {last}", file=sys.stderr)


def fmt(v: float, spec: str = ".2f") -> str:
    return ">run" if v == INF else "nan" if math.isnan(v) else format(v, spec)


def report(runs: list[Run], scale: Scale, harness: str) -> None:
    print(
        f"catalogue {scale.ids:,} ids (seed {scale.seed}), budget {scale.rps:g} req/s, "
        f"1 simulated hour = {scale.hour_s:g} s, {scale.hours:g} simulated hours, "
        f"round-robin cycle ≈ {scale.cycle_h:.1f} h"
    )
    print(
        f"latencies: price changes from {scale.cycle_h:.1f} h (one cycle of warm-up) to 1 h "
        "before the end; '>run': not observed by the end; active = ≥ 1 order/day"
    )
    print(f"{'':28}" + "".join(f"{r.name:>16}" for r in runs))

    def row(label: str, get: Callable[[dict[str, object]], str]) -> None:
        print(f"{label:28}" + "".join(f"{get(r.figures):>16}" for r in runs))

    for cls in ("active", "quiet"):
        row(f"{cls} price changes", lambda f, c=cls: str(f["det"][c].changes))  # type: ignore[index]
        row(f"{cls} within 1 h", lambda f, c=cls: fmt(f["det"][c].within_1h))  # type: ignore[index]
        row(f"{cls} median min", lambda f, c=cls: fmt(f["det"][c].median_min, ".0f"))  # type: ignore[index]
        row(f"{cls} p90 min", lambda f, c=cls: fmt(f["det"][c].p90_min, ".0f"))  # type: ignore[index]
    row("oracle active within 1 h", lambda f: fmt(f["oracle"]))  # type: ignore[arg-type]
    row("  at achieved req/s", lambda f: fmt(f["oracle_achieved"]))  # type: ignore[arg-type]
    row("  with its active visits", lambda f: fmt(f["oracle_own_visits"]))  # type: ignore[arg-type]
    row("new products", lambda f: str(f["new_n"]))
    row("new found median min", lambda f: fmt(f["new_median_min"], ".0f"))  # type: ignore[arg-type]
    row("requests", lambda f: str(f["requests"]))
    row("achieved req/s", lambda f: fmt(f["achieved_rps"], ".1f"))  # type: ignore[arg-type]
    row("hit share", lambda f: fmt(f["hit_share"]))  # type: ignore[arg-type]
    row("  delisted share", lambda f: fmt(f["delisted_share"]))  # type: ignore[arg-type]
    row("max age min", lambda f: fmt(f["max_age_min"], ".0f"))  # type: ignore[arg-type]
    row("daemon CPU s/1k requests", lambda f: fmt(f["cpu_per_1k"], ".3f"))  # type: ignore[arg-type]
    row("  per 1k changed bodies", lambda f: fmt(f["cpu_per_1k_changed"], ".3f"))  # type: ignore[arg-type]
    row("duplicate fetch", lambda f: fmt(f["duplicate"], ".4f"))  # type: ignore[arg-type]
    print("where the requests went after the warm-up (share of requests):")
    for kind in REQUEST_KINDS:
        row(f"  {kind}", lambda f, k=kind: fmt(f["split"][k]))  # type: ignore[index]
    print("what the requests found after the warm-up (share; a changed body costs the most CPU):")
    for kind in OUTCOMES:
        row(f"  {kind}", lambda f, k=kind: fmt(f["outcomes"][k]))  # type: ignore[index]
    print(
        "active products in bands of equal price-change weight, busiest first: "
        "within 1 h / visits per product-hour / estimated ÷ true change rate (median)"
    )
    for b in range(4):

        def band(f: dict[str, object], b: int = b) -> str:
            bands = f["bands"]
            if b >= len(bands):  # type: ignore[arg-type]
                return "-"
            x = bands[b]  # type: ignore[index]
            return f"{fmt(x.within_1h)}/{fmt(x.visits_per_h)}/{fmt(x.estimate_ratio, '.1f')}"

        first = runs[0].figures["bands"]
        n = first[b].products if b < len(first) else 0  # type: ignore[arg-type,index]
        row(f"  band {b + 1} ({n} products)", band)
    print(
        "over time, from the start: active within 1 h / share of requests to active, quiet, "
        "no product, above start"
    )
    for w in range(TIMELINE_WINDOWS):

        def window(f: dict[str, object], w: int = w) -> str:
            x = f["timeline"][w]  # type: ignore[index]
            shares = ",".join(f"{100 * x.split[k]:.0f}" for k in REQUEST_KINDS)
            return f"{fmt(x.within_1h)}/{shares}"

        start_h = runs[0].figures["timeline"][w].start / 60  # type: ignore[index]
        row(f"  from {start_h:.1f} h", window)
    print(harness)
    rr, ad, two = (r.figures for r in runs[:3])
    limit_min = MAX_AGE_H * 60 + 60  # the configured maximum age, plus an hour of slack
    print(
        "freshness"
        f" hot_within_1h_adaptive={fmt(ad['det']['active'].within_1h)}"  # type: ignore[index]
        f" hot_within_1h_roundrobin={fmt(rr['det']['active'].within_1h)}"  # type: ignore[index]
        f" hot_within_1h_oracle={fmt(ad['oracle'])}"  # type: ignore[arg-type]
        f" new_found_median_min={fmt(ad['new_median_min'], '.0f')}"  # type: ignore[arg-type]
        f" hit_share_adaptive={fmt(ad['hit_share'])}"  # type: ignore[arg-type]
        f" hit_share_roundrobin={fmt(rr['hit_share'])}"  # type: ignore[arg-type]
        f" max_age_ok={int(float(ad['max_age_min']) <= limit_min)}"  # type: ignore[arg-type]
        f" duplicate_fetch={fmt(two['duplicate'], '.4f')}"  # type: ignore[arg-type]
        f" rps_two_daemons={fmt(two['achieved_rps'], '.1f')}"  # type: ignore[arg-type]
        f" cpu_per_1k_adaptive={fmt(ad['cpu_per_1k'], '.3f')}"  # type: ignore[arg-type]
        f" cpu_per_1k_roundrobin={fmt(rr['cpu_per_1k'], '.3f')}"  # type: ignore[arg-type]
        f" cpu_per_1k_changed_adaptive={fmt(ad['cpu_per_1k_changed'], '.3f')}"  # type: ignore[arg-type]
        f" cpu_per_1k_changed_roundrobin={fmt(rr['cpu_per_1k_changed'], '.3f')}"  # type: ignore[arg-type]
    )


def export(rev: str, tmp: Path) -> Path:
    """The package and migrations of commit ``rev``, under ``tmp``."""
    return baseline_tree.export(rev, tmp / f"base-{rev}")


async def amain(scale: Scale, tmp: Path, baseline: str | None, variants: list[str]) -> list[Run]:
    runs = [
        Run("roundrobin", "roundrobin", 1, scale),
        Run("adaptive", "adaptive", 1, scale),
        Run("adaptive x2", "adaptive", 2, scale),
    ]
    if baseline:
        runs.append(Run(f"adaptive@{baseline}"[:15], "adaptive", 1, scale, export(baseline, tmp)))
    for line in variants:
        # one column per --variant; "K=V,K2=V2" sets several keys in one column
        settings = tuple(x.strip() for x in line.split(",") if x.strip())
        # a column's name also names its files: two variants must not share one
        # (the end of the line: where the values are)
        name = line.replace(" ", "")[-15:]
        while any(r.name == name for r in runs):
            name = name[1:] + "'"
        runs.append(Run(name, "adaptive", 1, scale, overrides=settings))
    await asyncio.gather(*(r.execute(tmp) for r in runs))
    return runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a ≈ 3-minute version")
    ap.add_argument(
        "--baseline",
        metavar="REV",
        help="also run one adaptive daemon on commit REV's code (the before of a change)",
    )
    ap.add_argument(
        "--variant",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="also run one adaptive daemon with this [uzum] setting (TOML), e.g. "
        "miss_probability=0.3, or several separated by commas; repeatable, a column each",
    )
    args = ap.parse_args()
    if args.quick:
        scale = Scale(ids=3000, rps=50.0, hour_s=12.0, hours=12.0)
    else:
        scale = Scale(ids=24_000, rps=100.0, hour_s=36.0, hours=30.0)
    tmp = Path(f"/tmp/mp_fresh_{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    cpu0, wall0 = time.process_time(), time.monotonic()
    runs = asyncio.run(amain(scale, tmp, args.baseline, args.variant))
    # the upstreams answer every request, each run's from a process of its own: if they were
    # what capped the achieved rates, their CPU and event-loop lags would say so
    own = time.process_time() - cpu0
    upstreams = sum(r.upstream_cpu_s for r in runs)
    total = sum(int(r.figures["requests"]) for r in runs)  # type: ignore[call-overload]
    lags = [lag for r in runs for lag in r.lags]
    report(
        runs,
        scale,
        f"harness: upstreams {upstreams:.1f} CPU s ({1000 * upstreams / max(1, total):.3f} s/1k "
        f"requests), event-loop lag p50 {1000 * quantile(lags, 0.5):.0f} ms "
        f"p99 {1000 * quantile(lags, 0.99):.0f} ms; benchmark {own:.1f} CPU s; "
        f"{time.monotonic() - wall0:.0f} s; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    )


if __name__ == "__main__":
    main()
