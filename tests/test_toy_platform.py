"""A third marketplace added by the README's "Adding a marketplace" steps alone.

The toy platform below is everything such a package holds — records, parser, sink, scanner,
routes, its configuration section, its one-shot commands (none), its staleness limit — and
nothing else is edited: its section is read from the file and the environment by the one loader
(`platforms.load_config(…, among=…)`) and it is handed to the daemon in a copy of the platform
list (`Daemon(cfg, among=…)`, the documented hooks). Its scanner then runs under the daemon's
own supervisor, fetcher and writer against a tiny upstream into real PostgreSQL, and its
requests carry its own headers, not Uzum's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import pytest
from aiohttp import web

from marketplaced import platforms
from marketplaced.checkpoint import CursorMark
from marketplaced.config import Config, DatabaseConfig
from marketplaced.config_loader import option
from marketplaced.daemon import Daemon
from marketplaced.errors import ConfigError, ParseError
from marketplaced.http import HostPolicy, Route
from marketplaced.platforms.base import (
    OneShotCommand,
    PauseGate,
    Platform,
    ScanDeps,
    Scanner,
    ScannerStats,
)
from marketplaced.systemd import SystemdNotifier
from tests.helpers.settings import env_for_tests

TOY_UA = "toy-scanner/1.0"
QUOTES = {"AAA": 101, "BBB": 202, "CCC": 303}


# 1. records
@dataclasses.dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    price: int


# 2. parser
def parse_quotes(data: Any) -> list[Quote]:
    if not isinstance(data, dict) or not isinstance(data.get("quotes"), list):
        raise ParseError("quotes: expected a list")
    out = []
    for i, row in enumerate(data["quotes"]):
        if not isinstance(row, dict) or not isinstance(row.get("price"), int):
            raise ParseError(f"quotes[{i}].price: expected an integer")
        out.append(Quote(str(row["symbol"]), row["price"]))
    return out


# 3. storage (its table: the migration-like setup in `toy_table`)
class QuoteSink:
    types: tuple[type, ...] = (Quote,)

    async def write(
        self, conn: asyncpg.Connection, groups: Mapping[type, list[Any]], now: datetime
    ) -> int:
        rows = [(q.symbol, q.price, now) for q in groups.get(Quote, [])]
        await conn.executemany(
            "INSERT INTO toy_quotes (symbol, price, seen_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (symbol) DO UPDATE SET price = EXCLUDED.price, seen_at = EXCLUDED.seen_at",
            rows,
        )
        return len(rows)

    def identify(self, item: Any) -> tuple[str, int]:
        return "toy.quote", 0


# 7. config (`config.py` of the package): its section, read from [toy] and the environment
@dataclasses.dataclass(frozen=True, slots=True)
class ToyConfig:
    SECTION: ClassVar[str] = "toy"
    RESTART_KEYS: ClassVar[frozenset[str]] = frozenset({"max_stale_s"})

    enabled: bool = option(True, "run the quote scanner")
    base_url: str = option("https://quotes.example", "API origin", env="TOY_BASE_URL")
    max_stale_s: float = option(300.0, "restart a stalled scanner after this long", lo=1, hi=3600)

    def problems(self) -> list[str]:
        return [] if self.base_url.startswith("http") else ["'toy.base_url' must be http(s)"]


# 4. scanner
class QuoteScanner:
    name = "toy.quotes"

    def __init__(self, cfg: ToyConfig, deps: ScanDeps) -> None:
        self.cfg = cfg
        self.stats = ScannerStats()
        self.gate = PauseGate(self.stats)
        self._deps = deps

    async def run(self) -> None:
        self.stats.state = "scanning"
        await self.gate.wait()
        resp = await self._deps.fetcher.get_json(f"{self.cfg.base_url}/quotes")
        quotes = parse_quotes(resp.data)
        for quote in quotes:
            await self._deps.writer.put(quote)
            self.stats.found += 1
            self.stats.tick()
        mark = CursorMark(self.name, len(quotes), 1, len(quotes), len(quotes))
        await self._deps.writer.put(mark)
        self.stats.state = "done"
        await asyncio.Event().wait()  # a continuous scanner: stays until cancelled

    def pause(self) -> None:
        self.gate.pause()

    def unpause(self) -> None:
        self.gate.resume()


# the package's `__init__`: the `Platform`
@dataclasses.dataclass
class ToyPlatform:
    name: str = "toy"
    config_section: type[ToyConfig] = ToyConfig
    commands: Mapping[str, OneShotCommand] = dataclasses.field(default_factory=dict)

    def routes(self, cfg: Config) -> dict[str, Route]:
        host = cfg.section(ToyConfig).base_url.split("://", 1)[1]
        return {host: Route(HostPolicy(rps=0.0), {"User-Agent": TOY_UA})}

    def sinks(self) -> list[Any]:
        return [QuoteSink()]

    def build_scanners(
        self, cfg: Config, deps: ScanDeps, archive_root: Path | None
    ) -> Sequence[Scanner]:
        section = cfg.section(ToyConfig)
        return [QuoteScanner(section, deps)] if section.enabled else []

    def max_stale_s(self, cfg: Config, scanner: str) -> float:
        return cfg.section(ToyConfig).max_stale_s

    def config_warnings(self, cfg: Config) -> list[str]:
        return []


def toy_upstream(seen: list[Mapping[str, str]]) -> web.Application:
    async def quotes(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"quotes": [{"symbol": s, "price": p} for s, p in QUOTES.items()]})

    app = web.Application()
    app.router.add_get("/quotes", quotes)
    return app


TOY_FILE = """
[uzum]
enabled = false
[uzex]
enabled = false
[web]
enabled = false
[jobs]
enabled = false
[toy]
max_stale_s = 42
"""


async def test_a_toy_platform_scans_through_the_daemon_into_postgresql(
    aiohttp_server: Any, fresh_db: DatabaseConfig, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await pool.execute(
        "CREATE TABLE toy_quotes (symbol text PRIMARY KEY, price int NOT NULL, "
        "seen_at timestamptz NOT NULL)"
    )
    seen: list[Mapping[str, str]] = []
    server = await aiohttp_server(toy_upstream(seen))
    registered: Platform = ToyPlatform()  # a Platform as far as the type checker is concerned
    among = (*platforms.ALL, registered)
    path = tmp_path / "marketplaced.toml"
    path.write_text(TOY_FILE)
    env = {
        **env_for_tests(),
        "DB_NAME": fresh_db.name,
        "TOY_BASE_URL": str(server.make_url("")).rstrip("/"),
    }
    cfg = platforms.load_config(env, path, among=among)
    assert cfg.section(ToyConfig).max_stale_s == 42.0
    # the one loader checks its section like any other: its keys, ranges and own rules
    path.write_text(TOY_FILE + "speed = 3\nbase_url = 'ftp://x'\n")
    with pytest.raises(ConfigError) as bad:
        platforms.load_config(env, path, among=among)
    assert any("unknown key 'toy.speed'" in p for p in bad.value.problems)
    path.write_text(TOY_FILE + "base_url = 'ftp://x'\n")
    with pytest.raises(ConfigError) as bad:
        platforms.load_config({}, path, among=among)
    assert any("'toy.base_url' must be http(s)" in p for p in bad.value.problems)
    assert "toy.base_url" in platforms.documented_keys(among)
    daemon = Daemon(cfg, notifier=SystemdNotifier({}), among=among)
    await daemon._start()
    try:
        assert list(daemon.scanners) == ["toy.quotes"]
        for _ in range(200):
            if await pool.fetchval("SELECT count(*) FROM toy_quotes") == len(QUOTES):
                break
            await asyncio.sleep(0.05)
        rows = await pool.fetch("SELECT symbol, price FROM toy_quotes ORDER BY symbol")
        assert {r["symbol"]: r["price"] for r in rows} == QUOTES
        cursor = await pool.fetchval(
            "SELECT position FROM scan_cursors WHERE scanner = 'toy.quotes'"
        )
        assert cursor == len(QUOTES)
        # its own headers, none of Uzum's, and its own staleness limit for the supervisor
        assert seen and seen[0]["User-Agent"] == TOY_UA
        assert "Accept-Language" not in seen[0]
        assert platforms.max_stale_s(cfg, "toy.quotes", daemon.platforms) == 42.0
        assert daemon.supervisor.services["toy.quotes"].running
    finally:
        await daemon._shutdown()
