"""The daemon's live state in Redis: what other processes read while it runs.

Scanner heartbeats, rates, recent errors, job schedules and a copy of every cursor, keyed by
the database the daemon writes to. Nothing here is durable (PostgreSQL holds the truth, see
`checkpoint`): `LiveState` swallows Redis outages (logging the transition once) so scanning
never stops because Redis did.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from marketplaced import log
from marketplaced.config import Config

_log = log.get(__name__)


def live_prefix(cfg: Config) -> str:
    """The Redis key prefix of the daemon writing to `cfg`'s database: `redis.key_prefix`
    plus that database, so daemons (and the demo, tests, a staging copy) sharing one Redis
    never read each other's heartbeats, and `marketplaced status` reads only the daemon of
    the database it is configured for."""
    d = cfg.database
    return f"{cfg.redis.key_prefix}{d.host}:{d.port}/{d.name}:"


def heartbeat_limit_s(cfg: Config) -> float:
    """A daemon whose heartbeat is older than this is not running: it publishes every
    `daemon.status_interval_s`, so three missed publications are no hiccup."""
    return 3 * cfg.daemon.status_interval_s


class LiveState:
    """The Redis side: heartbeats, live scanner figures and cursor copies, under the key
    prefix of one daemon (`live_prefix`).

    Every method is best-effort: on a Redis error it records the outage, logs
    `redis_unavailable` once, and returns; `redis_recovered` is logged when it answers again.
    """

    #: heartbeat keys expire so a dead daemon's scanners do not linger for ever; until then
    #: readers judge them by the age of their heartbeat (`heartbeat_limit_s`)
    TTL_S = 300

    def __init__(
        self, client: aioredis.Redis, prefix: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._r = client
        self._prefix = prefix
        self._clock = clock
        self.down_since: float | None = None

    @classmethod
    def of(
        cls, client: aioredis.Redis, cfg: Config, *, clock: Callable[[], float] = time.time
    ) -> LiveState:
        """The live state of the daemon that writes to `cfg`'s database."""
        return cls(client, live_prefix(cfg), clock=clock)

    def key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    async def ping(self) -> bool:
        return await self._guard(self._r.ping()) is not None

    async def publish(self, kind: str, name: str, fields: Mapping[str, Any]) -> None:
        """HSET the figures of a scanner/service with a TTL; values JSON-encoded."""
        key = self.key(kind, name)
        mapping = {k: json.dumps(v, default=str) for k, v in fields.items()}
        mapping["heartbeat"] = json.dumps(self._clock())

        async def op() -> None:
            async with self._r.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping=cast(Any, mapping))
                pipe.expire(key, self.TTL_S)
                pipe.sadd(self.key("index", kind), name)
                await pipe.execute()

        await self._guard(op())

    async def read_all(self, kind: str) -> dict[str, dict[str, Any]]:
        names = await self._guard(self._r.smembers(self.key("index", kind)))
        out: dict[str, dict[str, Any]] = {}
        for raw_name in sorted(names or ()):
            name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
            data = await self._guard(self._r.hgetall(self.key(kind, name)))
            if data:
                out[name] = {_s(k): json.loads(_s(v)) for k, v in data.items()}
        return out

    async def _guard(self, awaitable: Any) -> Any:
        try:
            result = await awaitable
        except (TimeoutError, RedisError, OSError) as exc:
            if self.down_since is None:
                self.down_since = time.time()
                _log.warning("redis_unavailable", error=str(exc) or type(exc).__name__)
            return None
        if self.down_since is not None:
            _log.info("redis_recovered", down_s=round(time.time() - self.down_since, 1))
            self.down_since = None
        return result


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
