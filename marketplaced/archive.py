"""The raw-response archive: upstream bodies kept as compressed batches, with a size cap.

Responses are appended to an in-memory batch and written as one gzip'd JSON-lines file per
`batch_records` responses or `batch_max_mb` of bodies, whichever comes first
(`<dir>/<platform>/<kind>/<YYYYMMDD>/<HHMMSS>-<token>-<seq>.jsonl.gz`) — never one file per
product, and never hundreds of MB held for one file of big bodies. Each line:
`{"key", "status", "fetched_at", "body"}`. A reference `<file>#<line>` is known before the file
is written, so a parse failure can point at its raw body. Encoding (orjson), compressing,
writing and pruning run in a worker thread so the event loop never blocks on them. A write that
fails (full disk) is logged with the file it was meant to be and counted in `Archive.stats`
(the daemon publishes them; `marketplaced status` prints them). When the archive exceeds
`max_mb`, the oldest files are removed first by `prune_tree`, the one pruner of the tree (the
archive after its writes, the retention job daily), which never runs twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gzip
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from marketplaced import log
from marketplaced.config import ArchiveConfig

_log = log.get(__name__)

_GLOB: Final = "*.jsonl.gz"
#: held (flock) by whoever walks the tree to prune it, in this process or another
PRUNE_LOCK: Final = ".prune.lock"
#: what a line costs beyond its body (key, status, time, JSON punctuation)
_LINE_OVERHEAD: Final = 100


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
        #: lines still to encode (in the writer thread) and the size of their bodies
        self.records: list[dict[str, Any]] = []
        self.bytes = 0


@dataclass(slots=True)
class ArchiveStats:
    files_written: int = 0
    bytes_written: int = 0
    #: batch files that could not be written, and the responses they held
    failed_writes: int = 0
    lost_responses: int = 0
    last_error: str | None = None


class Archive:
    """One per platform kind (e.g. uzum/product); `add` is cheap, `flush` writes."""

    def __init__(
        self,
        root: Path,
        platform: str,
        kind: str,
        *,
        batch_records: int,
        max_bytes: int,
        batch_max_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.root = root
        self.dir = root / platform / kind
        self._batch_records = batch_records
        self._batch_max_bytes = batch_max_bytes
        self._max_bytes = max_bytes
        self._seq = 0
        # a random token per archive keeps two writers (a restarted daemon, a one-shot
        # download) in the same second from choosing one name and overwriting a batch
        self._token = secrets.token_hex(4)
        self._batch: _Batch | None = None
        self._writes: set[asyncio.Task[int]] = set()
        self.stats = ArchiveStats()
        self._scanned = False
        self._unscanned_bytes = 0

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
        batch.records.append(rec)
        batch.bytes += len(body) + _LINE_OVERHEAD
        ref = f"{batch.path.relative_to(self.root)}#{len(batch.records)}"
        if len(batch.records) >= self._batch_records or batch.bytes >= self._batch_max_bytes:
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
        if batch is None or not batch.records:
            return
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self._write, batch))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        task.add_done_callback(lambda t: self._written(t, batch))

    def _written(self, task: asyncio.Task[int], batch: _Batch) -> None:
        """Count a finished write; a failed one is logged with what it lost (never left as an
        unretrieved task exception)."""
        st = self.stats
        if task.cancelled():
            error: BaseException | None = asyncio.CancelledError()
        else:
            error = task.exception()
        if error is None:
            st.files_written += 1
            st.bytes_written += task.result()
            return
        st.failed_writes += 1
        st.lost_responses += len(batch.records)
        st.last_error = f"{type(error).__name__}: {error}"
        # parse failures may point into this file (`<file>#<line>`): say which file is missing
        _log.error(
            "archive_write_failed",
            file=str(batch.path.relative_to(self.root)),
            responses=len(batch.records),
            error=st.last_error,
        )

    async def flush(self) -> None:
        """Write the partial batch and wait for every write in flight (failures are logged
        and counted, not raised: losing raw copies must not stop a scan)."""
        self._spawn_write()
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _write(self, batch: _Batch) -> int:
        """Encode, compress and write one batch file (worker thread); returns its size."""
        lines = [orjson.dumps(rec) + b"\n" for rec in batch.records]
        batch.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = batch.path.with_suffix(".tmp")
        try:
            # compresslevel 5: most of the size win of 9 at a fraction of the CPU
            with gzip.open(tmp, "wb", compresslevel=5) as fh:
                fh.writelines(lines)
            tmp.rename(batch.path)  # readers never see a half-written file
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk must not also keep a partial file
            raise
        size = batch.path.stat().st_size
        self._unscanned_bytes += size
        # walking the whole archive costs a stat per file: do it on the first write and then
        # only after this writer added 1 % of the cap (the cap is kept to within that margin)
        if not self._scanned or self._unscanned_bytes >= self._max_bytes // 100:
            self._scanned, self._unscanned_bytes = True, 0
            prune_tree(self.root, self._max_bytes)
        return size


def prune_tree(root: Path, max_bytes: int) -> int | None:
    """Remove the oldest archive files under `root` until the total is under `max_bytes`;
    returns the files removed, or None when another pruner holds the tree (it does the same
    work, so walking it twice at once would only race over the same files). Blocking: run it
    in a thread."""
    if not root.is_dir():
        return 0
    with (root / PRUNE_LOCK).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log.debug("archive_prune_skipped", root=str(root), reason="another pruner runs")
            return None
        return _prune_locked(root, max_bytes)


def _prune_locked(root: Path, max_bytes: int) -> int:
    files = []
    for path in root.rglob(_GLOB):
        with contextlib.suppress(FileNotFoundError):  # a file renamed or removed meanwhile
            st = path.stat()
            files.append((st.st_mtime, st.st_size, path))
    files.sort(key=lambda f: f[0])
    total = sum(size for _, size, _ in files)
    removed = 0
    for _, size, path in files:
        if total <= max_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # the day directory, once it is empty
    if removed:
        _log.info("archive_pruned", files=removed, bytes_left=total)
    return removed


def for_config(cfg: ArchiveConfig, root: Path, platform: str, kind: str) -> Archive:
    """An archive for platform/kind with the configured batch size and size cap."""
    return Archive(
        root,
        platform,
        kind,
        batch_records=cfg.batch_records,
        max_bytes=cfg.max_mb * 1024 * 1024,
        batch_max_bytes=cfg.batch_max_mb * 1024 * 1024,
    )


def iter_records(root: Path, platform: str, kind: str) -> Iterator[tuple[str, RawRecord]]:
    """Every archived response of platform/kind, oldest file first: (reference, record)."""
    base = root / platform / kind
    for path in sorted(base.rglob(_GLOB)):
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
    return sum(1 for _ in (root / platform / kind).rglob(_GLOB))
