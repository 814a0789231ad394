"""Configuration: TOML file + environment → frozen dataclasses, validated once.

The file (`MARKETPLACED_CONFIG`, default `config/marketplaced.toml` when present) is read with
`tomllib`; the environment variables of the old system override it (`DB_*`, `REDIS_*`,
`DOWNLOAD_CONCURRENCY`, `RPS_LIMIT`, `LOG_LEVEL`, `DEBUG`, `UZUM_BASE_URL`, `UZEX_BASE_URL`) and
secrets come only from the environment (`DB_PASSWORD`, `MARKETPLACED_WEB_TOKEN`). This module is
the only place that reads the environment. Every problem — unknown key, wrong type, value out of
range — is collected and reported together, naming the key, the file and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marketplaced import access
from marketplaced.errors import ConfigError

#: exit status for a bad configuration (sysexits EX_CONFIG);
#: the unit has RestartPreventExitStatus=78 so systemd does not restart-loop on it
EX_CONFIG = 78

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("auto", "console", "json", "journal")


def _opt(
    default: Any,
    help: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    pattern: str | None = None,
) -> Any:
    """A dataclass field carrying its validation rules and one-line documentation."""
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices, "pattern": pattern}
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    startup_wait_s: float = _opt(60.0, "how long start-up waits for PostgreSQL/Redis", lo=0, hi=600)
    restart_budget: int = _opt(
        10,
        "restarts allowed per service per window; then the daemon exits (writer, status loop)"
        " or the scanner is suspended for one window",
        lo=1,
        hi=1000,
    )
    restart_window_s: float = _opt(600.0, "window for restart_budget", lo=1, hi=86400)
    # shutdown budgets: their sum (24 s by default) must stay below the unit's TimeoutStopSec
    # (UNIT_TIMEOUT_STOP_S) so systemd never has to SIGKILL a clean stop; load() refuses more
    stop_intake_s: float = _opt(4.0, "shutdown stage budget: stop the scanners", lo=0.1, hi=60)
    stop_jobs_s: float = _opt(
        4.0, "shutdown stage budget: cancel job runs in flight and record them", lo=0.1, hi=60
    )
    drain_s: float = _opt(12.0, "shutdown stage budget: drain the writer", lo=0.1, hi=120)
    close_s: float = _opt(4.0, "shutdown stage budget: close pools and clients", lo=0.1, hi=60)
    status_interval_s: float = _opt(
        10.0, "how often STATUS= and Redis heartbeats are refreshed", lo=0.5, hi=600
    )


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = _opt("info", "log level", choices=LOG_LEVELS)
    format: str = _opt(
        "auto", "auto: journal under systemd, console on a TTY, JSON otherwise", choices=LOG_FORMATS
    )


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    host: str = _opt("127.0.0.1", "PostgreSQL host (env DB_HOST)")
    port: int = _opt(5432, "PostgreSQL port (env DB_PORT)", lo=1, hi=65535)
    name: str = _opt("marketplaced", "database name (env DB_NAME)")
    user: str = _opt(
        "marketplaced", "role (env DB_USER); the password comes only from env DB_PASSWORD"
    )
    password: str = field(default="", repr=False, metadata={"help": "env only", "env_only": True})
    pool_min: int = _opt(2, "asyncpg pool minimum size", lo=1, hi=100)
    pool_max: int = _opt(10, "asyncpg pool maximum size", lo=1, hi=200)
    command_timeout_s: float = _opt(300.0, "per-statement timeout", lo=1, hi=86400)


@dataclass(frozen=True, slots=True)
class RedisConfig:
    host: str = _opt("127.0.0.1", "Redis host (env REDIS_HOST)")
    port: int = _opt(6379, "Redis port (env REDIS_PORT)", lo=1, hi=65535)
    db: int = _opt(0, "Redis database index (env REDIS_DB)", lo=0, hi=255)
    key_prefix: str = _opt("marketplaced:", "prefix of every key this daemon writes")


@dataclass(frozen=True, slots=True)
class WriterConfig:
    queue_max: int = _opt(
        20000, "writer queue bound in items (backpressure beyond it)", lo=10, hi=10_000_000
    )
    # 256 MiB: ~10 x a normal full queue of products; it binds when records are big (products
    # with 100 SKUs) and the database is away, which is when the queue is full for minutes
    queue_max_mb: int = _opt(
        256,
        "writer queue bound in MiB of records held (their JSON size), batch being retried included",
        lo=1,
        hi=1_000_000,
    )
    batch_max: int = _opt(2000, "items per transaction at most", lo=1, hi=1_000_000)
    flush_interval_s: float = _opt(1.0, "flush a partial batch after this long", lo=0.01, hi=600)
    retry_max_s: float = _opt(
        30.0, "longest pause between retries while PostgreSQL is down", lo=0.1, hi=3600
    )


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    enabled: bool = _opt(False, "keep raw upstream responses (compressed batches)")
    dir: str = _opt("", "archive directory; empty: $STATE_DIRECTORY/raw or ./storage/raw")
    max_mb: int = _opt(
        2048, "size cap; oldest batch files are removed beyond it", lo=1, hi=10_000_000
    )
    batch_records: int = _opt(1000, "responses per compressed batch file", lo=1, hi=1_000_000)
    # 16 MiB: a file every ~75 big (220 KB) product bodies instead of 220 MB held for 1,000
    batch_max_mb: int = _opt(
        16, "a batch file is written once its bodies reach this many MiB", lo=1, hi=4096
    )


@dataclass(frozen=True, slots=True)
class UzumConfig:
    enabled: bool = _opt(True, "run the Uzum product scanner")
    base_url: str = _opt(
        "https://api.uzum.uz", "API origin (env UZUM_BASE_URL)", pattern=r"^https?://[^\s/]+(/.*)?$"
    )
    rps: float = _opt(
        100.0, "requests per second to the API, 0 = unlimited (env RPS_LIMIT)", lo=0, hi=100_000
    )
    concurrency: int = _opt(
        50, "requests in flight at most (env DOWNLOAD_CONCURRENCY)", lo=1, hi=5000
    )
    timeout_s: float = _opt(20.0, "per-request timeout", lo=0.1, hi=600)
    max_retries: int = _opt(4, "retries for timeouts, resets, 5xx, 429", lo=0, hi=50)
    breaker_failures: int = _opt(
        10, "consecutive failures that pause the host (0: never)", lo=0, hi=10_000
    )
    breaker_cooldown_s: float = _opt(
        30.0, "first pause of a tripped host; doubles per failed probe", lo=0.1, hi=3600
    )
    # why these defaults: marketplaced.http.HostPolicy
    rate_window_s: float = _opt(
        10.0,
        "HTTP 429 share judged per window this long; the rate changes once per window at most",
        lo=0.1,
        hi=3600,
    )
    rate_limited_pct: float = _opt(
        10.0,
        "halve the rate (or more) when a window's 429 share exceeds this percentage",
        lo=0,
        hi=99,
    )
    rate_recover_factor: float = _opt(
        1.5,
        "after a window below that share, the rate grows by this factor up to rps",
        lo=1.01,
        hi=100,
    )
    first_id: int = _opt(1, "lowest product id scanned", lo=1, hi=10**12)
    max_id: int = _opt(5_000_000, "frontier cap: ids above it are never probed", lo=1, hi=10**12)
    frontier_misses: int = _opt(
        5000, "consecutive misses above the highest id seen that end a cycle", lo=1, hi=10**7
    )
    shard: str = _opt(
        "1/1", "k/n: this instance scans ids with id % n == k-1", pattern=r"^\d+/\d+$"
    )
    cycle_pause_s: float = _opt(60.0, "pause between full cycles", lo=0, hi=86400)
    checkpoint_every: int = _opt(500, "ids between durable cursor moves", lo=1, hi=1_000_000)
    max_stale_s: float = _opt(
        300.0, "restart a scanner whose progress stalls this long", lo=5, hi=86400
    )
    dead_letter_retry_s: float = _opt(3600.0, "retry dead-lettered ids this often", lo=10, hi=10**7)
    user_agent: str = _opt(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Safari/537.36",
        "User-Agent sent upstream",
    )


#: an http(s) URL with a host and an optional path (UZEX's e-tender API lives under /api)
_URL = r"^https?://[^\s/]+(/.*)?$"


@dataclass(frozen=True, slots=True)
class UzexConfig:
    """UZEX procurement exchange: one host per module (real hosts in docs/upstreams.md)."""

    enabled: bool = _opt(True, "run the UZEX procurement scanners (the flags below pick which)")
    auction_completed: bool = _opt(True, "scan completed auctions and their items")
    auction_active: bool = _opt(True, "refresh active auctions (GetLot per lot) until they close")
    shop_completed: bool = _opt(True, "scan completed e-shop deals")
    shop_active: bool = _opt(True, "refresh active e-shop offers")
    national_completed: bool = _opt(True, "scan completed national-shop deals")
    national_active: bool = _opt(True, "refresh active national-shop offers")
    etender: bool = _opt(True, "scan completed e-tender deals and their trade items")
    reference: bool = _opt(True, "refresh the category and region lists")
    auction_url: str = _opt(
        "https://xarid-api-auction.uzex.uz",
        "auction host (env UZEX_BASE_URL sets every host)",
        pattern=_URL,
    )
    shop_url: str = _opt(
        "https://xarid-api-shop.uzex.uz", "e-shop and national-shop host", pattern=_URL
    )
    etender_url: str = _opt("https://apietender.uzex.uz/api", "e-tender API base", pattern=_URL)
    trade_url: str = _opt("https://xarid-api-trade.uzex.uz", "reference-list host", pattern=_URL)
    rps: float = _opt(2.0, "requests per second per UZEX host, 0 = unlimited", lo=0, hi=10_000)
    concurrency: int = _opt(4, "requests in flight per UZEX host at most", lo=1, hi=1000)
    # 60 s: the hosts answer within 30-60 s even on bad days; beyond that the request is retried
    timeout_s: float = _opt(
        60.0, "per-request timeout (the hosts take 30-60 s on bad days)", lo=0.1, hi=600
    )
    max_retries: int = _opt(4, "retries for timeouts, resets, 5xx, 429", lo=0, hi=50)
    # why these defaults: marketplaced.http.HostPolicy
    rate_window_s: float = _opt(
        10.0,
        "HTTP 429 share judged per window this long; the rate changes once per window at most",
        lo=0.1,
        hi=3600,
    )
    rate_limited_pct: float = _opt(
        10.0,
        "halve the rate (or more) when a window's 429 share exceeds this percentage",
        lo=0,
        hi=99,
    )
    rate_recover_factor: float = _opt(
        1.5,
        "after a window below that share, the rate grows by this factor up to rps",
        lo=1.01,
        hi=100,
    )
    # 100 rows is what the website itself asks for; bigger windows make 60 s answers likelier
    page_size: int = _opt(100, "rows per list page (the from/to window)", lo=1, hi=1000)
    recheck_pages: int = _opt(
        3, "newest pages re-read every cycle to see payment-status changes", lo=1, hi=1000
    )
    # hours, not minutes: the Validation gate is a deliberate anti-automation control, asking
    # again soon only annoys its owner; a few times a day notices when it is lifted
    blocked_backoff_h: float = _opt(
        6.0,
        "hours a lot type waits after the upstream blocks it (HTTP 500 Not Valid)",
        lo=0.01,
        hi=168,
    )
    user_agent: str = _opt(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Safari/537.36",
        "User-Agent sent to UZEX (a non-browser one gets HTTP 500)",
    )
    origin: str = _opt("https://xarid.uzex.uz", "Origin header sent to UZEX", pattern=_URL)
    referer: str = _opt("https://xarid.uzex.uz/", "Referer header sent to UZEX", pattern=_URL)
    # 5 min: deals arrive every few minutes; a cycle costs a few requests per lot type
    cycle_pause_s: float = _opt(
        300.0, "pause between cycles that pick up new deals and refresh active lots", lo=0, hi=86400
    )
    reference_interval_h: float = _opt(
        24.0, "refresh the reference lists this often", lo=0.01, hi=720
    )
    # 15 min: one request may take 5 attempts x 60 s plus backoff, a page of items ~1 min at 2 rps
    max_stale_s: float = _opt(
        900.0, "restart a UZEX scanner whose progress stalls this long", lo=5, hi=86400
    )
    dead_letter_retry_s: float = _opt(
        3600.0, "retry lots whose items failed this often", lo=10, hi=10**7
    )


@dataclass(frozen=True, slots=True)
class WebConfig:
    enabled: bool = _opt(True, "serve the dashboard and JSON API")
    host: str = _opt(
        "127.0.0.1", "listen address; any non-loopback address requires a strong token"
    )
    port: int = _opt(8080, "listen port", lo=1, hi=65535)
    # the dashboard's rankings and price drops read summaries; rebuilding them costs about a
    # minute of database time per 1 M products, so not more often than this
    summary_refresh_s: float = _opt(
        1800.0, "how often the dashboard's summary views are rebuilt", lo=5, hi=86400
    )
    # without a list nobody's X-Forwarded-* is believed: any client could claim TLS or an address
    trusted_proxies: str = _opt(
        "",
        "reverse proxies (IPs or CIDR networks, comma separated) whose X-Forwarded-Proto and "
        "X-Forwarded-For are believed",
    )
    # the marketplaces, analytics days and job schedules all live in Tashkent time: pages in
    # UTC put a 03:00 deal on the previous day
    timezone: str = _opt(
        "Asia/Tashkent", "time zone the dashboard shows times in (IANA name, e.g. UTC)"
    )
    token: str = field(default="", repr=False, metadata={"help": "env only", "env_only": True})


#: a job schedule: a 5-field crontab ("0 3 * * *", day of week 0/7 = Sunday) or "every <n><s|m|h>"
_SCHEDULE = r"^(every \d+(\.\d+)?[smh]|\S+ \S+ \S+ \S+ \S+)$"
_SCHEDULE_HELP = "; 5-field cron or 'every <n>s|m|h'"


@dataclass(frozen=True, slots=True)
class JobsConfig:
    """The in-process scheduler: when each periodic job runs and how long it may take."""

    enabled: bool = _opt(True, "run the scheduled jobs (analytics, alerts, maintenance, health)")
    timezone: str = _opt("Asia/Tashkent", "time zone of cron schedules and of analytics days")
    # 6 h: a daily job missed by a restart or a long outage still runs once, late, not twice
    misfire_grace_s: float = _opt(
        21600.0, "a slot missed by less than this still runs once", lo=1, hi=7 * 86400
    )
    analytics_schedule: str = _opt(
        "0 3 * * *", "daily analytics" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    # 1 h: the full day at 1.5 M products takes minutes; an hour means something is wrong
    analytics_budget_s: float = _opt(3600.0, "analytics run time budget", lo=1, hi=86400)
    analytics_backfill_days: int = _opt(
        3, "also compute up to this many earlier days that have no analytics yet", lo=0, hi=366
    )
    analytics_work_mem_mb: int = _opt(
        256, "work_mem of the analytics transaction (sorts/hashes in memory)", lo=4, hi=65536
    )
    # 2 h: cycle pauses and runs of missing ids leave short quiet stretches that are not gaps
    gap_minutes: int = _opt(
        120, "an unobserved stretch longer than this marks the days it touches", lo=5, hi=1440
    )
    price_bands: str = _opt(
        "50000,100000,250000,500000,1000000,2500000,5000000",
        "so'm boundaries of the category price bands (ascending)",
        pattern=r"^\d+(,\d+)*$",
    )
    uzex_top_parties: int = _opt(
        100, "customers/providers kept per UZEX month ranking", lo=1, hi=100000
    )
    coverage_schedule: str = _opt(
        "every 5m", "scan-coverage sampling (gap detection)" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    coverage_budget_s: float = _opt(60.0, "coverage run time budget", lo=1, hi=86400)
    alerts_schedule: str = _opt(
        "every 15m", "alert evaluation and delivery" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    alerts_budget_s: float = _opt(600.0, "alerts run time budget", lo=1, hi=86400)
    health_schedule: str = _opt("every 1h", "health check" + _SCHEDULE_HELP, pattern=_SCHEDULE)
    health_budget_s: float = _opt(120.0, "health check run time budget", lo=1, hi=86400)
    vacuum_schedule: str = _opt(
        "0 4 * * *", "vacuum/analyze of the busy tables" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    vacuum_budget_s: float = _opt(7200.0, "vacuum run time budget", lo=1, hi=86400)
    retention_schedule: str = _opt(
        "30 4 * * *",
        "partitions ahead, retention, archive pruning" + _SCHEDULE_HELP,
        pattern=_SCHEDULE,
    )
    retention_budget_s: float = _opt(1800.0, "retention run time budget", lo=1, hi=86400)


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """Price/stock alert rules, their hygiene, and delivery through Apprise."""

    enabled: bool = _opt(True, "evaluate alert rules (config and database) on new data")
    #: Apprise URLs (tgram://…, mailto://…, json://…), comma or space separated; they often hold
    #: tokens, so env MARKETPLACED_NOTIFY_URLS may carry them instead (it wins over the file)
    notify_urls: str = field(
        default="",
        repr=False,
        metadata={"help": "Apprise URLs, comma separated (env MARKETPLACED_NOTIFY_URLS wins)"},
    )
    rules: str = _opt(
        "",
        "rules, ';' separated: KIND SCOPE[:ID] [pct=N] [price=N] [days=N] [cap=N] [rearm_h=N]",
    )
    # 24 h: once per change; a price that flaps around a threshold tells the user once a day
    rearm_h: float = _opt(
        24.0, "hours before a fired rule may fire again for the same item", lo=0, hi=8760
    )
    daily_cap: int = _opt(
        20, "alerts per rule per day at most (more are stored as capped)", lo=1, hi=100000
    )
    digest: bool = _opt(False, "collect alerts and send one digest per digest_schedule")
    digest_schedule: str = _opt(
        "0 9 * * *", "when the digest is sent" + _SCHEDULE_HELP, pattern=_SCHEDULE
    )
    # alerts follow the commit order now, so nothing needs to settle; the key is still
    # accepted so that existing configuration files stay valid
    settle_s: float = _opt(
        60.0,
        "no longer used (alerts follow the commit order); accepted for old files",
        lo=0,
        hi=3600,
    )
    new_low_days: int = _opt(30, "default window of new_low rules", lo=1, hi=3650)
    fake_discount_pct: float = _opt(
        15.0, "default list-price raise that makes a discount suspect", lo=1, hi=1000
    )
    fake_discount_days: int = _opt(14, "default look-back of fake_discount rules", lo=1, hi=365)
    attempts: int = _opt(3, "delivery attempts per channel within one run", lo=1, hi=20)
    retry_backoff_s: float = _opt(
        2.0, "first pause between delivery attempts (doubles)", lo=0, hi=600
    )
    send_timeout_s: float = _opt(30.0, "time limit of one delivery attempt", lo=1, hi=600)
    redeliver_h: float = _opt(
        24.0, "failed deliveries are retried by later runs for this long", lo=0, hi=720
    )
    # 3 in a row: one failure is often a blip, three in a row a channel that is down; while
    # it is skipped its events wait (within redeliver_h) and the other channels go on
    circuit_failures: int = _opt(
        3, "failed deliveries in a row that make a channel skipped for a while", lo=1, hi=1000
    )
    # 15 min: about one alerts run, so a recovered channel is back within two runs
    circuit_cooldown_s: float = _opt(
        900.0, "how long a channel with too many failures is skipped", lo=0, hi=86400
    )


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """What the hourly health check demands; a failing check is recorded and notified."""

    # 1000/h: a 1.5 M catalogue rescanned daily touches ~60 000 products an hour
    min_products_per_hour: int = _opt(
        1000, "fewer products updated in the last hour is unhealthy (0: off)", lo=0, hi=10**9
    )
    # no longer read: a second limit made the health check and /healthz disagree about the
    # same scanner; the key stays valid so existing files keep loading
    heartbeat_max_age_s: float = _opt(
        600.0,
        "ignored: a scanner is stalled after its platform's max_stale_s ([uzum], [uzex])",
        lo=1,
        hi=86400,
    )
    writer_stuck_s: float = _opt(
        300.0, "a writer with queued items and no commit for this long is stuck", lo=1, hi=86400
    )
    disk_min_free_pct: float = _opt(
        5.0, "less free space on the storage directory's disk is unhealthy", lo=0, hi=100
    )
    notify: bool = _opt(True, "send a notification when health turns bad and when it recovers")


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long history, analytics and the job ledgers are kept (monthly partitions dropped)."""

    history_months: int = _opt(24, "price/stats history kept, in months", lo=1, hi=1200)
    analytics_months: int = _opt(36, "daily analytics kept, in months", lo=1, hi=1200)
    partitions_ahead_months: int = _opt(3, "monthly partitions created ahead of time", lo=1, hi=24)
    ledger_days: int = _opt(
        90, "job runs, health checks and coverage samples kept, in days", lo=1, hi=3650
    )
    alert_history_days: int = _opt(365, "alert events and deliveries kept, in days", lo=1, hi=3650)


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


#: environment variable → (section, key); the old system's names first
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "DB_HOST": ("database", "host"),
    "DB_PORT": ("database", "port"),
    "DB_NAME": ("database", "name"),
    "DB_USER": ("database", "user"),
    "DB_PASSWORD": ("database", "password"),
    "REDIS_HOST": ("redis", "host"),
    "REDIS_PORT": ("redis", "port"),
    "REDIS_DB": ("redis", "db"),
    "DOWNLOAD_CONCURRENCY": ("uzum", "concurrency"),
    "RPS_LIMIT": ("uzum", "rps"),
    "LOG_LEVEL": ("log", "level"),
    "UZUM_BASE_URL": ("uzum", "base_url"),
    "MARKETPLACED_WEB_TOKEN": ("web", "token"),
    "MARKETPLACED_NOTIFY_URLS": ("alerts", "notify_urls"),
}

#: environment variables that set several keys of one section: var → (section, {key: suffix}).
#: UZEX_BASE_URL points every UZEX host at one origin (the simulator serves them all from one
#: port, each host under its own path prefix), so each key gets the origin plus its prefix.
ENV_FANOUT: dict[str, tuple[str, dict[str, str]]] = {
    "UZEX_BASE_URL": (
        "uzex",
        {
            "auction_url": "/auction",
            "shop_url": "/shop",
            "etender_url": "/etender/api",
            "trade_url": "/trade",
        },
    ),
}

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
        raw = _read_toml(path)
    problems: list[str] = []
    sections: dict[str, Any] = {}
    for sect in dataclasses.fields(Config):
        if sect.name == "source":
            continue
        table = raw.pop(sect.name, {})
        if not isinstance(table, dict):
            problems.append(f"{where}: [{sect.name}] must be a table, got {type(table).__name__}")
            table = {}
        sect_type = _field_type(Config, sect.name)
        sections[sect.name] = _build_section(sect.name, sect_type, table, where, problems)
    for unknown in raw:
        problems.append(
            f"{where}: unknown section or key '{unknown}' (known sections: "
            f"{', '.join(f.name for f in dataclasses.fields(Config) if f.name != 'source')})"
        )
    # every stage adds to the same list: one run of check-config shows every problem (a value
    # that failed its own check is left at its default, so the later stages still run)
    sections = _apply_env(sections, env, problems)
    cfg = Config(**sections, source=where)
    problems += _check_cross_field(cfg, where)
    if problems:
        raise ConfigError(problems)
    return cfg


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            [
                f"{path}: configuration file not found (set MARKETPLACED_CONFIG "
                "or copy config/marketplaced.toml there)"
            ]
        ) from None
    except PermissionError:
        raise ConfigError(
            [
                f"{path}: cannot read the configuration file (permission denied); "
                "run as the service user or fix the file's mode"
            ]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the configuration file: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not valid UTF-8 text"]) from None


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _build_section(
    name: str, cls: Any, table: dict[str, Any], where: str, problems: list[str]
) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in table.items():
        fld = known.get(key)
        if fld is None or fld.metadata.get("env_only"):
            hint = " (secrets come only from the environment)" if fld is not None else ""
            problems.append(
                f"{where}: unknown key '{name}.{key}'{hint}; known keys: "
                f"{', '.join(k for k, f in known.items() if not f.metadata.get('env_only'))}"
            )
            continue
        problem = _check_value(f"{name}.{key}", value, hints[key], fld.metadata)
        if problem:
            problems.append(f"{where}: {problem}")
        else:
            values[key] = float(value) if hints[key] is float else value
    return cls(**values)


def _type_name(tp: Any) -> str:
    return {
        bool: "a boolean (true/false)",
        int: "an integer",
        float: "a number",
        str: "a string",
    }.get(tp, getattr(tp, "__name__", str(tp)))


def _check_value(key: str, value: Any, tp: Any, meta: Mapping[str, Any]) -> str | None:
    """Return a message when `value` does not fit `tp` and the field's rules, else None."""
    ok = (
        isinstance(value, bool)
        if tp is bool
        else isinstance(value, int) and not isinstance(value, bool)
        if tp is int
        else isinstance(value, int | float) and not isinstance(value, bool)
        if tp is float
        else isinstance(value, str)
        if tp is str
        else False
    )
    if not ok:
        return f"'{key}' must be {_type_name(tp)}, got {type(value).__name__} {value!r}"
    if tp is float and not math.isfinite(value):
        # TOML and float() both accept nan/inf; nan passes every range comparison, and one in
        # a rate or a sleep breaks the daemon at run time instead of here
        return f"'{key}' = {value!r} is not a finite number"
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return f"'{key}' = {value!r} is out of range; expected {lo} … {hi}"
    choices = meta.get("choices")
    if choices and value not in choices:
        return f"'{key}' = {value!r} is not one of {', '.join(choices)}"
    pattern = meta.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"'{key}' = {value!r} does not match the expected form {pattern}"
    return None


def _apply_env(
    sections: dict[str, Any], env: Mapping[str, str], problems: list[str]
) -> dict[str, Any]:
    changes: dict[str, dict[str, Any]] = {}
    for var, sect, key, text in _env_assignments(env):
        tp = _field_type(type(sections[sect]), key)
        meta = next(f.metadata for f in dataclasses.fields(sections[sect]) if f.name == key)
        value, problem = _coerce_env(var, text, tp)
        if problem is None:
            check = _check_value(f"{sect}.{key}", value, tp, meta)
            problem = f"environment {var}: {check}" if check else None
        if problem:
            if not any(p.startswith(f"environment {var}") for p in problems):
                problems.append(problem)  # a fan-out variable is reported once, not per key
            continue
        changes.setdefault(sect, {})[key] = value
    if env.get("DEBUG", "").lower() in ("1", "true", "yes", "on"):
        changes.setdefault("log", {})["level"] = "debug"
    return {
        name: dataclasses.replace(sec, **changes.get(name, {})) for name, sec in sections.items()
    }


def _env_assignments(env: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(variable, section, key, text) for every override set in `env`, fan-outs expanded."""
    out = [(var, sect, key, env[var]) for var, (sect, key) in ENV_OVERRIDES.items() if env.get(var)]
    for var, (sect, suffixes) in ENV_FANOUT.items():
        origin = env.get(var, "").rstrip("/")
        if origin:
            out += [(var, sect, key, origin + suffix) for key, suffix in suffixes.items()]
    return out


def _coerce_env(var: str, text: str, tp: Any) -> tuple[Any, str | None]:
    try:
        if tp is int:
            return int(text), None
        if tp is float:
            return float(text), None
    except ValueError:
        return None, f"environment {var}={text!r} must be {_type_name(tp)}"
    return (text.lower() if var == "LOG_LEVEL" else text), None


#: the unit's TimeoutStopSec (systemd/marketplaced.service; a test keeps the two equal)
UNIT_TIMEOUT_STOP_S = 30.0
#: seconds of TimeoutStopSec kept free of stage budgets: the interpreter's exit, the last log
#: lines and the notify socket's close happen after the last stage
_STOP_HEADROOM_S = 2.0
_STAGE_KEYS = ("stop_intake_s", "stop_jobs_s", "drain_s", "close_s")


def _check_cross_field(cfg: Config, where: str) -> list[str]:
    from marketplaced.jobs.triggers import schedule_problems  # lazy: jobs imports config

    # schedules, time zones (web.timezone: the same check as jobs.timezone) and alert rules
    problems = [
        f"{where}: {p}"
        for section in ("jobs", "alerts", "web")
        for p in schedule_problems(section, getattr(cfg, section))
    ]
    problems += _notify_url_problems(cfg.alerts.notify_urls, where)
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
    problems += _web_problems(cfg.web, where)
    return problems


def _notify_url_problems(urls: str, where: str) -> list[str]:
    """Apprise URLs that Apprise cannot parse (checked offline: nothing is sent)."""
    from marketplaced.jobs.apprise_urls import unparsable_urls  # lazy: jobs imports config

    return [
        f"{where}: 'alerts.notify_urls' or MARKETPLACED_NOTIFY_URLS ({shown}) is not a URL "
        "Apprise can use (e.g. tgram://BOT_TOKEN/CHAT_ID, mailto://user:pass@example.com, "
        "json://host/path)"
        for shown in unparsable_urls(urls)
    ]


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
    changed = []
    for sect in dataclasses.fields(Config):
        if sect.name == "source":
            continue
        a, b = getattr(old, sect.name), getattr(new, sect.name)
        for fld in dataclasses.fields(a):
            if getattr(a, fld.name) != getattr(b, fld.name):
                changed.append(f"{sect.name}.{fld.name}")
    return changed


def documented_keys() -> dict[str, str]:
    """Every file-settable key with its help text (a test checks the shipped TOML documents all)."""
    out: dict[str, str] = {}
    for sect in dataclasses.fields(Config):
        if sect.name == "source":
            continue
        cls = _field_type(Config, sect.name)
        for fld in dataclasses.fields(cls):
            if not fld.metadata.get("env_only"):
                out[f"{sect.name}.{fld.name}"] = fld.metadata["help"]
    return out
