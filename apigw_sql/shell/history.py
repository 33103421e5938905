"""Where the shell keeps its history: `$XDG_DATA_HOME/apigw-sql/history` (~/.local/share by default).

The history holds the queries typed, so it is created 0600 in a 0700 folder (private_files).

>>> str(history_path({"XDG_DATA_HOME": "/data"}))
'/data/apigw-sql/history'
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from ..private_files import private_dir, private_file


def history_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "apigw-sql" / "history"


def open_history() -> tuple[Any, str | None]:
    """A prompt-toolkit history on disk; in memory (with a warning to print) when the file cannot be used."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    path = history_path()
    try:
        private_dir(path.parent, owned=path.parent)
        private_file(path)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        return InMemoryHistory(), f"warning: history is not saved: cannot write {path} ({exc.strerror or exc})"
    return FileHistory(str(path)), None
