"""The configuration loader: TOML tables and environment → frozen section dataclasses.

A section is a frozen, slotted dataclass whose fields are declared with `option()` (default,
one-line help, range, choices, pattern or time zone, and the environment variable that
overrides it) or `secret()` (set only from the environment). A section with rules across its
fields adds a `problems()` method returning messages like "'sect.key' … expected …". Sections
live with the layer they configure — the core ones in `marketplaced.config`, the job ones in
`marketplaced.jobs.config` — and the root `Config` composes them. This module is the bottom of
that stack: it imports nothing of marketplaced but its errors, so any layer can declare a
section and be validated by this one loader without an import cycle. It is also the only
place that reads environment values (the root passes the environment in).

The loader works on a *layout*: the (table name, section class) pairs to read, which the root
builds from its own fields plus the sections the platforms declare (`layout(root, extra)`);
and on the built sections by name (`Mapping[str, section]`) when it checks or compares them.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marketplaced.errors import ConfigError


def option(
    default: Any,
    help: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    pattern: str | None = None,
    timezone: bool = False,
    env: str | None = None,
    env_suffix: str = "",
    repr: bool = True,
) -> Any:
    """A dataclass field carrying its validation rules and one-line documentation.

    `env` names the environment variable that overrides the file; several fields may share
    one, each adding its `env_suffix` to the variable's value (one origin for several hosts).
    `timezone` asks for an IANA zone name. `repr=False` keeps a value that may hold tokens out
    of logs and reprs."""
    meta = {
        "help": help,
        "lo": lo,
        "hi": hi,
        "choices": choices,
        "pattern": pattern,
        "timezone": timezone,
        "env": env,
        "env_suffix": env_suffix,
    }
    return field(default=default, repr=repr, metadata=meta)


def secret(env: str) -> Any:
    """A string set only from the environment variable `env` (a file may not hold it)."""
    return field(
        default="", repr=False, metadata={"help": "env only", "env_only": True, "env": env}
    )


#: (table name, section class) of every section a configuration reads
Layout = Sequence[tuple[str, type]]


def sections(root: type) -> Iterator[tuple[str, type]]:
    """(name, section class) of every section field of the root dataclass."""
    hints = typing.get_type_hints(root)
    for fld in dataclasses.fields(root):
        if dataclasses.is_dataclass(hints[fld.name]):
            yield fld.name, hints[fld.name]


def layout(root: type, extra: Sequence[tuple[str, type]] = ()) -> list[tuple[str, type]]:
    """The root's own sections, then `extra` (sections declared elsewhere, e.g. by the
    platforms); a name both claim is a programming error, refused here."""
    out = list(sections(root))
    for name, cls in extra:
        if any(name == known for known, _ in out):
            raise ValueError(f"configuration section [{name}] is declared twice")
        out.append((name, cls))
    return out


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            [
                f"{path}: configuration file not found (set MARKETPLACED_CONFIG "
                "or copy config/marketplaced.toml there)"
            ]
        ) from None
    except PermissionError:
        raise ConfigError(
            [
                f"{path}: cannot read the configuration file (permission denied); "
                "run as the service user or fix the file's mode"
            ]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the configuration file: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not valid UTF-8 text"]) from None


def build_sections(
    tables: Layout, raw: dict[str, Any], where: str, problems: list[str]
) -> dict[str, Any]:
    """Every section of the layout from its table in `raw` (a bad value is reported and left
    at its default, so later checks still run); unknown tables are reported too."""
    built: dict[str, Any] = {}
    for name, cls in tables:
        table = raw.pop(name, {})
        if not isinstance(table, dict):
            problems.append(f"{where}: [{name}] must be a table, got {type(table).__name__}")
            table = {}
        built[name] = _build_section(name, cls, table, where, problems)
    for unknown in raw:
        problems.append(
            f"{where}: unknown section or key '{unknown}' (known sections: "
            f"{', '.join(name for name, _ in tables)})"
        )
    return built


def _build_section(
    name: str, cls: Any, table: dict[str, Any], where: str, problems: list[str]
) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in table.items():
        fld = known.get(key)
        if fld is None or fld.metadata.get("env_only"):
            hint = " (secrets come only from the environment)" if fld is not None else ""
            problems.append(
                f"{where}: unknown key '{name}.{key}'{hint}; known keys: "
                f"{', '.join(k for k, f in known.items() if not f.metadata.get('env_only'))}"
            )
            continue
        problem = _check_value(f"{name}.{key}", value, hints[key], fld.metadata)
        if problem:
            problems.append(f"{where}: {problem}")
        else:
            values[key] = float(value) if hints[key] is float else value
    return cls(**values)


def _type_name(tp: Any) -> str:
    return {
        bool: "a boolean (true/false)",
        int: "an integer",
        float: "a number",
        str: "a string",
    }.get(tp, getattr(tp, "__name__", str(tp)))


def _check_value(key: str, value: Any, tp: Any, meta: Mapping[str, Any]) -> str | None:
    """Return a message when `value` does not fit `tp` and the field's rules, else None."""
    ok = (
        isinstance(value, bool)
        if tp is bool
        else isinstance(value, int) and not isinstance(value, bool)
        if tp is int
        else isinstance(value, int | float) and not isinstance(value, bool)
        if tp is float
        else isinstance(value, str)
        if tp is str
        else False
    )
    if not ok:
        return f"'{key}' must be {_type_name(tp)}, got {type(value).__name__} {value!r}"
    if tp is float and not math.isfinite(value):
        # TOML and float() both accept nan/inf; nan passes every range comparison, and one in
        # a rate or a sleep breaks the daemon at run time instead of here
        return f"'{key}' = {value!r} is not a finite number"
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return f"'{key}' = {value!r} is out of range; expected {lo} … {hi}"
    choices = meta.get("choices")
    if choices and value not in choices:
        return f"'{key}' = {value!r} is not one of {', '.join(choices)}"
    pattern = meta.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"'{key}' = {value!r} does not match the expected form {pattern}"
    if meta.get("timezone") and not is_timezone(value):
        return f"'{key}' = {value!r} is not a known time zone (e.g. Asia/Tashkent, UTC)"
    return None


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def env_assignments(tables: Layout, env: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(variable, section, key, text) for every field whose `env` variable is set in `env`;
    a shared variable gives each of its fields the value (without a trailing /) + its suffix."""
    out = []
    for name, cls in tables:
        for fld in dataclasses.fields(cls):
            var = fld.metadata.get("env")
            if var and env.get(var):
                suffix = fld.metadata.get("env_suffix", "")
                text = env[var].rstrip("/") + suffix if suffix else env[var]
                out.append((var, name, fld.name, text))
    return out


def apply_env(
    built: dict[str, Any],
    assignments: list[tuple[str, str, str, str]],
    problems: list[str],
) -> dict[str, Any]:
    """The sections with the environment's values applied; a bad value is reported (once per
    variable) and the section keeps the file's value."""
    changes: dict[str, dict[str, Any]] = {}
    for var, sect, key, text in assignments:
        tp = typing.get_type_hints(type(built[sect]))[key]
        meta = next(f.metadata for f in dataclasses.fields(built[sect]) if f.name == key)
        value, problem = _coerce_env(var, text, tp)
        if problem is None:
            check = _check_value(f"{sect}.{key}", value, tp, meta)
            problem = f"environment {var}: {check}" if check else None
        if problem:
            if not any(p.startswith(f"environment {var}") for p in problems):
                problems.append(problem)  # a shared variable is reported once, not per key
            continue
        changes.setdefault(sect, {})[key] = value
    return {name: dataclasses.replace(sec, **changes.get(name, {})) for name, sec in built.items()}


def _coerce_env(var: str, text: str, tp: Any) -> tuple[Any, str | None]:
    try:
        if tp is int:
            return int(text), None
        if tp is float:
            return float(text), None
    except ValueError:
        return None, f"environment {var}={text!r} must be {_type_name(tp)}"
    return text, None


def section_problems(built: Mapping[str, Any], where: str) -> list[str]:
    """What each section's own `problems()` finds across its fields, naming the file."""
    return [
        f"{where}: {problem}"
        for section in built.values()
        for problem in getattr(section, "problems", list)()
    ]


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted names of the settings that differ (secrets included by name only); a section
    only one side has counts as every one of its keys differing."""
    changed = []
    for name in [*old, *(n for n in new if n not in old)]:
        a, b = old.get(name), new.get(name)
        section: Any = a if a is not None else b
        for fld in dataclasses.fields(section):
            if getattr(a, fld.name, _ABSENT) != getattr(b, fld.name, _ABSENT):
                changed.append(f"{name}.{fld.name}")
    return changed


_ABSENT = object()


def documented_keys(tables: Layout) -> dict[str, str]:
    """Every file-settable key with its help text."""
    return {
        f"{name}.{fld.name}": fld.metadata["help"]
        for name, cls in tables
        for fld in dataclasses.fields(cls)
        if not fld.metadata.get("env_only")
    }
