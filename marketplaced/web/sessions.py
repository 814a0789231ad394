"""Dashboard logins: one random session per login, kept in PostgreSQL (`web_sessions`).

A login creates a row; the browser's cookie carries a random id whose SHA-256 is the row's key
(a database dump hands out no logins). A session ends at logout (its row is deleted), at its
server-side expiry, or when the token is rotated (each row records a tag of the token it was
opened with). The rows live in the database so that a session survives a restart and every
daemon sharing the database honours a logout at once. Expired rows are pruned at each login.

While PostgreSQL cannot answer, sessions this process has already seen valid keep working until
their expiry (the dashboard stays usable to watch an outage); unknown ones, new logins and
logouts wait for the database — `Authorization: Bearer` needs no database at all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

import asyncpg

from marketplaced import db

#: a login lasts a working week; the token itself lasts until it is rotated
SESSION_MAX_AGE_S = 7 * 86400
#: sessions remembered for a database outage; beyond that the oldest-used are forgotten
REMEMBERED_MAX = 1024

CREATE = """
INSERT INTO web_sessions (id_hash, token_tag, expires_at, peer)
VALUES ($1, $2, now() + make_interval(secs => $3), $4)
RETURNING extract(epoch FROM expires_at)::float8
"""
LOOKUP = """
SELECT extract(epoch FROM expires_at)::float8 FROM web_sessions
WHERE id_hash = $1 AND token_tag = $2 AND expires_at > now()
"""
REVOKE = "DELETE FROM web_sessions WHERE id_hash = $1"
PRUNE = "DELETE FROM web_sessions WHERE expires_at <= now()"


class SessionStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        token: str,
        *,
        max_age_s: float = SESSION_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self.max_age_s = max_age_s
        self._clock = clock
        # rotating the token ends every session opened with the old one
        self._tag = hmac.new(token.encode(), b"marketplaced-session-v2", hashlib.sha256).digest()
        #: id hash → expiry (epoch s) of sessions seen valid, for an outage only
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    async def create(self, peer: str | None) -> str:
        """Open a session; returns the cookie value. Database errors propagate."""
        value = secrets.token_urlsafe(32)
        key = _hash(value)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(PRUNE)
            expires = await conn.fetchval(CREATE, key, self._tag, self.max_age_s, peer)
        self._remember(key, float(expires))
        return value

    async def valid(self, value: str) -> bool:
        if not value or len(value) > 128:
            return False
        key = _hash(value)
        try:
            expires = await self._pool.fetchval(LOOKUP, key, self._tag)
        except db.UNAVAILABLE_ERRORS:
            remembered = self._seen.get(key)
            return remembered is not None and remembered > self._clock()
        if expires is None:
            self._seen.pop(key, None)
            return False
        self._remember(key, float(expires))
        return True

    async def revoke(self, value: str) -> None:
        """End a session everywhere; database errors propagate (the logout is not recorded)."""
        key = _hash(value)
        await self._pool.execute(REVOKE, key)
        self._seen.pop(key, None)

    async def prune(self) -> int:
        status = await self._pool.execute(PRUNE)
        return int(status.split()[-1])

    def _remember(self, key: bytes, expires: float) -> None:
        self._seen[key] = expires
        self._seen.move_to_end(key)
        while len(self._seen) > REMEMBERED_MAX:
            self._seen.popitem(last=False)


def _hash(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()
