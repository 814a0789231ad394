"""The raw archive: compressed batches, references that point at the right body, size cap."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

from marketplaced.archive import Archive, count_files, iter_records


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
        assert '"key": "1049"' in fh.read()


def test_unreadable_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "uzum" / "product" / "20260101" / "000000-000001.jsonl.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt") as fh:
        fh.write('{"key": "1", "status": 200, "fetched_at": 1.0, "body": "{}"}\n')
        fh.write("this is not json\n")
        fh.write('{"key": "3", "status": 404, "fetched_at": 1.0, "body": ""}\n')
    assert [r.key for _, r in iter_records(tmp_path, "uzum", "product")] == ["1", "3"]
