"""The garbage collector's policy of the scanning commands (the daemon, one-shot runs).

A scan allocates container objects far faster than anything else in the process: decoding one
218 KB product builds thousands of dicts and lists, and with Python's own thresholds (a young
collection every 700 net allocations) the collector runs several times inside each decode,
traversing the half-built payload and promoting it to the older generations, which are then
traversed again. None of it is ever cyclic garbage: a decoded body is freed by reference
counting the moment the parser is done with it. So the young generation is made large (a
collection every `daemon.gc_threshold` allocations: a big product's decode fits in one) and
the older ones are collected more rarely; and what start-up created (modules, config, pools,
compiled SQL) is frozen out of the collector's reach, since it lives as long as the process
and would otherwise be re-traversed by every full collection. Cycles are still collected.
"""

from __future__ import annotations

import gc

from marketplaced import log
from marketplaced.config import DaemonConfig

_log = log.get(__name__)

#: young collections per middle one and middle per full one at the raised threshold: with a
#: young collection per 50,000 allocations, Python's 10/10 would still run a full collection
#: every 5 million allocations (a few seconds of scanning); 20/100 makes that every 100 million
OLDER_THRESHOLDS = (20, 100)


def apply(cfg: DaemonConfig) -> None:
    """Set the thresholds and freeze what exists; call once start-up has built its objects."""
    if cfg.gc_threshold:
        gc.set_threshold(cfg.gc_threshold, *OLDER_THRESHOLDS)
    if cfg.gc_freeze:
        gc.collect()  # start-up's own garbage is freed, not frozen
        gc.freeze()
    _log.debug("gc_policy_applied", thresholds=gc.get_threshold(), frozen=gc.get_freeze_count())
