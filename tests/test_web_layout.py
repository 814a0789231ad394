"""The web layer's shape: nothing in it is left that nothing uses.

A helper nobody calls still reads as a feature (the alert-table browser once did). This walks the
syntax trees of the package and of the tests (a test double such as `StaticStatus` is a use), so
it needs no database."""

from __future__ import annotations

import ast
from pathlib import Path

import marketplaced
from tests.helpers import source

PACKAGE = Path(marketplaced.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent


def _trees(root: Path) -> dict[Path, ast.Module]:
    return {p: source.parse(p) for p in root.rglob("*.py")}


def _used_names(tree: ast.Module) -> set[str]:
    """Every name a module reads, the attributes it reaches and the names it imports."""
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.alias):
            used.add(node.name.rsplit(".", 1)[-1])
    return used


def test_every_public_function_and_class_of_the_web_layer_is_used() -> None:
    trees = _trees(PACKAGE)
    used: set[str] = set()
    for tree in [*trees.values(), *_trees(TESTS).values()]:
        used |= _used_names(tree)
    unused = [
        f"{path.relative_to(PACKAGE.parent)}: {node.name}"
        for path, tree in trees.items()
        if path.is_relative_to(PACKAGE / "web")
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
        and node.name not in used
    ]
    assert unused == []


def test_no_web_module_is_named_like_another_module_it_is_not() -> None:
    """A name sends a reader to one file: a top-level web module is not also a view, and no web
    module is named like a top-level module of the package (`queries/ops.py` beside `ops.py`).
    A view and its queries are the one allowed pair (`views/catalog.py` reads
    `queries/catalog.py`)."""
    web = PACKAGE / "web"
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    web_top = {p.stem for p in web.glob("*.py")} - {"__init__"}
    views = {p.stem for p in (web / "views").glob("*.py")} - {"__init__"}
    queries = {p.stem for p in (web / "queries").glob("*.py")} - {"__init__"}
    clashes = {
        "web/ and web/views/": web_top & views,
        "web/ and web/queries/": web_top & queries,
        "the package and web/": top & web_top,
        "the package and web/views/": top & views,
        "the package and web/queries/": top & queries,
    }
    assert {where: names for where, names in clashes.items() if names} == {}
