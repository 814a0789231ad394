"""No index of the migrated schema is a plain prefix of another on the same table: the longer
one serves every lookup of the shorter, which only costs an entry per row written and disk."""

from __future__ import annotations

import asyncpg

#: plain b-tree indexes (no expression, no predicate, not unique: a unique or primary key
#: index enforces something a longer index does not) whose columns lead another b-tree index
#: of the same table in the same order and direction
_REDUNDANT = """
SELECT s.indexrelid::regclass::text AS short, l.indexrelid::regclass::text AS long
FROM pg_index s
JOIN pg_index l ON l.indrelid = s.indrelid AND l.indexrelid <> s.indexrelid
JOIN pg_class si ON si.oid = s.indexrelid
JOIN pg_class li ON li.oid = l.indexrelid
JOIN pg_am sa ON sa.oid = si.relam AND sa.amname = 'btree'
JOIN pg_am la ON la.oid = li.relam AND la.amname = 'btree'
JOIN pg_namespace n ON n.oid = si.relnamespace AND n.nspname = 'public'
WHERE NOT s.indisunique AND s.indexprs IS NULL AND s.indpred IS NULL AND l.indpred IS NULL
  AND s.indnkeyatts < l.indnkeyatts
  AND (l.indkey::int2[])[0:s.indnkeyatts - 1] = (s.indkey::int2[])[0:s.indnkeyatts - 1]
  AND (l.indoption::int2[])[0:s.indnkeyatts - 1] = (s.indoption::int2[])[0:s.indnkeyatts - 1]
  AND 0 <> ALL ((s.indkey::int2[])[0:s.indnkeyatts - 1])
ORDER BY 1, 2"""


async def test_no_index_is_a_prefix_of_another(pool: asyncpg.Pool) -> None:
    assert [tuple(r) for r in await pool.fetch(_REDUNDANT)] == []
