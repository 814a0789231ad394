"""Shared SQL is written once: the jobs' category-closure walk has one text, which both the
alerts and the analytics statements build their temporary tables from."""

from __future__ import annotations

from pathlib import Path

import marketplaced
from marketplaced.jobs import alerts_sql, analytics_sql, category_sql

JOBS = Path(marketplaced.__file__).resolve().parent / "jobs"


def test_the_category_closure_is_written_once_in_the_jobs() -> None:
    walks = {
        p.name: p.read_text(encoding="utf-8").count("WITH RECURSIVE")
        for p in sorted(JOBS.glob("*.py"))
    }
    assert {name: n for name, n in walks.items() if n} == {"category_sql.py": 1}
    for statement in (alerts_sql.CLOSURE, analytics_sql.CLOSURE):
        assert statement.endswith(category_sql.CATEGORY_CLOSURE)
