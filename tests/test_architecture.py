"""The package's import graph against the layers documented in docs/architecture.md.

Every import counts, including those inside functions and under TYPE_CHECKING, so a lazy import
cannot hide a cycle. `from package import submodule` is an import of the submodule.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections import defaultdict
from pathlib import Path

from tests.helpers import source

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "marketplaced"
DOC = ROOT / "docs" / "architecture.md"


def layers() -> list[tuple[str, list[str]]]:
    """(layer name, module patterns) bottom-up, from the doc's table."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (\d+) (\w+) \| (.+?) \| .+ \|$", line)
        if match:
            patterns = re.findall(r"`([^`]*)`", match.group(3))
            rows.append((int(match.group(1)), match.group(2), patterns))
    assert [n for n, _, _ in rows] == list(range(1, len(rows) + 1)), "layers numbered 1…n"
    return [(name, patterns) for _, name, patterns in rows]


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the package modules it imports (names relative to the package)."""
    edges: dict[str, set[str]] = defaultdict(set)

    def local(name: str) -> str | None:
        if name == "marketplaced":
            return ""
        if name.startswith("marketplaced."):
            return name.removeprefix("marketplaced.")
        return None

    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(source.parse(path)):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [t for a in node.names if (t := local(a.name)) is not None]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = package.split(".") if package else []
                    base_parts = base_parts[: len(base_parts) - node.level + 1]
                    base = ".".join([*base_parts, *([node.module] if node.module else [])])
                else:
                    found = local(node.module or "")
                    if found is None:
                        continue
                    base = found
                subs = [f"{base}.{a.name}".lstrip(".") for a in node.names]
                targets = [s for s in subs if s in mods]
                if len(targets) < len(subs):
                    targets.append(base)
            edges[mod].update(t for t in targets if t in mods and t != mod)
    return edges


def layer_of(mod: str, table: list[tuple[str, list[str]]]) -> int | None:
    for index, (_, patterns) in enumerate(table):
        if any(fnmatch.fnmatchcase(mod, p) for p in patterns):
            return index
    return None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_every_module_belongs_to_a_documented_layer() -> None:
    table = layers()
    assert [name for name, _ in table][:2] == ["foundation", "config"]
    assert sorted(m for m in modules() if layer_of(m, table) is None) == []


def test_no_module_imports_a_higher_layer() -> None:
    table = layers()
    mods = modules()
    upward = []
    for mod, targets in sorted(imports(mods).items()):
        for target in sorted(targets):
            here, there = layer_of(mod, table), layer_of(target, table)
            if here is not None and there is not None and there > here:
                upward.append(f"{mod} ({table[here][0]}) imports {target} ({table[there][0]})")
    assert upward == []


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(imports(modules())) == []


def test_the_checker_sees_imports_inside_functions_and_cycles(tmp_path: Path) -> None:
    """The walker must see an import inside a function, and report the cycle it closes."""
    (tmp_path / "a.py").write_text("from marketplaced import b\n")
    (tmp_path / "b.py").write_text("def later():\n    from marketplaced.a import thing\n")
    edges = imports({"a": tmp_path / "a.py", "b": tmp_path / "b.py"})
    assert edges == {"a": {"b"}, "b": {"a"}}
    assert cycles(edges) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a"}}) == []
