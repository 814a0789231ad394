"""Uzum visits: what each visit of a product id found, and the body fingerprints that let an
unchanged body skip parsing and storing.

A visit's facts (when, what it found, the fingerprint of the body the stored rows came from)
live in the narrow `uzum_visits` table (sql/012). The fingerprint is written by the sink in the
writer transaction that stores the rows it describes, so a crash can never leave a fingerprint
for data that was not written: after a crash the next visit finds the old fingerprint (or none),
sees a different body and parses it.

The fingerprint is of the raw body, not of the parsed records: it is computed before the body
is decoded (the fetcher hands the body to `Fingerprinter.reader`, so a match skips decoding,
the parser and the record building; the parsed-record variant would have to decode and parse
first, which is the larger part of what we want to save — tests/benchmarks/bench_rescan.py
prints both costs), and the one volatile field of the envelope, its trailing
`timestamp`, is left out. A body whose volatile fields are elsewhere is still correct, it only
never matches. The hash is XXH3-64 (non-cryptographic: the fingerprint guards against our own
needless work, not against an adversary; at over 10 GB/s it costs a few microseconds per body,
where the standard library's keyed BLAKE2b cost about as much as decoding the body and more
than the parsing it saves), seeded with a digest of the Uzum platform's own source, so a parser
change (an upgrade) makes every fingerprint differ once and every product is parsed again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import xxhash

from marketplaced.http import Decode, decode_json

#: the envelope's volatile tail: `…},"timestamp":"2025-12-05T05:45:20.620668008"}`
_TAIL = b',"timestamp":"'
#: the longest tail we strip (the key, an ISO time with nanoseconds, the closing brace)
_TAIL_MAX = 64

#: ids per fingerprint query of the scanner: at ~1,500 ids/s that is one query every few
#: seconds, each an index range scan of the primary key
LOAD_SPAN = 4096


def _source_seed() -> int:
    """A digest of the Uzum platform's modules (parser, records, storage …) as the hash seed,
    so bodies fingerprinted under another parser never count as already stored."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return int.from_bytes(digest.digest(), "big")


@dataclass(frozen=True, slots=True)
class Fingerprinter:
    """64-bit fingerprint of a product body, volatile envelope fields excluded."""

    seed: int = field(default_factory=_source_seed)

    def __call__(self, body: bytes) -> int:
        # the hash is fed the stable part in place: copying it out first (a slice, then "}"
        # appended) cost several times the hash itself, the largest part of an unchanged visit
        # after the request; the digest is the same as of the copied bytes
        digest = xxhash.xxh3_64(seed=self.seed)
        body, end = _stable_end(body)
        if end is None:
            digest.update(body)
        else:
            digest.update(memoryview(body)[:end])
            digest.update(b"}")
        return _signed64(digest.digest())

    def reader(self, stored: int | None) -> Decode:
        """The fetcher's reading of a body for an id whose stored rows have the fingerprint
        `stored`: that body comes back as `Unchanged`, undecoded, any other one decoded.

        Decoding was most of an unchanged visit's cost (a big product builds thousands of
        objects), and a body with the stored fingerprint decoded and parsed when it was stored,
        so it is known to decode; every other body is decoded where it was, in the fetcher, so
        one that does not decode is still retried there and then a parse failure of its id."""
        if stored is None:
            return decode_json

        def read(body: bytes) -> Any:
            fingerprint = self(body)
            return Unchanged(fingerprint) if fingerprint == stored else decode_json(body)

        return read


def _stable_end(body: bytes) -> tuple[bytes, int | None]:
    """The body without trailing whitespace and where its envelope's trailing `"timestamp"`
    member starts (None when there is none: the stable part is all of it). The stable part is
    the body up to there and the envelope's closing brace."""
    body = body.rstrip()
    at = body.rfind(_TAIL, max(0, len(body) - _TAIL_MAX))
    if at < 0 or not body.endswith(b'"}') or body.count(b'"', at + len(_TAIL)) != 1:
        return body, None
    return body, at


def _signed64(digest: bytes) -> int:
    """PostgreSQL's bigint is signed."""
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A body with the stored fingerprint, as `Fingerprinter.reader` reads it: not decoded."""

    fingerprint: int


@dataclass(frozen=True, slots=True)
class Revisit:
    """A visit whose body has the fingerprint of the stored rows: only the visit is recorded."""

    product_id: int
    fingerprint: int


_LOAD = """
SELECT product_id, fingerprint FROM uzum_visits
WHERE product_id BETWEEN $1 AND $2 AND fingerprint IS NOT NULL"""


async def load_fingerprints(pool: asyncpg.Pool, first: int, last: int) -> dict[int, int]:
    """The committed fingerprints of ids `first..last` (one range query)."""
    return {r["product_id"]: r["fingerprint"] for r in await pool.fetch(_LOAD, first, last)}


# -- what the sink writes ---------------------------------------------------------------------

#: after the products were stored: one row per stored product, `changed` when a product, SKU
#: (or SKU listing) row was written for it, `reparsed` when the body differed from the last one
#: but nothing stored did (a field we do not keep moved)
UPSERT_FOUND = """
INSERT INTO uzum_visits AS v (product_id, visited_at, last_seen, outcome, fingerprint)
SELECT id, $3, $3, CASE WHEN id = ANY($4::bigint[]) THEN 'changed' ELSE 'reparsed' END, fp
FROM unnest($1::bigint[], $2::bigint[]) AS t(id, fp)
ON CONFLICT (product_id) DO UPDATE SET visited_at = EXCLUDED.visited_at,
    last_seen = EXCLUDED.last_seen, outcome = EXCLUDED.outcome,
    fingerprint = EXCLUDED.fingerprint"""

#: a revisit (the body had the stored fingerprint, outcome `unchanged`) moves only the visit,
#: and only while the stored fingerprint is the one the scanner compared with (a batch
#: committed since may have stored other content for the id)
TOUCH_UNCHANGED = """
UPDATE uzum_visits v SET visited_at = $3, last_seen = $3, outcome = 'unchanged'
FROM unnest($1::bigint[], $2::bigint[]) AS t(id, fp)
WHERE v.product_id = t.id AND v.fingerprint = t.fp
RETURNING v.product_id"""

#: a revisit that lost that race: the next visit parses its body again
FORGET = "UPDATE uzum_visits SET fingerprint = NULL WHERE product_id = ANY($1::bigint[])"

#: a miss of an id that held a product: the product rows stay (as before), the visit says so
MISSED = """
UPDATE uzum_visits SET visited_at = $2, outcome = 'missing', fingerprint = NULL
WHERE product_id = ANY($1::bigint[])"""

#: SKUs of the stored products that their new content no longer lists: last seen at the
#: product's previous visit (run before UPSERT_FOUND moves it)
DELIST_SKUS = """
UPDATE skus k SET last_seen = coalesce(v.last_seen, $1)
FROM tmp_products t LEFT JOIN uzum_visits v ON v.product_id = t.id
WHERE k.product_id = t.id AND k.last_seen IS NULL
  AND NOT EXISTS (SELECT 1 FROM tmp_skus s WHERE s.id = k.id)
RETURNING k.product_id"""
