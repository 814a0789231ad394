"""The Uzum category tree: real top-level categories with seeded subtrees, and their JSON shapes.

``build_tree`` grows a 2–3-level subtree under every real top-level category from the
vocabulary (a third of level-3 nodes split into level-4 leaves), grafts the chains recorded in
the fixtures with their real ids, and gives every node the product count it should expect when
products pick a leaf uniformly. ``chain`` and ``node`` render a category the way a product's
``category`` field and the root-categories / category endpoints show it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from marketplaced.simulator.rng import between, stable_hash
from marketplaced.simulator.uzum import salts
from marketplaced.simulator.uzum.templates import JsonDict
from marketplaced.simulator.uzum.vocabulary import KNOWN_CHAINS, QUALIFIERS, TOPS

#: generated category ids start above every real Uzum category id seen (≈ 17 000)
_GENERATED_CATEGORY_BASE: Final = 20_000


@dataclass(frozen=True, slots=True)
class Category:
    """One node of the category tree."""

    id: int
    title: str
    parent_id: int | None
    path: tuple[int, ...]  # ids from the top-level category down to this one
    adult: bool
    product_amount: int
    children: tuple[int, ...]
    noun: tuple[str, str] | None  # (uz, ru) product noun, set on leaves


@dataclass(slots=True)
class _NodeDraft:
    id: int
    title: str
    parent_id: int | None
    adult: bool
    noun: tuple[str, str] | None
    children: list[int]


def _plural(noun: str) -> str:
    return noun + "lar"


def build_tree(seed: int, expected_products: float) -> dict[int, Category]:
    """Real top-level categories with seeded 2–3-level subtrees; product amounts are expected
    counts (products pick a leaf uniformly)."""
    ids = iter(range(_GENERATED_CATEGORY_BASE, 1 << 31))
    drafts: dict[int, _NodeDraft] = {}

    def add(
        cid: int | None, title: str, parent: int | None, adult: bool, noun: tuple[str, str] | None
    ) -> int:
        node_id = next(ids) if cid is None else cid
        drafts[node_id] = _NodeDraft(node_id, title, parent, adult, noun, [])
        if parent is not None:
            drafts[parent].children.append(node_id)
        return node_id

    for top in TOPS:
        rng = random.Random(stable_hash(seed, salts.TREE, top.id))
        add(top.id, top.title, None, False, None)
        fixed = [b for b in top.branches if b[0] is not None]
        free = [b for b in top.branches if b[0] is None]
        # every top keeps its real branches plus a seeded selection of the generated ones
        chosen = fixed + rng.sample(free, k=between(rng, min(1, len(free)), len(free)))
        for branch_id, title, adult, nouns in chosen:
            branch = add(branch_id, title, top.id, adult, None)
            for noun in nouns:
                leaf = add(None, _plural(noun[0]), branch, adult, noun)
                if rng.random() < 0.3:  # ≈ a third of level-3 nodes split into level-4 leaves
                    drafts[leaf].noun = None
                    for qualifier in rng.sample(QUALIFIERS, k=2):
                        add(None, f"{qualifier} {_plural(noun[0]).lower()}", leaf, adult, noun)
    for chain, noun in KNOWN_CHAINS:
        parent = chain[0][0]
        for cid, title in chain[1:]:
            if cid not in drafts:
                add(cid, title, parent, False, None)
            parent = cid
        drafts[parent].noun = noun

    leaves = [d for d in drafts.values() if not d.children]
    per_leaf = expected_products / max(1, len(leaves))
    amounts: dict[int, int] = {}

    def amount(node_id: int) -> int:
        node = drafts[node_id]
        total = round(per_leaf) if not node.children else sum(amount(c) for c in node.children)
        amounts[node_id] = total
        return total

    def path(node_id: int) -> tuple[int, ...]:
        parent = drafts[node_id].parent_id
        return (node_id,) if parent is None else (*path(parent), node_id)

    for top in TOPS:
        amount(top.id)
    return {
        d.id: Category(
            d.id,
            d.title,
            d.parent_id,
            path(d.id),
            d.adult,
            amounts[d.id],
            tuple(d.children),
            d.noun,
        )
        for d in drafts.values()
    }


def leaf_ids(categories: dict[int, Category]) -> list[int]:
    """The ids of the categories products are filed under, in id order."""
    return sorted(c.id for c in categories.values() if not c.children)


def chain(categories: dict[int, Category], category_id: int) -> JsonDict:
    """A category with its parents nested inside it, as a product's ``category`` shows it."""
    cat = categories[category_id]
    return {
        "id": cat.id,
        "title": cat.title,
        "productAmount": cat.product_amount,
        "parent": None if cat.parent_id is None else chain(categories, cat.parent_id),
    }


def node(categories: dict[int, Category], category_id: int) -> JsonDict:
    """A category in the root-categories shape, with its whole subtree."""
    cat = categories[category_id]
    return {
        "id": cat.id,
        "title": cat.title,
        "productAmount": cat.product_amount,
        "adult": cat.adult,
        "eco": False,
        "children": [node(categories, c) for c in cat.children],
        "path": list(cat.path),
    }
