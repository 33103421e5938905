"""The user's configuration file, ``$XDG_CONFIG_HOME/apigw-sql/config.toml`` (``~/.config/...`` by default).

Each feature reads its own keys from it (``cloudtrail_logs``, ``controls_dirs``) and reports its own
mistakes; this module only says where the file is and reads it.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "apigw-sql" / "config.toml"


def read_config() -> dict[str, Any]:
    """The file's keys ({} when there is no file); raises ValueError("cannot read PATH: why")."""
    path = config_file()
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
