"""Shared data has one source: one string cleaner for every parser, no code nothing uses, no
table-existence checks the schema check already makes.

These read the package (and two recorded payloads); none needs a database.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import marketplaced
from marketplaced.config import BROWSER_USER_AGENT
from marketplaced.platforms.uzex.config import UzexConfig
from marketplaced.platforms.uzex.parser import parse_completed_deals
from marketplaced.platforms.uzex.values import MAX_NAME_CHARS
from marketplaced.platforms.uzum.config import UzumConfig
from marketplaced.platforms.uzum.fields import TITLE_MAX
from marketplaced.platforms.uzum.parser import parse_product
from marketplaced.platforms.uzum.records import ProductSnapshot
from tests.helpers import recorded, source

PACKAGE = Path(marketplaced.__file__).resolve().parent

#: ten NULs ahead of a name far beyond every cap: the cap counts what arrived, NUL included
HOSTILE = "\x00" * 10 + "Ж" * 50_000 + "\ud800"


def test_uzum_and_uzex_store_the_same_hostile_string_the_same_way() -> None:
    envelope = json.loads(recorded.uzum_text(1772350), strict=False)
    envelope["payload"]["data"]["title"] = HOSTILE
    snapshot = parse_product(200, envelope, 1772350)
    assert isinstance(snapshot, ProductSnapshot)

    row = recorded.uzex_json("auction_GetCompletedDeals.capture.json")[0]
    row["customer_name"] = HOSTILE
    (lot,) = parse_completed_deals("auction", [row]).lots

    # both capped first, then cleaned: the ten NULs cost ten characters of the cap on each side
    assert snapshot.product.title == "Ж" * (TITLE_MAX - 10)
    assert lot.customer_name == "Ж" * (MAX_NAME_CHARS - 10)


def _used_by_the_package() -> set[str]:
    """Every name the package's own code reads, reaches as an attribute or imports."""
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(source.parse(path)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.alias):
                used.add(node.name.rsplit(".", 1)[-1])
    return used


def test_errors_and_parsers_define_nothing_only_tests_use() -> None:
    # a parser nobody calls (the shop and root-category endpoints once had one) or an error
    # nothing raises reads as a feature; tests alone do not count as a use
    used = _used_by_the_package()
    modules = [
        PACKAGE / "errors.py",
        *sorted((PACKAGE / "platforms" / "uzum").glob("*.py")),
        *sorted((PACKAGE / "platforms" / "uzex").glob("*.py")),
    ]
    unused = [
        f"{path.relative_to(PACKAGE.parent)}: {node.name}"
        for path in modules
        for node in source.parse(path).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
        and node.name not in used
    ]
    assert unused == []


def test_no_code_asks_whether_a_table_exists() -> None:
    # the daemon and every command refuse a schema other than the expected one (db.check_schema),
    # so every table exists; a "does it exist" probe only hides a real error behind "no data"
    allowed = {PACKAGE / "db.py", PACKAGE / "web" / "queries" / "db_sizes.py"}
    probing = [
        str(path.relative_to(PACKAGE.parent))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in allowed and "to_regclass" in path.read_text(encoding="utf-8")
    ]
    assert probing == []


def test_the_browser_user_agent_is_written_once() -> None:
    # it was written three times, in two versions: the fetcher's default headers, and the
    # defaults of the Uzum and UZEX sections; the simulator only checks for a browser's prefix
    writers = {
        str(path.relative_to(PACKAGE.parent)): text.count("Mozilla/5.0 (")
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.is_relative_to(PACKAGE / "simulator")
        if "Mozilla/5.0 (" in (text := path.read_text(encoding="utf-8"))
    }
    assert writers == {"marketplaced/config.py": 1}
    assert UzumConfig().user_agent == UzexConfig().user_agent == BROWSER_USER_AGENT
