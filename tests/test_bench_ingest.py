"""The ingest benchmark stays on this machine and measures only its own database's backends."""

from __future__ import annotations

from pathlib import Path

from marketplaced import db, platforms
from marketplaced.config import DatabaseConfig
from marketplaced.platforms.uzex.config import UzexConfig
from tests.benchmarks.bench_ingest import daemon_setup, off_machine_urls
from tests.benchmarks.pg_cpu import BackendCpu
from tests.conftest import _admin_cfg

#: enough rows that counting them costs a backend several clock ticks of CPU
_BURN = "SELECT count(*) FROM generate_series(1, 3000000)"


def test_the_daemon_it_starts_talks_only_to_the_simulator(tmp_path: Path) -> None:
    env = daemon_setup(tmp_path, "http://127.0.0.1:9", "mp_bench_x", ids=100, concurrency=4)
    cfg = platforms.load_config(env)
    assert off_machine_urls(cfg) == []
    assert not cfg.section(UzexConfig).enabled, "UZEX is not what this benchmark measures"
    assert not cfg.jobs.enabled
    # the check has teeth: the shipped defaults name the real upstreams
    defaults = off_machine_urls(platforms.load_config({}, path=None))
    assert any(u.startswith("uzum.") for u in defaults)
    assert any(u.startswith("uzex.") for u in defaults)


async def test_postgres_cpu_counts_only_the_measured_database(empty_db: DatabaseConfig) -> None:
    other_db = _admin_cfg()  # another database on the same server
    assert other_db.name != empty_db.name
    meter_conn = await db.connect(empty_db)
    ours, gone, theirs = [await db.connect(c) for c in (empty_db, empty_db, other_db)]
    try:
        meter = BackendCpu(meter_conn, empty_db.name)
        await meter.start()
        pids = {
            name: await c.fetchval("SELECT pg_backend_pid()")
            for name, c in (("ours", ours), ("gone", gone), ("theirs", theirs))
        }
        for conn in (ours, gone, theirs):
            await conn.fetchval(_BURN)
        await meter.sample()
        counted = set(meter.backends)
        assert pids["ours"] in counted and pids["gone"] in counted
        assert pids["theirs"] not in counted, "another database's backend was counted"
        assert await meter_conn.fetchval("SELECT pg_backend_pid()") not in counted
        gone_cpu = meter.backends[pids["gone"]].last - meter.backends[pids["gone"]].first
        assert gone_cpu > 0, "the burn query was not seen"
        # a backend that exits keeps what was sampled while it lived
        before = meter.total_s()
        await gone.close()
        await meter.sample()
        assert meter.total_s() >= before
        assert pids["gone"] in meter.backends
        assert meter.per_backend_s() == sorted(meter.per_backend_s(), reverse=True)
    finally:
        for conn in (ours, gone, theirs, meter_conn):
            if not conn.is_closed():
                await conn.close()
