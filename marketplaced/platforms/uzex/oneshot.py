"""UZEX's part of the one-shot commands: `download uzex` and `process-raw uzex`.

`download` runs the completed-deals scanner of one lot type once (newest first, items included)
with its own cursor (`uzex.<type>.download`): an interrupted download continues where it stopped,
a finished one starts again from the top. `process_raw` re-parses every archived UZEX response
into the database (idempotent upserts). Both run through the core's one-shot runner (`runtime`):
one self-rewriting progress line, the same fetcher, parser, sink and writer as the daemon.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from marketplaced import archive as archive_mod
from marketplaced import rawbody
from marketplaced.checkpoint import ParseFailure
from marketplaced.config import Config
from marketplaced.errors import ParseError
from marketplaced.platforms.base import OneShotCommand, ScanDeps
from marketplaced.platforms.uzex import parser
from marketplaced.platforms.uzex.client import NAME, routes
from marketplaced.platforms.uzex.completed import CompletedScanner
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.records import LOT_TYPES, LotStatus, LotType
from marketplaced.platforms.uzex.scanner import UzexPlan, UzexScannerStats, failure_reason
from marketplaced.platforms.uzex.storage import UzexPage, UzexSink, scope
from marketplaced.progress import ProgressLine
from marketplaced.runtime import one_shot, scan_once


@dataclass(frozen=True, slots=True)
class UzexRunResult:
    lots: int
    items: int
    missing: int
    errors: int
    parse_failures: int
    seconds: float
    #: "" or the block that stopped the run ("blocked_by_upstream", "user_agent_rejected")
    blocked: str = ""


def _line(progress: ProgressLine, st: UzexScannerStats, target: int | None) -> str:
    of = f"/{target}" if target else ""
    return (
        f"{st.found}{of} lots  {st.items} items  {st.detail_requests} item requests  "
        f"{progress.rate(st.found):7.1f} lots/s  errors {sum(st.errors.values())}"
        f"{progress.eta(st.found, target)}"
    )


async def download(
    cfg: Config,
    lot_type: LotType,
    target: int | None = None,
    out: TextIO = sys.stderr,
    *,
    progress: ProgressLine | None = None,
) -> UzexRunResult:
    """Download completed deals of `lot_type` (newest first) until `target` lots or the end."""
    started = time.monotonic()
    archive = None
    if cfg.archive.enabled:
        archive = archive_mod.for_config(cfg.archive, cfg.archive_dir, NAME, lot_type)
    line = progress or ProgressLine(out)
    async with one_shot(cfg, platform=NAME, sinks=[UzexSink()], routes=routes(cfg)) as (
        pool,
        writer,
        fetcher,
    ):
        scanner = CompletedScanner(
            cfg.section(UzexConfig),
            lot_type,
            ScanDeps(pool, fetcher, writer, archive),
            plan=UzexPlan(continuous=False, target=target, own_cursor=True),
        )
        st = scanner.stats
        # redrawn on every finished request: list pages and each lot's item request
        await scan_once(st, scanner.run, line, lambda: _line(line, st, target))
    return UzexRunResult(
        st.found,
        st.items,
        st.missing,
        sum(st.errors.values()),
        st.parse_failures,
        time.monotonic() - started,
        st.blocked_reason,
    )


async def process_raw(
    cfg: Config, out: TextIO = sys.stderr, *, progress: ProgressLine | None = None
) -> UzexRunResult:
    """Re-parse every archived UZEX response (all lot types and reference lists)."""
    started = time.monotonic()
    counts = {"lots": 0, "items": 0, "failed": 0, "responses": 0}
    line = progress or ProgressLine(out)

    def text() -> str:
        return (
            f"{counts['responses']} responses  {counts['lots']} lots  {counts['items']} items  "
            f"failures {counts['failed']}"
        )

    async with one_shot(cfg, platform=NAME, sinks=[UzexSink()]) as (_pool, writer, _fetcher):
        for kind in (*LOT_TYPES, "reference"):
            for ref, rec in archive_mod.iter_records(cfg.archive_dir, "uzex", kind):
                for item in replay(kind, ref, rec):
                    await writer.put(item)
                    _tally(counts, item)
                counts["responses"] += 1
                if line.due():  # per response, not per lot type: a type can be hours
                    line.update(text())
        line.update(text(), final=True)
    seconds = time.monotonic() - started
    return UzexRunResult(counts["lots"], counts["items"], 0, 0, counts["failed"], seconds)


def _tally(counts: dict[str, int], item: object) -> None:
    if isinstance(item, UzexPage):
        counts["lots"] += len(item.lots)
        counts["items"] += len(item.items)
    elif isinstance(item, ParseFailure):
        counts["failed"] += 1


def replay(kind: str, ref: str, rec: archive_mod.RawRecord) -> list[object]:
    """Writer items for one archived response; its key says which endpoint it came from.

    Keys as the scanners write them: `completed:<from>-<to>`, `active:<from>-<to>`,
    `items:<lot>`, `lot:<lot>`, `trade:<lot>`, `categories`, `regions`. Non-200 answers (404s
    of removed lots, refusals) are skipped: they hold no data.
    """
    if rec.status != 200 and rec.undecodable is None:
        return []
    endpoint, _, arg = rec.key.partition(":")
    where = "uzex.reference" if kind == "reference" else scope(_lot_type(kind))
    try:
        data: Any = rawbody.decode(rec)
        return _replay_parsed(kind, endpoint, arg, data, where, ref)
    except rawbody.Undecodable as exc:
        return [ParseFailure(where, rec.key, exc.reason, ref)]
    except Exception as exc:  # whatever one body raises, it is that body's failure
        return [ParseFailure(where, rec.key, failure_reason(exc), ref)]


def _replay_parsed(
    kind: str, endpoint: str, arg: str, data: Any, where: str, ref: str
) -> list[object]:
    if endpoint == "categories":
        result = parser.parse_categories(data)
        return [*result.records, *_failures(where, result.failures, ref)]
    if endpoint == "regions":
        regions = parser.parse_regions(data)
        return [*regions.records, *_failures(where, regions.failures, ref)]
    lot_type = _lot_type(kind)
    if endpoint == "completed":
        page = parser.parse_completed_deals(lot_type, data)
        return [_list_page(lot_type, "completed", page), *_failures(where, page.failures, ref)]
    if endpoint == "active":
        page = parser.parse_active_lots(lot_type, data)
        return [_list_page(lot_type, "active", page), *_failures(where, page.failures, ref)]
    lot_id = int(arg)
    if endpoint == "items":
        items = parser.parse_deal_products(lot_type, lot_id, data)
        return [UzexPage(lot_type, "completed", (), tuple(items), (lot_id,))]
    if endpoint == "trade":
        items = parser.parse_etender_trade(lot_id, data)
        return [UzexPage(lot_type, "completed", (), tuple(items), (lot_id,))]
    if endpoint == "lot":
        detail = parser.parse_lot_detail(lot_type, data)
        return [UzexPage(lot_type, "active", tuple(detail.lots), tuple(detail.items), (lot_id,))]
    raise ParseError(f"unknown archive key {endpoint!r}")


def _list_page(lot_type: LotType, source: LotStatus, page: parser.PageResult) -> UzexPage:
    """A list page: rows that carry their items (shop rows, DealsList) carry all of them."""
    complete = tuple({item.lot_id for item in page.items})
    return UzexPage(lot_type, source, tuple(page.lots), tuple(page.items), complete)


def _failures(where: str, failures: list[tuple[str, str]], ref: str) -> list[object]:
    return [ParseFailure(where, key, reason, ref) for key, reason in failures]


def _lot_type(kind: str) -> LotType:
    for lot_type in LOT_TYPES:
        if lot_type == kind:
            return lot_type
    raise ParseError(f"unknown UZEX archive kind {kind!r}")


def _add_download_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--type",
        choices=list(LOT_TYPES),
        default="auction",
        help="UZEX lot type (uzex only)",
    )


def _check_download(args: argparse.Namespace) -> str | None:
    if args.from_id is not None or args.to_id is not None:
        return "--from/--to select Uzum product ids; a UZEX download walks the lists newest first"
    return None


async def _download(cfg: Config, args: argparse.Namespace) -> int:
    res = await download(cfg, _lot_type(args.type), target=args.target)
    print(
        f"lots {res.lots}, items {res.items}, missing {res.missing}, errors {res.errors}, "
        f"parse failures {res.parse_failures} in {res.seconds:.1f} s"
    )
    if res.blocked:
        print(
            f"stopped: {res.blocked} (see the log for what the upstream answered)",
            file=sys.stderr,
        )
        return 1
    return 0


async def _process_raw(cfg: Config, _args: argparse.Namespace) -> int:
    res = await process_raw(cfg)
    print(
        f"re-parsed: {res.lots} lots, {res.items} items, {res.parse_failures} failures "
        f"in {res.seconds:.1f} s"
    )
    return 0


DOWNLOAD = OneShotCommand(_download, _add_download_arguments, _check_download)
PROCESS_RAW = OneShotCommand(_process_raw)
