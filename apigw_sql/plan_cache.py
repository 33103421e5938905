"""The analyses of statements kept on disk: which catalog tables a statement reads and the filters pushed to
each, so that a later run plans the shipped controls without parsing their SQL again.

One file per statement, ``$XDG_CACHE_HOME/apigw-sql/plans/DIGEST.json``: DIGEST is that of the statement's
text, the catalogue (every table spec) and the code that analyses it (the tool's version and the source of
pushdown.py and engine.py), so a changed control, table file or analyser is a new file. Only an analysis that
depends on nothing else is kept: one whose statement names catalog tables only (no view, file or table of
the session, whose meaning the database decides). The file is read under the same owner and mode checks
as the call cache's (call_cache.py) and must record the statement it is filed under; anything else is
ignored and the statement analysed again. Constant expressions (``getvariable('x')``) are kept as they are
written and evaluated in each run, as before.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from . import pushdown
from .private_files import DIR_MODE, UntrustedFile, cache_root, source_digest, private_dir, read_private, write_private_atomically

FORMAT = 1
_ANALYSER_MODULES = ("pushdown.py", "engine.py", "plan_cache.py")


class PlanCache:
    """The kept analyses for one catalogue."""

    def __init__(self, catalog: Any):
        self.folder = cache_root("plans")
        salt = hashlib.sha256(source_digest(_ANALYSER_MODULES).encode())
        specs = [dataclasses.asdict(catalog[name]) for name in sorted(catalog)]
        salt.update(json.dumps(specs, sort_keys=True, default=_plain).encode())
        self._salt = salt.hexdigest()
        self._trusted = False

    def _path(self, statement: str) -> Path:
        return self.folder / (hashlib.sha256((self._salt + "\0" + statement).encode()).hexdigest() + ".json")

    def get(self, statement: str) -> dict[str, pushdown.TableUse] | None:
        """The kept analysis of `statement` (fresh objects: the caller may change them), or None."""
        path = self._path(statement)
        try:
            data, _ = read_private(path)
        except (OSError, UntrustedFile):
            return None
        if not self._folders_trusted():
            return None
        try:
            record = json.loads(data)
            if record.get("format") != FORMAT or record.get("statement") != statement:
                return None
            return {name: pushdown.TableUse(
                name, {column: {_value(v) for v in values} for column, values in use["constraints"].items()},
                {column: pushdown.Bounds(_value(b[0]), bool(b[1]), _value(b[2]), bool(b[3]))
                 for column, b in use["bounds"].items()}) for name, use in record["uses"].items()}
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None

    def put(self, statement: str, uses: dict[str, pushdown.TableUse]) -> None:
        """Keeps an analysis; one holding a value of another kind than text or a constant expression is not kept."""
        try:
            record = {"format": FORMAT, "statement": statement,
                      "uses": {name: {"constraints": {c: [_json(v) for v in values]
                                                      for c, values in use.constraints.items()},
                                      "bounds": {c: [_json(b.low), b.low_inclusive, _json(b.high), b.high_inclusive]
                                                 for c, b in use.bounds.items()}}
                               for name, use in uses.items()}}
            data = json.dumps(record, sort_keys=True).encode()
            private_dir(self.folder, owned=self.folder.parent)
            write_private_atomically(self._path(statement), data)
        except (TypeError, ValueError, OSError):
            return

    def _folders_trusted(self) -> bool:
        """plans/ and apigw-sql/ are this user's and 0700 (checked once a process)."""
        if not self._trusted:
            try:
                for folder in (self.folder, self.folder.parent):
                    info = os.lstat(folder)
                    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid()
                            or stat.S_IMODE(info.st_mode) != DIR_MODE):
                        return False
            except OSError:
                return False
            self._trusted = True
        return True


def _json(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, pushdown.Pending):
        return {"pending": value.sql}
    raise TypeError(type(value).__name__)


def _value(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return pushdown.Pending(str(value["pending"]))


def _plain(value: Any) -> Any:
    return sorted(value, key=str) if isinstance(value, (set, frozenset)) else str(value)
