"""The `marketplaced` command: one subcommand per operation.

run            the daemon (under systemd, or in the foreground)
check-config   validate the configuration; exit 0, or print the problems and exit 78
migrate        apply pending sql/ migrations (`--status` lists applied and pending)
status         daemon, scanners, writer and jobs (exit 0 running, 3 not running, 4 unknown)
counts         row counts of every table (estimates for huge tables; `--exact`)
dump/restore   pg_dump/pg_restore custom-format backups
db-shell       psql with the configured credentials
simulate       the offline Uzum/UZEX-compatible upstream
demo           simulator + daemon + dashboard in one command, offline
jobs           list the scheduled jobs, or run one now
download       one-shot scan with a progress bar
process-raw    re-parse the raw archive into the database
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import uvloop

from marketplaced import __version__, db, log, ops, platforms
from marketplaced.config import EX_CONFIG, Config
from marketplaced.errors import ConfigError, MarketplacedError

_log = log.get(__name__)


def _load_config() -> Config:
    return platforms.load_config()


def _print_config_problems(exc: ConfigError) -> None:
    print("marketplaced: the configuration is invalid:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)
    print(
        "Fix the file (every key is documented in config/marketplaced.toml) and try again.",
        file=sys.stderr,
    )


def _run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    return uvloop.run(coro)


# -- subcommands ---------------------------------------------------------------------------
def cmd_run(cfg: Config, _args: argparse.Namespace) -> int:
    from marketplaced.daemon import Daemon

    _log.info("daemon_starting", version=__version__, config=cfg.source)
    code: int = _run_async(Daemon(cfg).run())
    return code


def cmd_check_config(cfg: Config, _args: argparse.Namespace) -> int:
    print(f"configuration OK ({cfg.source})")
    for warning in platforms.config_warnings(cfg):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_migrate(cfg: Config, args: argparse.Namespace) -> int:
    async def go() -> int:
        conn = await db.connect(cfg.database, wait_s=args.wait)
        try:
            if args.status:
                done = await db.applied_versions(conn)
                for mig in db.migrations():
                    mark = "applied" if mig.version in done else "PENDING"
                    print(f"{mig.version:03d}  {mark:8}  {mig.name}")
                return 0
            applied = await db.migrate(conn, lock_timeout_s=args.lock_wait)
            print(f"applied {len(applied)} migration(s); schema at version {db.expected_version()}")
            return 0
        finally:
            await conn.close()

    code: int = _run_async(go())
    return code


def cmd_status(cfg: Config, args: argparse.Namespace) -> int:
    from marketplaced import report
    from marketplaced.jobs import triggers

    result = _run_async(report.gather(cfg))
    if args.json:
        print(json.dumps(report.as_json(result), default=str, indent=2))
    else:
        print("\n".join(report.lines(result, triggers.timezone(cfg.jobs.timezone))))
    code: int = result.exit_code
    return code


def cmd_counts(cfg: Config, args: argparse.Namespace) -> int:
    async def go() -> list[tuple[str, int, bool]]:
        conn = await db.connect(cfg.database)
        try:
            return await ops.counts(conn, exact=args.exact)
        finally:
            await conn.close()

    rows = _run_async(go())
    width = max((len(r[0]) for r in rows), default=10)
    for name, n, exact in rows:
        print(f"{name:<{width}}  {'' if exact else '~'}{n:,}")
    return 0


def cmd_dump(cfg: Config, args: argparse.Namespace) -> int:
    from datetime import datetime

    target = Path(args.file or f"marketplaced-{datetime.now():%Y%m%d-%H%M%S}.dump")
    ops.dump(cfg, target)
    print(f"dump written to {target}")
    return 0


def cmd_restore(cfg: Config, args: argparse.Namespace) -> int:
    ops.restore(cfg, Path(args.file), force=args.force)
    print(f"restored {args.file} into {cfg.database.name}")
    return 0


def cmd_db_shell(cfg: Config, args: argparse.Namespace) -> int:
    ops.db_shell(cfg, args.psql_args)
    return 0


def cmd_simulate(_cfg: Config | None, args: argparse.Namespace) -> int:
    from marketplaced.simulator.app import SimulatorOptions, serve

    opts = SimulatorOptions(
        host=args.host,
        port=args.port,
        seed=args.seed,
        n_ids=args.ids,
        faults=args.faults,
        tick_seconds=args.tick_seconds,
        dynamics=args.dynamics,
        uzex_not_valid=args.uzex_not_valid,
    )
    _run_async(serve(opts))
    return 0


#: the largest id the tables can hold: products.id, dead_letters.entity_id and the scan
#: cursors are `bigint` (sql/001_daemon.sql, sql/002_uzum.sql); a larger id could be fetched
#: but never stored, not even as a dead letter
BIGINT_MAX = 2**63 - 1


def _download_range_problem(args: argparse.Namespace) -> str | None:
    for flag, value in (("--from", args.from_id), ("--to", args.to_id), ("--target", args.target)):
        if value is not None and not 1 <= value <= BIGINT_MAX:
            return (
                f"{flag} {value} is out of range: ids and counts go from 1 to {BIGINT_MAX} "
                "(the database stores ids as bigint)"
            )
    if args.from_id is not None and args.to_id is not None and args.from_id > args.to_id:
        return f"--from {args.from_id} is above --to {args.to_id}: nothing to download"
    return None


def cmd_one_shot(cfg: Config, args: argparse.Namespace) -> int:
    """`download <platform>` / `process-raw <platform>`: the platform's part of the command."""
    platform = platforms.by_name(args.platform)
    assert platform is not None  # argparse offered only the platforms' names
    command = platform.commands[args.command]
    problem = _download_range_problem(args) if args.command == "download" else None
    problem = problem or command.check(args)
    if problem is not None:
        print(f"marketplaced {args.command}: {problem}", file=sys.stderr)
        return 2  # a usage error, like argparse's own
    code: int = _run_async(command.run(cfg, args))
    return code


def cmd_demo(cfg: Config, args: argparse.Namespace) -> int:
    from marketplaced.demo import run_demo

    code: int = _run_async(
        run_demo(
            cfg,
            # never the production database: <DB_NAME>_demo unless told otherwise
            database=args.database or f"{cfg.database.name}_demo",
            keep=args.keep,
            web_port=args.port,
            n_ids=args.ids,
            tick_seconds=args.tick_seconds,
            backfill=not args.no_backfill,
        )
    )
    return code


def cmd_jobs(cfg: Config, args: argparse.Namespace) -> int:
    from marketplaced.jobs.commands import list_command, run_command

    if args.action == "list":
        code: int = _run_async(list_command(cfg, sys.stdout))
        return code
    if not args.name:
        raise MarketplacedError("jobs run needs a job name (see `marketplaced jobs list`)")
    days = _analytics_days(cfg, args)
    if days == []:
        return 2
    code = _run_async(run_command(cfg, args.name, sys.stdout, commit=args.commit, days=days))
    return code


def _analytics_days(cfg: Config, args: argparse.Namespace) -> list[date] | None:
    """The days `--day`/`--since` ask for; None without them, [] (after saying why) when they
    are not usable: another job, or a day that has not ended yet."""
    first = args.day or args.since
    if first is None:
        return None
    if args.name != "analytics":
        print("marketplaced jobs run: --day/--since only apply to analytics", file=sys.stderr)
        return []
    from marketplaced.jobs import analytics, triggers

    yesterday = datetime.now(triggers.timezone(cfg.jobs.timezone)).date() - timedelta(days=1)
    if first > yesterday:
        print(
            f"marketplaced jobs run: {first} has not ended yet (latest day: {yesterday})",
            file=sys.stderr,
        )
        return []
    return [first] if args.day else analytics.days_between(first, yesterday)


def _iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


# -- parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="marketplaced", description=__doc__.split("\n\n")[0])
    p.add_argument("--version", action="version", version=f"marketplaced {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[..., int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(fn=fn)
        return sp

    add("run", cmd_run, "run the daemon in the foreground (systemd runs exactly this)")
    add("check-config", cmd_check_config, "validate the configuration (exit 78 when invalid)")
    m = add("migrate", cmd_migrate, "apply pending database migrations")
    m.add_argument("--status", action="store_true", help="list applied and pending migrations")
    m.add_argument("--wait", type=float, default=10.0, help="seconds to wait for PostgreSQL")
    m.add_argument(
        "--lock-wait",
        type=float,
        default=0.0,
        help="seconds to wait if another process is migrating",
    )
    s = add(
        "status",
        cmd_status,
        "show the daemon's scanners, writer and jobs; exit 0 running, 3 not running, 4 unknown",
    )
    s.add_argument("--json", action="store_true", help="machine-readable output")
    c = add("counts", cmd_counts, "row counts of every table")
    c.add_argument("--exact", action="store_true", help="count(*) even huge tables (slow)")
    d = add("dump", cmd_dump, "back up the database (pg_dump custom format)")
    d.add_argument("file", nargs="?", help="target file (default: marketplaced-<time>.dump)")
    r = add("restore", cmd_restore, "restore a backup made by `dump`")
    r.add_argument("file")
    r.add_argument("--force", action="store_true", help="replace a non-empty database")
    sh = add("db-shell", cmd_db_shell, "psql with the configured credentials")
    sh.add_argument("psql_args", nargs=argparse.REMAINDER, help="passed to psql as they are")
    jb = add("jobs", cmd_jobs, "list the scheduled jobs, or run one now")
    jb.add_argument("action", choices=["list", "run"])
    jb.add_argument("name", nargs="?", help="job to run (analytics, alerts, health, …)")
    jb.add_argument(
        "--commit",
        action="store_true",
        help="alerts/health: really run (store, send, move the daemon's state); "
        "without it they are a dry run that shows what they would do",
    )
    days = jb.add_mutually_exclusive_group()
    days.add_argument("--day", type=_iso_day, help="analytics: recompute this day (YYYY-MM-DD)")
    days.add_argument(
        "--since", type=_iso_day, help="analytics: recompute every day from this one to yesterday"
    )
    demo = add("demo", cmd_demo, "offline demo: simulator + daemon + dashboard, no internet needed")
    demo.add_argument(
        "--database",
        default=None,
        help="demo database (default <DB_NAME>_demo; wiped at start unless --keep)",
    )
    demo.add_argument("--keep", action="store_true", help="keep the demo database's data")
    demo.add_argument(
        "--port", type=int, default=8088, help="dashboard port (8080 is the installed daemon's)"
    )
    demo.add_argument("--ids", type=int, default=3_000, help="simulated product ids")
    demo.add_argument(
        "--tick-seconds",
        type=float,
        default=5.0,
        help="real seconds per simulated tick (prices and orders move)",
    )
    demo.add_argument(
        "--no-backfill",
        action="store_true",
        help="start with an empty history instead of 30 simulated days of it",
    )
    sim = add("simulate", cmd_simulate, "serve the offline Uzum/UZEX-compatible upstream")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8090)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--ids", type=int, default=100_000, help="product ids 1..N (≈70%% exist)")
    sim.add_argument(
        "--faults", default="none", help="fault profile: none, mild, hostile or a spec"
    )
    sim.add_argument(
        "--tick-seconds",
        type=float,
        default=60.0,
        help="real seconds per simulated tick (0: time stands still)",
    )
    sim.add_argument(
        "--dynamics",
        # the simulator's DYNAMICS, spelled out: the CLI imports the simulator only to run it
        choices=("uniform", "realistic"),
        default="uniform",
        help="uniform: every product moves alike, a tick is an hour; realistic: skewed activity,"
        " new ids above the frontier, delistings, dead id ranges, a tick is a minute",
    )
    sim.add_argument(
        "--uzex-not-valid",
        action="store_true",
        help="the UZEX auction host demands the Validation header",
    )
    dl = add("download", cmd_one_shot, "one-shot download with a progress bar")
    dl.add_argument("platform", choices=_offering("download"))
    dl.add_argument("--from", dest="from_id", type=int, default=None, help="first id (default 1)")
    dl.add_argument(
        "--to", dest="to_id", type=int, default=None, help="last id (default: frontier)"
    )
    dl.add_argument(
        "--target",
        type=int,
        default=None,
        help="stop after N products (uzum) or lots (uzex) found",
    )
    pr = add("process-raw", cmd_one_shot, "re-parse archived raw responses into the database")
    pr.add_argument("platform", choices=_offering("process-raw"))
    for platform in platforms.ALL:
        for name, command in platform.commands.items():
            command.add_arguments(dl if name == "download" else pr)
    return p


def _offering(command: str) -> list[str]:
    return [p.name for p in platforms.ALL if command in p.commands]


#: commands that do not need a valid configuration
_NO_CONFIG = {"simulate"}


def _parse(argv: list[str]) -> argparse.Namespace:
    """Everything after `db-shell` belongs to psql, options included: argparse's REMAINDER
    stops at the first option-like word (`db-shell -c 'select 1'` was "unrecognized")."""
    if "db-shell" in argv:
        cut = argv.index("db-shell") + 1
        if all(a.startswith("-") for a in argv[: cut - 1]):  # it is the command, not a value
            args = build_parser().parse_args(argv[:cut])
            args.psql_args = argv[cut:]
            return args
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    cfg: Config | None = None
    if args.command not in _NO_CONFIG:
        try:
            cfg = _load_config()
        except ConfigError as exc:
            log.setup()
            _print_config_problems(exc)
            return EX_CONFIG
        log.setup(cfg.log.level, cfg.log.format)
    else:
        log.setup()
    try:
        code: int = args.fn(cfg, args)
    except MarketplacedError as exc:
        print(f"marketplaced {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
