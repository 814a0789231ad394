"""One-shot commands: ranges are validated (exit 2), a dead writer ends the command with an
error instead of a hang, and the progress line moves as requests and records complete (read
from an injected progress sink, not from the clock)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from marketplaced import platforms
from marketplaced.checkpoint import CursorMark, DeadLetter
from marketplaced.config import Config, DatabaseConfig
from marketplaced.errors import MarketplacedError
from marketplaced.platforms import uzex
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.progress import ProgressLine
from marketplaced.runtime import one_shot
from marketplaced.simulator.app import SimulatorOptions, build
from tests.helpers.cli import cli

from .conftest import env_for_tests

pytestmark = pytest.mark.timeout(120)


async def test_bad_ranges_exit_2_with_a_message(fresh_db: DatabaseConfig) -> None:
    env = {**env_for_tests(), "PATH": os.environ.get("PATH", ""), "DB_NAME": fresh_db.name}
    cases = {
        ("--from", "10", "--to", "5"): "--from 10 is above --to 5",
        ("--target", "-1"): "--target -1 is out of range",
        ("--from", "-7"): "--from -7 is out of range",
        ("--to", "0"): "--to 0 is out of range",
        ("--from", "99999999999999999999"): "--from 99999999999999999999 is out of range",
    }
    for args, message in cases.items():
        code, out, err = await cli(env, "download", "uzum", *args)
        assert (code, out) == (2, ""), (args, err)
        assert message in err, err
    code, _, err = await cli(env, "download", "uzex", "--from", "5")
    assert code == 2 and "a UZEX download walks the lists" in err


def _cfg(db: DatabaseConfig, **env: str) -> Config:
    cfg = platforms.load_config({**env_for_tests(), **env}, path=None)
    return dataclasses.replace(cfg, database=db)


async def test_a_dead_writer_ends_the_command_with_an_error(
    fresh_db: DatabaseConfig, pool: asyncpg.Pool
) -> None:
    cfg = _cfg(fresh_db)

    async def command() -> None:
        async with one_shot(cfg) as (_pool, writer, _fetcher):
            await writer.put(DeadLetter("uzum.product", 7, "transport", "fine"))
            await writer.flush()
            # a cursor PostgreSQL refuses (bigint overflow, the way --from 99999999999999999999
            # used to reach it): no record to dead-letter in its place, so the writer dies
            await writer.put(CursorMark("uzum.download", 2**70, 1, 2**70, 0))
            await writer.flush()

    with pytest.raises(MarketplacedError, match="the database writer stopped"):
        await asyncio.wait_for(command(), 60)  # it used to wait here forever
    # what was committed before stays
    assert await pool.fetchval("SELECT count(*) FROM dead_letters WHERE entity_id = 7") == 1


def _lines(sink: io.StringIO) -> list[str]:
    return [line.strip() for line in sink.getvalue().split("\r") if line.strip()]


async def test_uzex_progress_moves_with_each_item_request_and_archived_response(
    aiohttp_server: Any, fresh_db: DatabaseConfig, tmp_path: Path, monkeypatch: Any
) -> None:
    sims = build(SimulatorOptions(seed=3, n_ids=50, tick_seconds=0, uzex_deals=60))
    server = await aiohttp_server(sims.app)
    origin = str(server.make_url("")).rstrip("/")
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    cfg = _cfg(fresh_db, UZEX_BASE_URL=origin)
    cfg = dataclasses.replace(
        cfg.with_section(dataclasses.replace(cfg.section(UzexConfig), rps=0.0, page_size=20)),
        archive=dataclasses.replace(cfg.archive, enabled=True),
    )
    sink = io.StringIO()
    result = await uzex.download(cfg, "auction", target=20, progress=ProgressLine(sink, every_s=0))
    assert result.lots >= 20
    figures = [
        (int(m[1]), int(m[2]))
        for m in (re.match(r"(\d+)/20 lots .* (\d+) item requests", x) for x in _lines(sink))
        if m
    ]
    # the first page's 20 item requests are counted one by one while its lots still read 0
    before_first_page = [requests for lots, requests in figures if lots == 0]
    assert max(before_first_page) >= 19, figures[:25]
    assert len(set(before_first_page)) >= 19
    assert [r for _, r in figures] == sorted(r for _, r in figures)  # never goes back

    sink = io.StringIO()
    replayed = await uzex.process_raw(cfg, progress=ProgressLine(sink, every_s=0))
    assert replayed.lots >= 20
    counts = [int(x.split(" responses")[0]) for x in _lines(sink)]
    # one line per archived response (list pages and item answers), not one per lot type
    assert len(set(counts)) >= 21 and counts == sorted(counts)
