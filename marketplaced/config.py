"""Configuration: TOML file + environment → frozen dataclasses, validated once.

The file (`MARKETPLACED_CONFIG`, default `config/marketplaced.toml` when present) is read with
`tomllib`; the environment variables of the old system override it (`DB_*`, `REDIS_*`,
`DOWNLOAD_CONCURRENCY`, `RPS_LIMIT`, `LOG_LEVEL`, `DEBUG`, `UZUM_BASE_URL`, `UZEX_BASE_URL`) and
secrets come only from the environment (`DB_PASSWORD`, `MARKETPLACED_WEB_TOKEN`). Every problem —
unknown key, wrong type, value out of range — is collected and reported together, naming the
key, the file and what was expected.

This module is the root of the configuration: the core sections and the `Config` that composes
them with the sections other layers own (`jobs.config`). Each field names its environment
variable; reading and validating is `config_loader`'s, the one loader every section shares.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marketplaced import access
from marketplaced import config_loader as loader
from marketplaced.config_loader import option, secret
from marketplaced.config_schedule import AdaptiveOptions
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
class UzumConfig(RateControlOptions, AdaptiveOptions):
    enabled: bool = option(True, "run the Uzum product scanner")
    base_url: str = option(
        "https://api.uzum.uz",
        "API origin (env UZUM_BASE_URL)",
        pattern=r"^https?://[^\s/]+(/.*)?$",
        env="UZUM_BASE_URL",
    )
    rps: float = option(
        100.0,
        "requests per second to the API, 0 = unlimited (env RPS_LIMIT)",
        lo=0,
        hi=100_000,
        env="RPS_LIMIT",
    )
    concurrency: int = option(
        50,
        "requests in flight at most (env DOWNLOAD_CONCURRENCY)",
        lo=1,
        hi=5000,
        env="DOWNLOAD_CONCURRENCY",
    )
    timeout_s: float = option(20.0, "per-request timeout", lo=0.1, hi=600)
    max_retries: int = option(4, "retries for timeouts, resets, 5xx, 429", lo=0, hi=50)
    breaker_failures: int = option(
        10, "consecutive failures that pause the host (0: never)", lo=0, hi=10_000
    )
    breaker_cooldown_s: float = option(
        30.0, "first pause of a tripped host; doubles per failed probe", lo=0.1, hi=3600
    )
    first_id: int = option(1, "lowest product id scanned", lo=1, hi=10**12)
    max_id: int = option(5_000_000, "frontier cap: ids above it are never probed", lo=1, hi=10**12)
    frontier_misses: int = option(
        5000, "consecutive misses above the highest id seen that end a cycle", lo=1, hi=10**7
    )
    shard: str = option(
        "1/1", "k/n: this instance scans ids with id % n == k-1", pattern=r"^\d+/\d+$"
    )
    cycle_pause_s: float = option(60.0, "pause between full cycles", lo=0, hi=86400)
    checkpoint_every: int = option(500, "ids between durable cursor moves", lo=1, hi=1_000_000)
    max_stale_s: float = option(
        300.0, "restart a scanner whose progress stalls this long", lo=5, hi=86400
    )
    dead_letter_retry_s: float = option(
        3600.0, "retry dead-lettered ids this often", lo=10, hi=10**7
    )
    user_agent: str = option(BROWSER_USER_AGENT, "User-Agent sent upstream")


#: an http(s) URL with a host and an optional path (UZEX's e-tender API lives under /api)
_URL = r"^https?://[^\s/]+(/.*)?$"


@dataclass(frozen=True, slots=True)
class UzexConfig(RateControlOptions):
    """UZEX procurement exchange: one host per module (real hosts in docs/upstreams.md)."""

    enabled: bool = option(True, "run the UZEX procurement scanners (the flags below pick which)")
    auction_completed: bool = option(True, "scan completed auctions and their items")
    auction_active: bool = option(True, "refresh active auctions (GetLot per lot) until they close")
    shop_completed: bool = option(True, "scan completed e-shop deals")
    shop_active: bool = option(True, "refresh active e-shop offers")
    national_completed: bool = option(True, "scan completed national-shop deals")
    national_active: bool = option(True, "refresh active national-shop offers")
    etender: bool = option(True, "scan completed e-tender deals and their trade items")
    reference: bool = option(True, "refresh the category and region lists")
    auction_url: str = option(
        "https://xarid-api-auction.uzex.uz",
        "auction host (env UZEX_BASE_URL sets every host)",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/auction",
    )
    shop_url: str = option(
        "https://xarid-api-shop.uzex.uz",
        "e-shop and national-shop host",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/shop",
    )
    etender_url: str = option(
        "https://apietender.uzex.uz/api",
        "e-tender API base",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/etender/api",
    )
    trade_url: str = option(
        "https://xarid-api-trade.uzex.uz",
        "reference-list host",
        pattern=_URL,
        env="UZEX_BASE_URL",
        env_suffix="/trade",
    )
    rps: float = option(2.0, "requests per second per UZEX host, 0 = unlimited", lo=0, hi=10_000)
    concurrency: int = option(4, "requests in flight per UZEX host at most", lo=1, hi=1000)
    # 60 s: the hosts answer within 30-60 s even on bad days; beyond that the request is retried
    timeout_s: float = option(
        60.0, "per-request timeout (the hosts take 30-60 s on bad days)", lo=0.1, hi=600
    )
    max_retries: int = option(4, "retries for timeouts, resets, 5xx, 429", lo=0, hi=50)
    # 100 rows is what the website itself asks for; bigger windows make 60 s answers likelier
    page_size: int = option(100, "rows per list page (the from/to window)", lo=1, hi=1000)
    recheck_pages: int = option(
        3, "newest pages re-read every cycle to see payment-status changes", lo=1, hi=1000
    )
    # hours, not minutes: the Validation gate is a deliberate anti-automation control, asking
    # again soon only annoys its owner; a few times a day notices when it is lifted
    blocked_backoff_h: float = option(
        6.0,
        "hours a lot type waits after the upstream blocks it (HTTP 500 Not Valid)",
        lo=0.01,
        hi=168,
    )
    user_agent: str = option(
        BROWSER_USER_AGENT, "User-Agent sent to UZEX (a non-browser one gets HTTP 500)"
    )
    origin: str = option("https://xarid.uzex.uz", "Origin header sent to UZEX", pattern=_URL)
    referer: str = option("https://xarid.uzex.uz/", "Referer header sent to UZEX", pattern=_URL)
    # 5 min: deals arrive every few minutes; a cycle costs a few requests per lot type
    cycle_pause_s: float = option(
        300.0, "pause between cycles that pick up new deals and refresh active lots", lo=0, hi=86400
    )
    reference_interval_h: float = option(
        24.0, "refresh the reference lists this often", lo=0.01, hi=720
    )
    # 15 min: one request may take 5 attempts x 60 s plus backoff, a page of items ~1 min at 2 rps
    max_stale_s: float = option(
        900.0, "restart a UZEX scanner whose progress stalls this long", lo=5, hi=86400
    )
    dead_letter_retry_s: float = option(
        3600.0, "retry lots whose items failed this often", lo=10, hi=10**7
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


@dataclass(frozen=True, slots=True)
class Config:
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    log: LogConfig = field(default_factory=LogConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    writer: WriterConfig = field(default_factory=WriterConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    uzum: UzumConfig = field(default_factory=UzumConfig)
    uzex: UzexConfig = field(default_factory=UzexConfig)
    web: WebConfig = field(default_factory=WebConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    #: where the file came from ("" when defaults only), for messages
    source: str = field(default="", compare=False)

    @property
    def storage_dir(self) -> Path:
        """Runtime data: systemd's StateDirectory in production, ./storage in development."""
        return Path(os.environ.get("STATE_DIRECTORY", "storage").split(":")[0])

    @property
    def archive_dir(self) -> Path:
        return Path(self.archive.dir) if self.archive.dir else self.storage_dir / "raw"

    def shard_parts(self) -> tuple[int, int]:
        k, n = (int(x) for x in self.uzum.shard.split("/"))
        return k, n


DEFAULT_PATHS = (Path("config/marketplaced.toml"), Path("/etc/marketplaced/marketplaced.toml"))


def config_path(environ: Mapping[str, str]) -> Path | None:
    """The file to read: $MARKETPLACED_CONFIG, else the first default that exists."""
    explicit = environ.get("MARKETPLACED_CONFIG")
    if explicit:
        return Path(explicit)
    return next((p for p in DEFAULT_PATHS if p.is_file()), None)


def load(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Config:
    """Read, merge and validate; raise ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    path = path if path is not None else config_path(env)
    raw: dict[str, Any] = {}
    where = "(defaults)"
    if path is not None:
        where = str(path)
        raw = loader.read_toml(path)
    problems: list[str] = []
    sections = loader.build_sections(Config, raw, where, problems)
    # every stage adds to the same list: one run of check-config shows every problem (a value
    # that failed its own check is left at its default, so the later stages still run)
    sections = loader.apply_env(sections, _env_assignments(env), problems)
    if env.get("DEBUG", "").lower() in ("1", "true", "yes", "on"):
        sections["log"] = dataclasses.replace(sections["log"], level="debug")
    cfg = Config(**sections, source=where)
    problems += loader.section_problems(cfg, where) + _check_cross_field(cfg, where)
    if problems:
        raise ConfigError(problems)
    return cfg


#: the unit's TimeoutStopSec (systemd/marketplaced.service; a test keeps the two equal)
UNIT_TIMEOUT_STOP_S = 30.0
#: seconds of TimeoutStopSec kept free of stage budgets: the interpreter's exit, the last log
#: lines and the notify socket's close happen after the last stage
_STOP_HEADROOM_S = 2.0
_STAGE_KEYS = ("stop_intake_s", "stop_jobs_s", "drain_s", "close_s")


def _env_assignments(env: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """The loader's overrides, LOG_LEVEL read case-insensitively (the old system's habit)."""
    return [
        (var, sect, key, text.lower() if var == "LOG_LEVEL" else text)
        for var, sect, key, text in loader.env_assignments(Config, env)
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
    k, n = cfg.shard_parts()
    if not 1 <= k <= n:
        problems.append(
            f"{where}: 'uzum.shard' = '{cfg.uzum.shard}': expected k/n with 1 <= k <= n"
        )
    if cfg.database.pool_min > cfg.database.pool_max:
        problems.append(f"{where}: 'database.pool_min' must not exceed 'database.pool_max'")
    if cfg.uzum.first_id > cfg.uzum.max_id:
        problems.append(f"{where}: 'uzum.first_id' must not exceed 'uzum.max_id'")
    if cfg.uzum.min_interval_s > cfg.uzum.max_interval_s:
        problems.append(f"{where}: 'uzum.min_interval_s' must not exceed 'uzum.max_interval_s'")
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
    return loader.diff(old, new)


def documented_keys() -> dict[str, str]:
    """Every file-settable key with its help text (a test checks the shipped TOML documents all)."""
    return loader.documented_keys(Config)
