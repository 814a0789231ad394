"""The jobs layer, the config loader and the daemon import downward only, and names say what
they hold: importing a job module or a config section does not run the jobs service, no module
needs an import inside a function to break a cycle, and nothing below the daemon imports it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.helpers import source

PACKAGE = Path(__file__).resolve().parents[1] / "marketplaced"

#: the entry points that run the daemon; everything else is below it
_DAEMON_USERS = {"cli.py", "demo.py"}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, imported inside a function) for every import in `path`."""
    tree = source.parse(path)
    nested = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
    }
    out: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            out += [(name, id(node) in nested) for name in names]
        elif isinstance(node, ast.Import):
            out += [(a.name, id(node) in nested) for a in node.names]
    return out


def _loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `statement`."""
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_nothing_below_the_daemon_imports_it() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name not in _DAEMON_USERS or path.parent != PACKAGE
        if any(name == "marketplaced.daemon" for name, _ in _imports(path))
    ]
    assert offenders == [], f"import the Redis client or the service they need instead: {offenders}"


def test_importing_the_jobs_package_runs_no_job_module() -> None:
    loaded = _loaded_after("import marketplaced.jobs")
    jobs_modules = sorted(m for m in loaded if m.startswith("marketplaced.jobs."))
    assert jobs_modules == []
    assert "apscheduler" not in loaded and "asyncpg" not in loaded


def test_class_names_say_which_one_they_are() -> None:
    """Two classes of one name (the sd_notify and the Apprise notifier were both `Notifier`)
    send a reader to the wrong file; the simulator, a separate program, is left out."""
    where: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "simulator" in path.relative_to(PACKAGE).parts:
            continue
        for node in source.parse(path).body:
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: files for name, files in where.items() if len(files) > 1} == {}


#: the configuration stack: the loader at the bottom, sections above it, the root on top
_CONFIG_MODULES = ("config_loader.py", "config.py", "jobs/config.py", "jobs/triggers.py")


def test_the_config_stack_needs_no_import_inside_a_function() -> None:
    lazy = {
        module: [name for name, nested in _imports(PACKAGE / module) if nested]
        for module in _CONFIG_MODULES
    }
    assert {m: names for m, names in lazy.items() if names} == {}


def test_the_jobs_sections_load_without_the_root_config_or_the_jobs_service() -> None:
    loaded = _loaded_after("import marketplaced.jobs.config")
    assert "marketplaced.config" not in loaded
    heavy = {"marketplaced.jobs.service", "marketplaced.jobs.scheduler", "asyncpg", "apprise"}
    assert heavy & loaded == set()
