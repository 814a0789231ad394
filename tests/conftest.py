"""Shared fixtures: real PostgreSQL (a fresh database per test module, copied from a migrated
template) and real Redis (its own db index, flushed per test). Credentials come from the
environment, or from `.env.test` written by `./install.sh --test`."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from marketplaced import db
from marketplaced.config import DatabaseConfig
from tests.helpers import browser as chrome
from tests.helpers.settings import base_config, env_for_tests  # noqa: F401 (imported from here)

# the seeded dashboard database and client factory, offered to every web test module
from tests.helpers.web import client, make_client, web_db  # noqa: F401


def _admin_cfg() -> DatabaseConfig:
    return dataclasses.replace(base_config().database, name=os.environ.get("DB_NAME", "postgres"))


async def _admin(sql: str) -> None:
    conn = await db.connect(_admin_cfg(), wait_s=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_db() -> Iterator[str]:
    """A migrated database that every test module copies (CREATE DATABASE … TEMPLATE)."""
    name = f"mp_tpl_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        await _admin(f'CREATE DATABASE "{name}"')
        conn = await db.connect(dataclasses.replace(_admin_cfg(), name=name))
        try:
            await db.migrate(conn)
        finally:
            await conn.close()
        # no connections at all, autovacuum's included: copying a template needs it idle
        await _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')

    asyncio.run(create())
    yield name
    asyncio.run(_drop(name))


async def _drop(name: str) -> None:
    """Drop a test database; an autovacuum worker (not ours to terminate) may hold it briefly."""
    for _ in range(50):
        try:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
            await asyncio.sleep(0.2)
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Copies:
    """Copies of the template made one ahead and dropped behind, on a thread of their own:
    copying and dropping a database take ≈ 0.6 s, which every test using one waited for, in
    sequence. A test still gets a copy no other test has touched, made before it starts."""

    def __init__(self, template: str) -> None:
        self._template = template
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db")
        self._next: Future[str] = self._thread.submit(self._make)
        self._drops: list[Future[None]] = []

    def _make(self) -> str:
        name = f"mp_test_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"'))
        return name

    def take(self) -> str:
        """A fresh copy (an error making it is this test's error), the next one started."""
        ready, self._next = self._next, self._thread.submit(self._make)
        return ready.result()

    def give_back(self, name: str) -> None:
        self._drops.append(self._thread.submit(lambda: asyncio.run(_drop(name))))

    def close(self) -> None:
        """Drop the copy made ahead and wait for every drop; a drop that failed (a copy left
        behind) fails the session's teardown, as it failed the test's before."""
        try:
            self.give_back(self._next.result())
        finally:
            self._thread.shutdown(wait=True)
        for drop in self._drops:
            drop.result()


@pytest.fixture(scope="session")
def _copies(template_db: str) -> Iterator[_Copies]:
    copies = _Copies(template_db)
    yield copies
    copies.close()


def _fresh_database(copies: _Copies) -> Iterator[DatabaseConfig]:
    name = copies.take()
    try:
        yield dataclasses.replace(_admin_cfg(), name=name)
    finally:
        copies.give_back(name)


@pytest.fixture(scope="module")
def module_db(_copies: _Copies) -> Iterator[DatabaseConfig]:
    """A fresh migrated database shared by the tests of one module."""
    yield from _fresh_database(_copies)


@pytest.fixture
def fresh_db(_copies: _Copies) -> Iterator[DatabaseConfig]:
    """A fresh migrated database for one test."""
    yield from _fresh_database(_copies)


@pytest.fixture
def empty_db() -> Iterator[DatabaseConfig]:
    """A database with no schema at all (migration tests)."""
    name = f"mp_empty_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield dataclasses.replace(_admin_cfg(), name=name)
    asyncio.run(_drop(name))


@pytest.fixture
async def pool(fresh_db: DatabaseConfig) -> AsyncIterator[asyncpg.Pool]:
    p = await db.create_pool(fresh_db)
    yield p
    await p.close()


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    cfg = base_config().redis
    r = aioredis.Redis(host=cfg.host, port=cfg.port, db=cfg.db)
    await r.flushdb()
    yield r
    await r.flushdb()
    await r.aclose()


@pytest.fixture
def browser() -> Iterator[Any]:
    reason = chrome.missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome.CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chrome.CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(chrome.PAGE_TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
