"""Uzum's part of the one-shot commands: `download uzum` and `process-raw uzum`.

Both run through the core's one-shot runner (`runtime`) with the same fetcher, parser and
writer as the daemon, and a progress line on stderr (rate, found, errors, ETA). A one-shot
download keeps its own cursor (`uzum.download`), so it never moves the daemon's.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import TextIO

from marketplaced import archive as archive_mod
from marketplaced import rawbody
from marketplaced.checkpoint import ParseFailure
from marketplaced.config import Config
from marketplaced.platforms.base import OneShotCommand, ScanDeps
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import Missing
from marketplaced.platforms.uzum.scanner import ScanPlan, UzumScanner
from marketplaced.platforms.uzum.storage import SCOPE, UzumSink
from marketplaced.platforms.uzum.upstream import NAME, routes
from marketplaced.progress import ProgressLine
from marketplaced.runtime import one_shot, scan_once
from marketplaced.writer import Writer


@dataclass(frozen=True, slots=True)
class DownloadResult:
    found: int
    missing: int
    errors: int
    parse_failures: int
    seconds: float
    #: archived bodies that still do not decode (counted in parse_failures too)
    undecodable: int = 0


def _ids_line(progress: ProgressLine, done: int, total: int | None, found: int, errors: int) -> str:
    of = f"/{total}" if total else ""
    return (
        f"{done}{of} ids  {progress.rate(done):7.1f}/s  found {found}  errors {errors}"
        f"{progress.eta(done, total)}"
    )


async def download_uzum(
    cfg: Config,
    *,
    start: int,
    stop: int | None,
    target: int | None,
    out: TextIO = sys.stderr,
    progress: ProgressLine | None = None,
) -> DownloadResult:
    plan = ScanPlan(start_id=start, stop_id=stop, target=target, continuous=False)
    started = time.monotonic()
    line = progress or ProgressLine(out)
    total = (stop - start + 1) if stop else None
    async with one_shot(cfg, platform=NAME, sinks=[UzumSink()], routes=routes(cfg)) as (
        pool,
        writer,
        fetcher,
    ):
        archive = None
        if cfg.archive.enabled:
            archive = archive_mod.for_config(cfg.archive, cfg.archive_dir, NAME, "product")
        deps = ScanDeps(pool, fetcher, writer, archive)
        scanner = UzumScanner(
            cfg.section(UzumConfig), deps, plan=plan, shard=cfg.section(UzumConfig).shard_parts()
        )
        st = scanner.stats

        def text() -> str:  # redrawn as every id finishes
            return _ids_line(line, st.done, total, st.found, sum(st.errors.values()))

        await scan_once(st, scanner.run, line, text)
    return DownloadResult(
        st.found, st.missing, sum(st.errors.values()), st.parse_failures, time.monotonic() - started
    )


async def process_raw_uzum(
    cfg: Config, out: TextIO = sys.stderr, *, progress: ProgressLine | None = None
) -> DownloadResult:
    """Re-parse every archived Uzum response into the database (idempotent upserts)."""
    started = time.monotonic()
    counts = {"found": 0, "missing": 0, "failed": 0, "undecodable": 0}
    total = archive_mod.count_files(cfg.archive_dir, "uzum", "product") * cfg.archive.batch_records
    line = progress or ProgressLine(out)

    def text(done: int) -> str:
        return _ids_line(line, done, total or None, counts["found"], counts["failed"])

    async with one_shot(cfg, platform=NAME, sinks=[UzumSink()]) as (_pool, writer, _fetcher):
        done = 0
        for ref, rec in archive_mod.iter_records(cfg.archive_dir, "uzum", "product"):
            done += 1
            await _reparse(writer, ref, rec, counts)
            if line.due():
                line.update(text(done))
        line.update(text(done), final=True)

    return DownloadResult(
        counts["found"],
        counts["missing"],
        0,
        counts["failed"],
        time.monotonic() - started,
        counts["undecodable"],
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
        record = parse_product(rec.status, rawbody.decode(rec), pid)
    except Exception as exc:  # whatever one body raises, it is that body's failure
        counts["failed"] += 1
        if isinstance(exc, rawbody.Undecodable):
            counts["undecodable"] += 1
        reason = getattr(exc, "reason", None) or f"unexpected {type(exc).__name__}: {exc}"
        await writer.put(ParseFailure(SCOPE, str(pid), str(reason)[:1000], ref))
        return
    counts["missing" if isinstance(record, Missing) else "found"] += 1
    await writer.put(record)


async def _download(cfg: Config, args: argparse.Namespace) -> int:
    start = 1 if args.from_id is None else args.from_id
    out = await download_uzum(cfg, start=start, stop=args.to_id, target=args.target)
    print(
        f"found {out.found}, missing {out.missing}, errors {out.errors}, parse failures "
        f"{out.parse_failures} in {out.seconds:.1f} s"
    )
    return 0


async def _process_raw(cfg: Config, _args: argparse.Namespace) -> int:
    out = await process_raw_uzum(cfg)
    print(
        f"re-parsed: {out.found} products, {out.missing} misses, {out.parse_failures} failures "
        f"({out.undecodable} bodies still undecodable) in {out.seconds:.1f} s"
    )
    return 0


DOWNLOAD = OneShotCommand(_download)
PROCESS_RAW = OneShotCommand(_process_raw)
