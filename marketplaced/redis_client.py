"""The Redis connection of live state: fails fast, and waits for Redis only at start-up.

Redis holds live state only (heartbeats, scanner figures, job schedule), so whoever talks to it
— the daemon, `marketplaced status` — must never hang on it. Kept below the daemon so that
commands reading live state do not import the daemon to get a client.
"""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from marketplaced import log
from marketplaced.config import Config

_log = log.get(__name__)


async def connect_redis(cfg: Config, wait_s: float) -> aioredis.Redis:
    client = aioredis.Redis(
        host=cfg.redis.host,
        port=cfg.redis.port,
        db=cfg.redis.db,
        # Redis holds live state only: a command fails fast (5 s at most, no client-side
        # retries with backoff) so a Redis outage never slows the status loop or the scanners
        socket_timeout=5,
        socket_connect_timeout=5,
        retry=Retry(NoBackoff(), 0),
    )
    deadline = time.monotonic() + wait_s
    delay = 0.5
    while True:
        try:
            await client.ping()
            return client
        except (OSError, aioredis.RedisError) as exc:
            if time.monotonic() >= deadline:
                _log.warning(
                    "redis_unavailable_at_start",
                    target=f"{cfg.redis.host}:{cfg.redis.port}",
                    error=str(exc),
                    hint="scanning continues; live status is not published",
                )
                return client
            _log.warning(
                "redis_unreachable",
                target=f"{cfg.redis.host}:{cfg.redis.port}",
                error=str(exc),
                retry_in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
