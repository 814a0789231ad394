"""Configuration: TOML file + environment → frozen dataclasses, validated once.

The file (`MARKETPLACED_CONFIG`, default `config/marketplaced.toml` when present) is read with
`tomllib`; environment variables override it (`DB_*`, `REDIS_*`, `LOG_LEVEL`, `DEBUG` here, and
those the platform sections declare, e.g. `RPS_LIMIT`, `UZUM_BASE_URL`) and secrets come only
from the environment (`DB_PASSWORD`, `MARKETPLACED_WEB_TOKEN`). Every problem —
unknown key, wrong type, value out of range — is collected and reported together, naming the
key, the file and what was expected.

This module is the root of the configuration: the core sections and the `Config` that composes
them with the sections other layers own — the job sections (`jobs.config`) as fields, and each
platform's own section (`platforms/<name>/config.py`), which the platform declares and the
caller hands to `load` (`platforms.load_config` passes every registered platform's), so this
module never names a marketplace. Each field names its environment variable; reading and
validating is `config_loader`'s, the one loader every section shares.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from marketplaced import access
from marketplaced import config_loader as loader
from marketplaced.config_loader import option, secret
from marketplaced.errors import ConfigError
from marketplaced.jobs.config import AlertsConfig, HealthConfig, JobsConfig, RetentionConfig

#: exit status for a bad configuration (sysexits EX_CONFIG);
#: the unit has RestartPreventExitStatus=78 so systemd does not restart-loop on it
EX_CONFIG = 78

#: What both marketplaces are sent unless configured otherwise: Uzum wants a browser-like
#: client and UZEX answers HTTP 500 to anything else. Written exactly as that Chrome sends it
#: (the reduced form, minor versions zeroed): a string no real browser sends stands out.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("auto", "console", "json", "journal")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    startup_wait_s: float = option(
        60.0, "how long start-up waits for PostgreSQL/Redis", lo=0, hi=600
    )
    restart_budget: int = option(
        10,
        "restarts allowed per service per window; then the daemon exits (writer, status loop)"
        " or the scanner is suspended for one window",
        lo=1,
        hi=1000,
    )
    restart_window_s: float = option(600.0, "window for restart_budget", lo=1, hi=86400)
    # shutdown budgets: their sum (24 s by default) must stay below the unit's TimeoutStopSec
    # (UNIT_TIMEOUT_STOP_S) so systemd never has to SIGKILL a clean stop; load() refuses more
    stop_intake_s: float = option(4.0, "shutdown stage budget: stop the scanners", lo=0.1, hi=60)
    stop_jobs_s: float = option(
        4.0, "shutdown stage budget: cancel job runs in flight and record them", lo=0.1, hi=60
    )
    drain_s: float = option(12.0, "shutdown stage budget: drain the writer", lo=0.1, hi=120)
    close_s: float = option(4.0, "shutdown stage budget: close pools and clients", lo=0.1, hi=60)
    status_interval_s: float = option(
        10.0, "how often STATUS= and Redis heartbeats are refreshed", lo=0.5, hi=600
    )
    # why a scan wants a far larger young generation than Python's 700: marketplaced.gc_policy
    gc_threshold: int = option(
        50_000,
        "allocations between young garbage collections while scanning (0: Python's own policy)",
        lo=0,
        hi=10_000_000,
    )
    gc_freeze: bool = option(
        True, "keep the objects built at start-up out of every garbage collection"
    )


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = option("info", "log level", choices=LOG_LEVELS, env="LOG_LEVEL")
    format: str = option(
        "auto", "auto: journal under systemd, console on a TTY, JSON otherwise", choices=LOG_FORMATS
    )


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    host: str = option("127.0.0.1", "PostgreSQL host (env DB_HOST)", env="DB_HOST")
    port: int = option(5432, "PostgreSQL port (env DB_PORT)", lo=1, hi=65535, env="DB_PORT")
    name: str = option("marketplaced", "database name (env DB_NAME)", env="DB_NAME")
    user: str = option(
        "marketplaced",
        "role (env DB_USER); the password comes only from env DB_PASSWORD",
        env="DB_USER",
    )
    password: str = secret("DB_PASSWORD")
    pool_min: int = option(2, "asyncpg pool minimum size", lo=1, hi=100)
    pool_max: int = option(10, "asyncpg pool maximum size", lo=1, hi=200)
    command_timeout_s: float = option(300.0, "per-statement timeout", lo=1, hi=86400)


@dataclass(frozen=True, slots=True)
class RedisConfig:
    host: str = option("127.0.0.1", "Redis host (env REDIS_HOST)", env="REDIS_HOST")
    port: int = option(6379, "Redis port (env REDIS_PORT)", lo=1, hi=65535, env="REDIS_PORT")
    db: int = option(0, "Redis database index (env REDIS_DB)", lo=0, hi=255, env="REDIS_DB")
    key_prefix: str = option("marketplaced:", "prefix of every key this daemon writes")


@dataclass(frozen=True, slots=True)
class WriterConfig:
    queue_max: int = option(
        20000, "writer queue bound in items (backpressure beyond it)", lo=10, hi=10_000_000
    )
    # 256 MiB: ~10 x a normal full queue of products; it binds when records are big (products
    # with 100 SKUs) and the database is away, which is when the queue is full for minutes
    queue_max_mb: int = option(
        256,
        "writer queue bound in MiB of records held (their JSON size), batch being retried included",
        lo=1,
        hi=1_000_000,
    )
    batch_max: int = option(2000, "items per transaction at most", lo=1, hi=1_000_000)
    flush_interval_s: float = option(1.0, "flush a partial batch after this long", lo=0.01, hi=600)
    retry_max_s: float = option(
        30.0, "longest pause between retries while PostgreSQL is down", lo=0.1, hi=3600
    )


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    enabled: bool = option(False, "keep raw upstream responses (compressed batches)")
    dir: str = option("", "archive directory; empty: $STATE_DIRECTORY/raw or ./storage/raw")
    max_mb: int = option(
        2048, "size cap; oldest batch files are removed beyond it", lo=1, hi=10_000_000
    )
    batch_records: int = option(1000, "responses per compressed batch file", lo=1, hi=1_000_000)
    # 16 MiB: a file every ~75 big (220 KB) product bodies instead of 220 MB held for 1,000
    batch_max_mb: int = option(
        16, "a batch file is written once its bodies reach this many MiB", lo=1, hi=4096
    )


@dataclass(frozen=True, slots=True)
class RateControlOptions:
    """How a platform's hosts react to HTTP 429 (the same knobs, and defaults, for every
    platform; each section inherits them). Why these defaults: marketplaced.http.HostPolicy."""

    rate_window_s: float = option(
        10.0,
        "HTTP 429 share judged per window this long; the rate changes once per window at most",
        lo=0.1,
        hi=3600,
    )
    rate_limited_pct: float = option(
        10.0,
        "halve the rate (or more) when a window's 429 share exceeds this percentage",
        lo=0,
        hi=99,
    )
    rate_recover_factor: float = option(
        1.5,
        "after a window below that share, the rate grows by this factor up to rps",
        lo=1.01,
        hi=100,
    )


@dataclass(frozen=True, slots=True)
class WebConfig:
    enabled: bool = option(True, "serve the dashboard and JSON API")
    host: str = option(
        "127.0.0.1", "listen address; any non-loopback address requires a strong token"
    )
    port: int = option(8080, "listen port", lo=1, hi=65535)
    # the dashboard's rankings and price drops read summaries; rebuilding them costs about a
    # minute of database time per 1 M products, so not more often than this
    summary_refresh_s: float = option(
        1800.0, "how often the dashboard's summary views are rebuilt", lo=5, hi=86400
    )
    # without a list nobody's X-Forwarded-* is believed: any client could claim TLS or an address
    trusted_proxies: str = option(
        "",
        "reverse proxies (IPs or CIDR networks, comma separated) whose X-Forwarded-Proto and "
        "X-Forwarded-For are believed",
    )
    # the marketplaces, analytics days and job schedules all live in Tashkent time: pages in
    # UTC put a 03:00 deal on the previous day
    timezone: str = option(
        "Asia/Tashkent",
        "time zone the dashboard shows times in (IANA name, e.g. UTC)",
        timezone=True,
    )
    token: str = secret("MARKETPLACED_WEB_TOKEN")


class PlatformSection(Protocol):
    """A platform's configuration section: a frozen section dataclass (see config_loader)
    naming its table, e.g. `SECTION = "uzum"`, and which of its keys SIGHUP cannot apply
    (every other key is live; marketplaced.reloadable)."""

    SECTION: ClassVar[str]
    RESTART_KEYS: ClassVar[frozenset[str]]

    def __init__(self) -> None: ...


S = TypeVar("S", bound=PlatformSection)


@dataclass(frozen=True, slots=True)
class Config:
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    log: LogConfig = field(default_factory=LogConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    writer: WriterConfig = field(default_factory=WriterConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    web: WebConfig = field(default_factory=WebConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    #: each platform's own section by its table name, as `load` was handed their classes
    #: (read one with `section(kind)`)
    platforms: Mapping[str, Any] = field(default_factory=dict)
    #: where the file came from ("" when defaults only), for messages
    source: str = field(default="", compare=False)

    def section(self, kind: type[S]) -> S:
        """The platform section of class `kind`; its defaults when this configuration was
        loaded without that platform (nothing of it runs then: the daemon builds scanners only
        for the platforms it was handed)."""
        found = self.platforms.get(kind.SECTION)
        if found is None:
            return kind()
        if not isinstance(found, kind):
            raise TypeError(f"[{kind.SECTION}] holds {type(found).__name__}, not {kind.__name__}")
        return found

    def with_section(self, section: PlatformSection) -> Config:
        """A copy with one platform section replaced (or added)."""
        return dataclasses.replace(self, platforms={**self.platforms, section.SECTION: section})

    def with_values(self, name: str, /, **values: Any) -> Config:
        """A copy with some keys of section `name` (core or platform) changed (positional:
        a section may have a key called `name`)."""
        section = dataclasses.replace(self.sections()[name], **values)
        if name in self.platforms:
            return self.with_section(section)
        return dataclasses.replace(self, **{name: section})

    def sections(self) -> dict[str, Any]:
        """Every section by its table name: the core and job ones, then the platforms'."""
        core = {name: getattr(self, name) for name, _ in loader.sections(Config)}
        return {**core, **self.platforms}

    @property
    def storage_dir(self) -> Path:
        """Runtime data: systemd's StateDirectory in production, ./storage in development."""
        return Path(os.environ.get("STATE_DIRECTORY", "storage").split(":")[0])

    @property
    def archive_dir(self) -> Path:
        return Path(self.archive.dir) if self.archive.dir else self.storage_dir / "raw"


DEFAULT_PATHS = (Path("config/marketplaced.toml"), Path("/etc/marketplaced/marketplaced.toml"))


def config_path(environ: Mapping[str, str]) -> Path | None:
    """The file to read: $MARKETPLACED_CONFIG, else the first default that exists."""
    explicit = environ.get("MARKETPLACED_CONFIG")
    if explicit:
        return Path(explicit)
    return next((p for p in DEFAULT_PATHS if p.is_file()), None)


def load(
    environ: Mapping[str, str] | None = None,
    path: Path | None = None,
    platforms: Sequence[type[PlatformSection]] = (),
) -> Config:
    """Read, merge and validate the core sections and the `platforms`' sections (the daemon
    and the CLI call `platforms.load_config`, which passes every registered platform's); raise
    ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    path = path if path is not None else config_path(env)
    raw: dict[str, Any] = {}
    where = "(defaults)"
    if path is not None:
        where = str(path)
        raw = loader.read_toml(path)
    problems: list[str] = []
    tables = layout(platforms)
    sections = loader.build_sections(tables, raw, where, problems)
    # every stage adds to the same list: one run of check-config shows every problem (a value
    # that failed its own check is left at its default, so the later stages still run)
    sections = loader.apply_env(sections, _env_assignments(tables, env), problems)
    if env.get("DEBUG", "").lower() in ("1", "true", "yes", "on"):
        sections["log"] = dataclasses.replace(sections["log"], level="debug")
    own = {name for name, _ in loader.sections(Config)}
    cfg = Config(
        **{name: sec for name, sec in sections.items() if name in own},
        platforms={name: sec for name, sec in sections.items() if name not in own},
        source=where,
    )
    problems += loader.section_problems(cfg.sections(), where) + _check_cross_field(cfg, where)
    if problems:
        raise ConfigError(problems)
    return cfg


#: the unit's TimeoutStopSec (systemd/marketplaced.service; a test keeps the two equal)
UNIT_TIMEOUT_STOP_S = 30.0
#: seconds of TimeoutStopSec kept free of stage budgets: the interpreter's exit, the last log
#: lines and the notify socket's close happen after the last stage
_STOP_HEADROOM_S = 2.0
_STAGE_KEYS = ("stop_intake_s", "stop_jobs_s", "drain_s", "close_s")


def layout(platforms: Sequence[type[PlatformSection]] = ()) -> list[tuple[str, type]]:
    """The tables a configuration with these platform sections reads, in file order."""
    return loader.layout(Config, [(cls.SECTION, cls) for cls in platforms])


def _env_assignments(
    tables: loader.Layout, env: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    """The loader's overrides, LOG_LEVEL read case-insensitively (the old system's habit)."""
    return [
        (var, sect, key, text.lower() if var == "LOG_LEVEL" else text)
        for var, sect, key, text in loader.env_assignments(tables, env)
    ]


def _check_cross_field(cfg: Config, where: str) -> list[str]:
    """Rules across the core sections (each section checks its own fields: `problems()`)."""
    problems = []
    stages = sum(getattr(cfg.daemon, key) for key in _STAGE_KEYS)
    if stages > UNIT_TIMEOUT_STOP_S - _STOP_HEADROOM_S:
        names = " + ".join(f"daemon.{key}" for key in _STAGE_KEYS)
        problems.append(
            f"{where}: the shutdown stage budgets add up to {stages:g} s ({names}); they must "
            f"stay within {UNIT_TIMEOUT_STOP_S - _STOP_HEADROOM_S:g} s, below the unit's "
            f"TimeoutStopSec={UNIT_TIMEOUT_STOP_S:g}, or systemd kills a clean stop"
        )
    if cfg.database.pool_min > cfg.database.pool_max:
        problems.append(f"{where}: 'database.pool_min' must not exceed 'database.pool_max'")
    problems += _web_problems(cfg.web, where)
    return problems


def _web_problems(web: WebConfig, where: str) -> list[str]:
    """A dashboard others can reach needs a strong token; proxies must be addresses."""
    problems = []
    if web.enabled and not access.is_loopback(web.host):
        weak = access.token_problem(web.token)
        if not web.token:
            problems.append(
                f"{where}: 'web.host' = '{web.host}' is not a loopback address, so the "
                "dashboard needs authentication: set MARKETPLACED_WEB_TOKEN (install.sh "
                f"generates one; or `{access.TOKEN_RECIPE}`) or bind to 127.0.0.1"
            )
        elif weak:
            problems.append(
                f"{where}: 'web.host' = '{web.host}' is not a loopback address and "
                f"MARKETPLACED_WEB_TOKEN {weak}; use a random token (`{access.TOKEN_RECIPE}`)"
            )
    _, bad = access.parse_networks(web.trusted_proxies)
    if bad:
        problems.append(
            f"{where}: 'web.trusted_proxies': {', '.join(repr(b) for b in bad)} is not an IP "
            'address or network (e.g. "127.0.0.1, 10.0.0.0/8")'
        )
    return problems


def diff(old: Config, new: Config) -> list[str]:
    """Dotted names of the settings that differ (secrets included by name only)."""
    return loader.diff(old.sections(), new.sections())


def documented_keys(platforms: Sequence[type[PlatformSection]] = ()) -> dict[str, str]:
    """Every file-settable key with its help text (a test checks the shipped TOML documents all)."""
    return loader.documented_keys(layout(platforms))
