"""One-shot runs outside the daemon: `download` and `process-raw`.

Both use the same fetcher, parser and writer as the daemon, with a progress line on stderr
(rate, found, errors, ETA). A one-shot download keeps its own cursor (`uzum.download`), so it
never moves the daemon's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TextIO

from marketplaced import archive as archive_mod
from marketplaced import db, platforms
from marketplaced.checkpoint import ParseFailure
from marketplaced.config import Config
from marketplaced.errors import ParseError
from marketplaced.http import Fetcher
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import Missing
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.platforms.uzum.storage import SCOPE
from marketplaced.writer import Writer


@dataclass(frozen=True, slots=True)
class DownloadResult:
    found: int
    missing: int
    errors: int
    parse_failures: int
    seconds: float


class Progress:
    """A single self-rewriting status line."""

    def __init__(self, out: TextIO, total: int | None) -> None:
        self._out = out
        self._total = total
        self._started = time.monotonic()

    def show(self, done: int, found: int, errors: int, final: bool = False) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = done / elapsed
        eta = ""
        if self._total and rate > 0:
            eta = f" ETA {max(self._total - done, 0) / rate:5.0f} s"
        total = f"/{self._total}" if self._total else ""
        self._out.write(
            f"\r{done}{total} ids  {rate:7.1f}/s  found {found}  errors {errors}{eta}   "
        )
        if final:
            self._out.write("\n")
        self._out.flush()


async def _with_runtime(
    cfg: Config, body: Callable[[Writer, Fetcher, Any], Awaitable[None]]
) -> None:
    pool = await db.create_pool(cfg.database, wait_s=cfg.daemon.startup_wait_s)
    try:
        async with pool.acquire() as conn:
            await db.check_schema(conn)
        writer = Writer(pool, cfg.writer, platforms.sinks())
        writer_task = asyncio.create_task(writer.run())
        try:
            async with platforms.new_fetcher(cfg) as fetcher:
                await body(writer, fetcher, pool)
            await writer.flush()
        finally:
            writer_task.cancel()
            await asyncio.gather(writer_task, return_exceptions=True)
            await writer.drain()
    finally:
        await pool.close()


async def download_uzum(
    cfg: Config, *, start: int, stop: int | None, target: int | None, out: TextIO = sys.stderr
) -> DownloadResult:
    plan = ScanPlan(start_id=start, stop_id=stop, target=target, continuous=False)
    started = time.monotonic()
    result: dict[str, int] = {}

    async def body(writer: Writer, fetcher: Fetcher, pool: Any) -> None:
        archive = None
        if cfg.archive.enabled:
            archive = archive_mod.Archive(
                cfg.archive_dir,
                "uzum",
                "product",
                batch_records=cfg.archive.batch_records,
                max_bytes=cfg.archive.max_mb * 1024 * 1024,
            )
        scanner = UzumScanner(
            cfg.uzum,
            pool=pool,
            fetcher=fetcher,
            writer=writer,
            plan=plan,
            archive=archive,
            shard=cfg.shard_parts(),
        )
        progress = Progress(out, (stop - start + 1) if stop else None)
        task = asyncio.create_task(scanner.run())
        while not task.done():
            st = scanner.stats
            progress.show(st.done, st.found, sum(st.errors.values()))
            await asyncio.wait({task}, timeout=0.5)
        task.result()
        st = scanner.stats
        progress.show(st.done, st.found, sum(st.errors.values()), final=True)
        result.update(
            found=st.found,
            missing=st.missing,
            errors=sum(st.errors.values()),
            parse_failures=st.parse_failures,
        )

    await _with_runtime(cfg, body)
    return DownloadResult(
        result["found"],
        result["missing"],
        result["errors"],
        result["parse_failures"],
        time.monotonic() - started,
    )


async def process_raw_uzum(cfg: Config, out: TextIO = sys.stderr) -> DownloadResult:
    """Re-parse every archived Uzum response into the database (idempotent upserts)."""
    started = time.monotonic()
    counts = {"found": 0, "missing": 0, "failed": 0}
    total = archive_mod.count_files(cfg.archive_dir, "uzum", "product") * cfg.archive.batch_records

    async def body(writer: Writer, _fetcher: Fetcher, _pool: Any) -> None:
        progress = Progress(out, total or None)
        done = 0
        for ref, rec in archive_mod.iter_records(cfg.archive_dir, "uzum", "product"):
            done += 1
            await _reparse(writer, ref, rec, counts)
            if done % 500 == 0:
                progress.show(done, counts["found"], counts["failed"])
        progress.show(done, counts["found"], counts["failed"], final=True)

    await _with_runtime(cfg, body)
    return DownloadResult(
        counts["found"], counts["missing"], 0, counts["failed"], time.monotonic() - started
    )


async def _reparse(
    writer: Writer, ref: str, rec: archive_mod.RawRecord, counts: dict[str, int]
) -> None:
    try:
        pid = int(rec.key)
    except ValueError:
        counts["failed"] += 1
        return
    try:
        data = json.loads(rec.body, strict=False) if rec.body.strip() else None
        record = parse_product(rec.status, data, pid)
    except (ValueError, ParseError) as exc:
        counts["failed"] += 1
        reason = exc.reason if isinstance(exc, ParseError) else f"invalid JSON: {exc}"
        await writer.put(ParseFailure(SCOPE, str(pid), reason, ref))
        return
    counts["missing" if isinstance(record, Missing) else "found"] += 1
    await writer.put(record)
