"""Test settings: the test credentials (environment, or `.env.test` written by
`./install.sh --test`) and `base_config`, a config of defaults plus those credentials."""

from __future__ import annotations

import os
from pathlib import Path

from marketplaced import platforms
from marketplaced.config import Config

ROOT = Path(__file__).resolve().parents[2]


def _load_env_file() -> None:
    env_file = ROOT / ".env.test"
    if not env_file.is_file():
        return
    for line in env_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            os.environ.setdefault(key.strip(), value.strip())


_load_env_file()


def env_for_tests() -> dict[str, str]:
    """The environment a test config is built from: DB/Redis settings only, nothing else leaks."""
    keys = ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "REDIS_HOST", "REDIS_PORT", "REDIS_DB")
    return {k: os.environ[k] for k in keys if k in os.environ}


def base_config(**sections: dict[str, object]) -> Config:
    """Defaults + test credentials + overrides per section (e.g. uzum={"rps": 0}); a name
    that is not a core section is a platform's."""
    cfg = platforms.load_config(env_for_tests(), path=None)
    for name, vals in sections.items():
        cfg = cfg.with_values(name, **vals)
    return cfg
