"""The one loader every configuration section goes through: a section declared by any layer
(here a toy one) gets the same checks, environment overrides and cross-field rules as the
core sections, and the root composes it with a plain dataclass field."""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplaced import config_loader as loader
from marketplaced.config_loader import option, secret


@dataclass(frozen=True, slots=True)
class _ToyConfig:
    rps: float = option(2.0, "requests per second", lo=0, hi=100, env="TOY_RPS")
    zone: str = option("UTC", "time zone", timezone=True)
    api_url: str = option("https://a.example", "api host", env="TOY_BASE", env_suffix="/api")
    web_url: str = option("https://w.example", "web host", env="TOY_BASE", env_suffix="/web")
    first: int = option(1, "lowest id", lo=1, hi=10**6)
    last: int = option(10, "highest id", lo=1, hi=10**6)
    key: str = secret("TOY_KEY")

    def problems(self) -> list[str]:
        return ["'toy.first' must not exceed 'toy.last'"] if self.first > self.last else []


@dataclass(frozen=True, slots=True)
class _Root:
    toy: _ToyConfig = field(default_factory=_ToyConfig)
    source: str = ""


def _load(raw: dict[str, object], env: dict[str, str]) -> tuple[_Root, list[str]]:
    problems: list[str] = []
    tables = loader.layout(_Root)
    built = loader.build_sections(tables, raw, "t.toml", problems)
    built = loader.apply_env(built, loader.env_assignments(tables, env), problems)
    root = _Root(**built)
    return root, problems + loader.section_problems(built, "t.toml")


def test_a_section_from_any_layer_is_validated_like_the_core_ones() -> None:
    root, problems = _load(
        {"toy": {"rps": float("nan"), "zone": "Mars/Olympus", "first": 20, "key": "x"}, "x": 1},
        {},
    )
    assert any("'toy.rps' = nan is not a finite number" in p for p in problems), problems
    assert any("'toy.zone' = 'Mars/Olympus' is not a known time zone" in p for p in problems)
    assert any("'toy.key' (secrets come only from the environment)" in p for p in problems)
    assert any("unknown section or key 'x'" in p for p in problems)
    assert "t.toml: 'toy.first' must not exceed 'toy.last'" in problems
    assert root.toy.rps == 2.0 and root.toy.zone == "UTC"  # bad values stay at their defaults


def test_environment_overrides_are_declared_by_the_section() -> None:
    root, problems = _load(
        {}, {"TOY_RPS": "5", "TOY_BASE": "http://127.0.0.1:9/", "TOY_KEY": "s3cret"}
    )
    assert problems == []
    assert root.toy.rps == 5.0 and root.toy.key == "s3cret"
    assert (root.toy.api_url, root.toy.web_url) == (
        "http://127.0.0.1:9/api",
        "http://127.0.0.1:9/web",
    )
    assert "s3cret" not in repr(root)
    _, bad = _load({}, {"TOY_RPS": "fast"})
    assert bad == ["environment TOY_RPS='fast' must be a number"]


def test_documented_keys_and_diff_cover_every_section_of_a_root() -> None:
    keys = loader.documented_keys(loader.layout(_Root))
    assert set(keys) == {
        "toy.rps",
        "toy.zone",
        "toy.api_url",
        "toy.web_url",
        "toy.first",
        "toy.last",
    }
    old, _ = _load({}, {})
    new, _ = _load({"toy": {"last": 11}}, {})
    assert loader.diff({"toy": old.toy}, {"toy": new.toy}) == ["toy.last"]
