"""The history row in effect at an instant (the latest one before it), newest month first.

History is partitioned by month. Asked "latest row of this SKU before $1" across every
partition at once, PostgreSQL opens an index scan in each partition and merges them: a
history of N months costs N index descents per SKU, for a row that is nearly always in the
newest one or two months. So the probe asks this month's range first, then the month before,
then everything older, and stops at the first range that has a row (a UNION ALL of ranges
under LIMIT 1 runs its branches in order). Each range is bounded, so partition pruning at
executor start-up leaves it one partition (the default one included only where no partition
covers it). The ranges tile the time before the instant, so the row found is the same.
"""

from __future__ import annotations

# the UTC month of `t` (partitions are UTC months, sql/001_daemon.sql); an instant expression
_MONTH = "(date_trunc('month', {t} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


def latest_before(table: str, match: str, columns: str, before: str) -> str:
    """A subquery for CROSS JOIN LATERAL: `columns` of the latest row of `table` (alias h)
    that satisfies `match` with observed_at < `before` (an SQL expression, e.g. "$1")."""
    month = _MONTH.format(t=before)
    previous = f"({month} - interval '1 month')"
    ranges = (
        f"h.observed_at >= {month} AND h.observed_at < {before}",
        f"h.observed_at >= {previous} AND h.observed_at < {month}",
        f"h.observed_at < {previous}",
    )
    branches = " UNION ALL ".join(
        f"(SELECT {columns} FROM {table} h WHERE {match} AND {r} "  # noqa: S608 - constants
        "ORDER BY h.observed_at DESC LIMIT 1)"
        for r in ranges
    )
    return f"(SELECT * FROM ({branches}) latest LIMIT 1)"  # noqa: S608 - constant fragments
