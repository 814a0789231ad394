"""The raw-response archive: upstream bodies kept as compressed batches, with a size cap.

Responses are appended to an in-memory batch and written as one gzip'd JSON-lines file per
`batch_records` responses (`<dir>/<platform>/<kind>/<YYYYMMDD>/<HHMMSS>-<token>-<seq>.jsonl.gz`) —
never one file per product. Each line: `{"key", "status", "fetched_at", "body"}`. A reference
`<file>#<line>` is known before the file is written, so a parse failure can point at its raw
body. Writing and pruning run in a worker thread so the event loop never blocks on disk. When
the archive exceeds `max_mb`, the oldest files are removed first.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketplaced import log
from marketplaced.config import ArchiveConfig

_log = log.get(__name__)


@dataclass(frozen=True, slots=True)
class RawRecord:
    key: str
    status: int
    fetched_at: float
    body: str
    #: why this body could not be decoded when it was received (None: it decoded); such
    #: entries are kept so `process-raw` can try again or report them
    undecodable: str | None = None


class _Batch:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[bytes] = []


class Archive:
    """One per platform kind (e.g. uzum/product); `add` is cheap, `flush` writes."""

    def __init__(
        self, root: Path, platform: str, kind: str, *, batch_records: int, max_bytes: int
    ) -> None:
        self.root = root
        self.dir = root / platform / kind
        self._batch_records = batch_records
        self._max_bytes = max_bytes
        self._seq = 0
        # a random token per archive keeps two writers (a restarted daemon, a one-shot
        # download) in the same second from choosing one name and overwriting a batch
        self._token = secrets.token_hex(4)
        self._batch: _Batch | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self.files_written = 0
        self._scanned = False
        self._unscanned_bytes = 0
        self.bytes_written = 0

    def add(self, key: str, status: int, body: bytes, *, undecodable: str | None = None) -> str:
        """Queue one response; returns its reference `<relative file>#<line>`. `undecodable`
        (the decoder's complaint) marks a body that was received but could not be decoded."""
        if self._batch is None:
            self._batch = _Batch(self._next_path())
        rec: dict[str, Any] = {
            "key": key,
            "status": status,
            "fetched_at": round(time.time(), 3),
            "body": body.decode("utf-8", errors="replace"),
        }
        if undecodable is not None:
            rec["undecodable"] = undecodable
        batch = self._batch
        batch.lines.append(json.dumps(rec, ensure_ascii=False).encode() + b"\n")
        ref = f"{batch.path.relative_to(self.root)}#{len(batch.lines)}"
        if len(batch.lines) >= self._batch_records:
            self._spawn_write()
        return ref

    def _next_path(self) -> Path:
        self._seq += 1
        now = time.gmtime()
        return (
            self.dir
            / time.strftime("%Y%m%d", now)
            / f"{time.strftime('%H%M%S', now)}-{self._token}-{self._seq:06d}.jsonl.gz"
        )

    def _spawn_write(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None or not batch.lines:
            return
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self._write, batch))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def flush(self) -> None:
        """Write the partial batch and wait for every write in flight."""
        self._spawn_write()
        if self._writes:
            await asyncio.gather(*self._writes)

    def _write(self, batch: _Batch) -> None:
        batch.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = batch.path.with_suffix(".tmp")
        # compresslevel 5: most of the size win of 9 at a fraction of the CPU
        with gzip.open(tmp, "wb", compresslevel=5) as fh:
            fh.writelines(batch.lines)
        tmp.rename(batch.path)  # readers never see a half-written file
        size = batch.path.stat().st_size
        self.files_written += 1
        self.bytes_written += size
        self._unscanned_bytes += size
        # walking the whole archive costs a stat per file: do it on the first write and then
        # only after this writer added 1 % of the cap (the cap is kept to within that margin)
        if self._scanned and self._unscanned_bytes < self._max_bytes // 100:
            return
        self._scanned, self._unscanned_bytes = True, 0
        self._prune()

    def _prune(self) -> None:
        files = sorted(self.root.rglob("*.jsonl.gz"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        removed = 0
        while files and total > self._max_bytes:
            oldest = files.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)
            removed += 1
        if removed:
            _log.info("archive_pruned", files=removed, bytes_left=total)


def for_config(cfg: ArchiveConfig, root: Path, platform: str, kind: str) -> Archive:
    """An archive for platform/kind with the configured batch size and size cap."""
    return Archive(
        root, platform, kind, batch_records=cfg.batch_records, max_bytes=cfg.max_mb * 1024 * 1024
    )


def iter_records(root: Path, platform: str, kind: str) -> Iterator[tuple[str, RawRecord]]:
    """Every archived response of platform/kind, oldest file first: (reference, record)."""
    base = root / platform / kind
    for path in sorted(base.rglob("*.jsonl.gz")):
        with gzip.open(path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                ref = f"{path.relative_to(root)}#{lineno}"
                try:
                    rec: Any = json.loads(line)
                    yield (
                        ref,
                        RawRecord(
                            str(rec["key"]),
                            int(rec["status"]),
                            float(rec["fetched_at"]),
                            str(rec["body"]),
                            _opt_str(rec.get("undecodable")),
                        ),
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    _log.warning("archive_line_unreadable", ref=ref, error=str(exc))


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def count_files(root: Path, platform: str, kind: str) -> int:
    return sum(1 for _ in (root / platform / kind).rglob("*.jsonl.gz"))
