"""`marketplaced demo`: the whole product, offline, in one command.

Starts the simulator (Uzum + UZEX, prices and orders moving every few seconds) and the real
daemon in the same process against a demo database, with short job schedules and a couple of
alert rules, and prints the dashboard URL. Before the daemon starts, 30 simulated days of
history are written for part of the catalogue (`backfill`; off with `--no-backfill`), so sales
per day, 7 and 30 days, trends and price charts have data at once; within a minute the dashboard
also shows scanners running, the live scan extending today, and alerts — how a newcomer
evaluates marketplaced without internet. The demo database (`marketplaced_demo` unless
`--database`) is wiped at start unless `--keep` is given; it is never the production database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import sys
from typing import Any

import asyncpg
from aiohttp import web

from marketplaced import db, log, platforms
from marketplaced.backfill import BackfillPlan, analyse_days, backfill_history
from marketplaced.config import Config, DatabaseConfig
from marketplaced.errors import DatabaseError, MarketplacedError
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.simulator.app import SimulatorOptions, Simulators, build

_log = log.get(__name__)

#: demo rules: every big enough drop, stock-outs and new lows — so alerts appear quickly
DEMO_RULES = "price_drop all pct=5 cap=50; out_of_stock all cap=20; new_low all days=7 cap=20"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_config(base: Config, *, database: str, sim_origin: str, web_port: int) -> Config:
    """The user's settings (credentials, log) with everything upstream pointed at the simulator
    and schedules shortened so that the dashboard fills within a minute."""
    env = {**os.environ, "UZUM_BASE_URL": sim_origin, "UZEX_BASE_URL": sim_origin}
    cfg = platforms.load_config(env, path=None)

    def sect(obj: Any, **kw: Any) -> Any:
        return dataclasses.replace(obj, **kw)

    # a small catalogue scanned quickly: a cycle takes ~20 s, so by the second and third
    # cycle prices have moved (a tick every few seconds) and alerts fire within a minute
    cfg = cfg.with_section(
        sect(
            cfg.section(UzumConfig),
            rps=200.0,
            concurrency=16,
            frontier_misses=300,
            cycle_pause_s=3.0,
            checkpoint_every=200,
        )
    ).with_section(sect(cfg.section(UzexConfig), rps=20.0, cycle_pause_s=10.0))
    return dataclasses.replace(
        cfg,
        database=sect(base.database, name=database),
        # own key prefix: `marketplaced status` of a production daemon never shows demo scanners
        redis=sect(base.redis, key_prefix="marketplaced-demo:"),
        log=base.log,
        # polite even to our own simulator: the dashboard should show a steady scan, not a burst
        # loopback only and synthetic data: no token, so the printed URL just opens
        web=sect(
            cfg.web, host="127.0.0.1", port=web_port, enabled=True, token="", summary_refresh_s=20.0
        ),
        jobs=sect(
            cfg.jobs,
            analytics_schedule="every 1m",
            # soon after start: the first run already sees the backfill's last pass
            alerts_schedule="every 10s",
            coverage_schedule="every 1m",
            health_schedule="every 1m",
        ),
        alerts=sect(cfg.alerts, rules=DEMO_RULES, settle_s=0.0),
        archive=sect(cfg.archive, enabled=False),
    )


async def prepare_database(base: DatabaseConfig, name: str, *, keep: bool) -> DatabaseConfig:
    """Create the demo database if we may, wipe it unless `keep`, and migrate it."""
    target = dataclasses.replace(base, name=name)
    try:
        conn = await db.connect(target)
    except DatabaseError as exc:
        if "does not exist" not in str(exc):
            raise
        await _create(base, name)
        conn = await db.connect(target)
    try:
        if not keep:
            # the owner of the demo database may drop its schema: a clean slate every run
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await db.migrate(conn)
    finally:
        await conn.close()
    return target


async def _create(base: DatabaseConfig, name: str) -> None:
    conn = await db.connect(base)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError:
        raise MarketplacedError(
            f"the demo database '{name}' does not exist and role '{base.user}' may not create it. "
            f"Create it once as the PostgreSQL superuser:  sudo -u postgres createdb -O "
            f"{base.user} {name}   (install.sh does this), or pass --database NAME"
        ) from None
    finally:
        await conn.close()


async def _backfill(cfg: Config, sims: Simulators, plan: BackfillPlan) -> asyncpg.Pool | None:
    """The simulated past, unless the (kept) database already holds products: a second
    backfill would write history older than what is stored. Returns the pool the days'
    analytics are to run on (None: nothing to analyse)."""
    pool = await db.create_pool(cfg.database, min_size=1)
    try:
        if await pool.fetchval("SELECT EXISTS (SELECT 1 FROM products)"):
            print("  (kept database has products: no history backfill)", file=sys.stderr)
            await pool.close()
            return None
        print(
            f"  Writing {plan.days} simulated days of history for {plan.products} products …",
            file=sys.stderr,
            flush=True,
        )
        done = await backfill_history(pool, cfg, sims.uzum.catalogue, plan)
    except BaseException:
        await pool.close()
        raise
    # the live scan continues the simulated time where the backfill's last pass stopped
    sims.uzum.advance(plan.last_tick)
    print(
        f"  History: {done.passes} passes over {done.products} products in {done.seconds:.0f} s; "
        f"its {plan.days} days' sales are computed while the daemon starts",
        file=sys.stderr,
        flush=True,
    )
    return pool


async def _analyse(pool: asyncpg.Pool, cfg: Config, plan: BackfillPlan) -> None:
    """The backfilled days' analytics beside the starting daemon (they take about as long as
    the passes, and the live scan writes none of a past day's rows); a failure is logged and
    leaves the demo running."""
    try:
        await analyse_days(pool, cfg, plan)
    except (asyncpg.PostgresError, OSError, MarketplacedError) as exc:
        _log.error("backfill_analytics_failed", error=str(exc)[:500])
    finally:
        await pool.close()


async def run_demo(
    base: Config,
    *,
    database: str,
    keep: bool,
    web_port: int,
    n_ids: int,
    tick_seconds: float,
    backfill: bool = True,
) -> int:
    from marketplaced.daemon import Daemon

    await prepare_database(base.database, database, keep=keep)
    sims = build(SimulatorOptions(seed=1, n_ids=n_ids, tick_seconds=tick_seconds, uzex_deals=300))
    runner = web.AppRunner(sims.app, access_log=None)
    await runner.setup()
    sim_port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", sim_port).start()
    cfg = demo_config(
        base, database=database, sim_origin=f"http://127.0.0.1:{sim_port}", web_port=web_port
    )
    plan = BackfillPlan()
    history = await _backfill(cfg, sims, plan) if backfill else None
    print(
        f"\nmarketplaced demo: simulator on http://127.0.0.1:{sim_port}, database '{database}'\n"
        f"  Dashboard:  http://127.0.0.1:{web_port}/\n"
        f"  Products, sellers, price history and alerts appear within a minute. Ctrl-C stops.\n",
        file=sys.stderr,
        flush=True,
    )
    analysing = None
    if history is not None:
        analysing = asyncio.create_task(_analyse(history, cfg, plan), name="backfill-analytics")
    try:
        return await Daemon(cfg, loader=lambda: cfg).run()
    finally:
        if analysing is not None:
            analysing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await analysing
        await runner.cleanup()
