"""SQL both the alerts and the analytics job need about the category tree, written once.

`closure_table(name)` materialises leaf → every ancestor (itself included) as a temporary table
of the current transaction, so "products of category X, subcategories included" is one join.
"""

from __future__ import annotations

# depth < 12: Uzum's tree is about 5 levels deep; the cap only stops a cycle in upstream data
CATEGORY_CLOSURE = """
WITH RECURSIVE up (leaf, cat, parent, depth) AS (
    SELECT id, id, parent_id, 0 FROM categories
    UNION ALL
    SELECT up.leaf, c.id, c.parent_id, up.depth + 1
    FROM up JOIN categories c ON c.id = up.parent WHERE up.depth < 12
)
SELECT DISTINCT leaf, cat FROM up"""


def closure_table(name: str) -> str:
    """CREATE TEMP TABLE `name` (leaf, cat) ON COMMIT DROP: `name` is a constant of the caller."""
    return f"CREATE TEMP TABLE {name} ON COMMIT DROP AS{CATEGORY_CLOSURE}"
