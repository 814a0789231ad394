"""SIGTERM while the writer is still collecting a batch: the real daemon, as a subprocess,
scanning the simulator. Everything the scanner handed to the writer must be committed on the
way out, and the log must say so truthfully."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from marketplaced import db
from marketplaced.config import DatabaseConfig
from marketplaced.simulator.uzum import UzumCatalogue
from tests.helpers import daemon
from tests.helpers.daemon import N_IDS, SEED, DaemonProcess, events
from tests.helpers.uzum import expected_state, missing_ids, stored_state

# the subprocess simulator fixture of tests/helpers/daemon.py, for this module's tests
simulator = daemon.simulator

pytestmark = pytest.mark.slow

# flush_interval_s = 600 and a huge batch_max: during the test the writer never flushes on its
# own, so at SIGTERM every record sits in the batch being collected
CONFIG = """
[daemon]
status_interval_s = 0.5
[writer]
flush_interval_s = 600.0
batch_max = 100000
queue_max = 100000
[uzum]
# the round-robin cycle and its cursor are what this checks
mode = "roundrobin"
rps = 300
concurrency = 16
frontier_misses = 300
cycle_pause_s = 3600.0
checkpoint_every = 50
[uzex]
enabled = false
[web]
enabled = false
"""


def test_sigterm_commits_the_batch_being_collected(
    tmp_path: Path,
    fresh_db: DatabaseConfig,
    simulator: str,
) -> None:
    d = DaemonProcess(tmp_path, fresh_db, CONFIG, {"UZUM_BASE_URL": simulator})
    try:
        d.start()
        assert d.notify.wait_for(lambda m: "READY=1" in m, 30), d.log()
        time.sleep(2.0)  # a few hundred ids fetched, none committed yet
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0, d.log()[-3000:]
    finally:
        d.stop()
    drained = events(d.log(), "writer_drained")
    assert len(drained) == 1, d.log()[-3000:]
    assert (drained[0]["complete"], drained[0]["left"]) == (True, 0)

    async def check() -> None:
        pool = await db.create_pool(fresh_db)
        try:
            position = await pool.fetchval(
                "SELECT position FROM scan_cursors WHERE scanner = 'uzum.products'"
            )
            # the cursor marks travelled in the collected batch: they were committed too
            assert position is not None and position >= 50, position
            ids = range(1, position + 1)
            expected = expected_state(UzumCatalogue(SEED, N_IDS), ids, 0)
            assert await stored_state(pool, ids) == expected
            assert await missing_ids(pool, ids) == set(ids) - set(expected)
        finally:
            await pool.close()

    asyncio.run(check())
