"""The raw archive: compressed batches, references that point at the right body, size cap."""

from __future__ import annotations

import asyncio
import fcntl
import gzip
import json
import os
from pathlib import Path

from structlog.testing import capture_logs

from marketplaced.archive import PRUNE_LOCK, Archive, count_files, iter_records, prune_tree


def test_batches_references_and_size_cap(tmp_path: Path) -> None:
    archive = Archive(tmp_path, "uzum", "product", batch_records=50, max_bytes=10**9)
    refs: dict[int, str] = {}

    async def fill() -> None:  # add() writes full batches from the event loop
        for i in range(120):
            refs[i] = archive.add(
                str(i), 200, f'{{"id": {i}, "pad": "{os.urandom(200).hex()}"}}'.encode()
            )
        await archive.flush()

    asyncio.run(fill())
    files = sorted((tmp_path / "uzum" / "product").rglob("*.jsonl.gz"))
    assert len(files) == 3  # 50 + 50 + 20: batches, never a file per product
    assert not list(tmp_path.rglob("*.tmp"))
    records = dict(iter_records(tmp_path, "uzum", "product"))
    assert len(records) == 120
    for i in (0, 49, 50, 119):
        assert records[refs[i]].key == str(i)
        assert f'"id": {i},' in records[refs[i]].body

    # a cap smaller than what is there: the oldest batch files go first
    total = sum(f.stat().st_size for f in files)
    capped = Archive(tmp_path, "uzum", "product", batch_records=50, max_bytes=total)

    async def fill_more() -> None:
        for i in range(50):
            capped.add(str(1000 + i), 200, os.urandom(300).hex().encode())
        await capped.flush()

    asyncio.run(fill_more())
    left = sorted(
        (tmp_path / "uzum" / "product").rglob("*.jsonl.gz"), key=lambda p: p.stat().st_mtime
    )
    assert sum(f.stat().st_size for f in left) <= total
    assert files[0] not in left  # the oldest was pruned
    assert count_files(tmp_path, "uzum", "product") == len(left)
    with gzip.open(left[-1], "rt") as fh:
        assert json.loads(fh.read().splitlines()[-1])["key"] == "1049"


def test_unreadable_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "uzum" / "product" / "20260101" / "000000-000001.jsonl.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as fh:
        fh.write('{"key": "1", "status": 200, "fetched_at": 1.0, "body": "{}"}\n')
        fh.write("this is not json\n")
        fh.write('{"key": "3", "status": 404, "fetched_at": 1.0, "body": ""}\n')
    assert [r.key for _, r in iter_records(tmp_path, "uzum", "product")] == ["1", "3"]


def test_batches_are_bounded_by_bytes_too(tmp_path: Path) -> None:
    archive = Archive(
        tmp_path, "uzum", "product", batch_records=1000, max_bytes=10**9, batch_max_bytes=1 << 20
    )
    big = b'{"payload": "' + b"x" * 220_000 + b'"}'  # a product with 100 SKUs is ~220 KB

    async def fill() -> list[str]:
        refs = [archive.add(str(i), 200, big) for i in range(20)]
        await archive.flush()
        return refs

    refs = asyncio.run(fill())
    files = sorted((tmp_path / "uzum" / "product").rglob("*.jsonl.gz"))
    # 20 x 220 KB with a 1 MiB cap: files of at most 5 bodies, not one file of all 20
    assert len(files) >= 4
    for path in files:
        with gzip.open(path, "rb") as fh:
            assert len(fh.read().splitlines()) <= 5
    records = dict(iter_records(tmp_path, "uzum", "product"))
    assert [records[ref].key for ref in refs] == [str(i) for i in range(20)]
    assert archive.stats.files_written == len(files)


def test_a_failed_write_is_logged_counted_and_does_not_escape(tmp_path: Path) -> None:
    (tmp_path / "uzum").mkdir()
    (tmp_path / "uzum" / "product").write_text("a file where the directory should be")
    archive = Archive(tmp_path, "uzum", "product", batch_records=2, max_bytes=10**9)

    async def fill() -> None:
        for i in range(5):
            archive.add(str(i), 200, b"{}")
        await archive.flush()  # the failures are reported, not raised at the scanner

    with capture_logs() as logs:
        asyncio.run(fill())
    failed = [e for e in logs if e["event"] == "archive_write_failed"]
    assert len(failed) == 3  # 2 + 2 + 1
    assert failed[0]["file"].startswith("uzum/product/") and failed[0]["responses"] == 2
    assert (archive.stats.failed_writes, archive.stats.lost_responses) == (3, 5)
    assert archive.stats.last_error is not None
    assert archive.stats.files_written == 0
    assert not list(tmp_path.rglob("*.tmp"))


def test_one_pruner_walks_the_tree_at_a_time(tmp_path: Path) -> None:
    def fill(archive: Archive, n: int) -> None:
        async def go() -> None:
            for i in range(n):
                archive.add(str(i), 200, os.urandom(2000).hex().encode())
            await archive.flush()

        asyncio.run(go())

    fill(Archive(tmp_path, "uzum", "product", batch_records=10, max_bytes=10**9), 40)
    before = count_files(tmp_path, "uzum", "product")
    total = sum(p.stat().st_size for p in tmp_path.rglob("*.jsonl.gz"))
    capped = Archive(tmp_path, "uzum", "product", batch_records=10, max_bytes=total // 2)
    with (tmp_path / PRUNE_LOCK).open("a") as other:  # e.g. the retention job is walking it
        fcntl.flock(other, fcntl.LOCK_EX)
        assert prune_tree(tmp_path, total // 2) is None
        fill(capped, 10)  # its write would prune: it leaves that to the pruner at work
        assert count_files(tmp_path, "uzum", "product") == before + 1
    removed = prune_tree(tmp_path, total // 2)
    assert removed is not None and removed > 0
    assert sum(p.stat().st_size for p in tmp_path.rglob("*.jsonl.gz")) <= total // 2
