"""The call cache on disk: answers of read-only calls kept across runs, so that a second `check` within
``--ttl`` makes no call at all.

One file per call, ``$XDG_CACHE_HOME/apigw-sql/calls/SCOPE/ACCOUNT/DIGEST.json``: SCOPE is a digest of
where calls go (the endpoint URL, AWS_ENDPOINT_URL*, the profile), so a sandbox's answers are never
served for real AWS nor one endpoint's for another; ACCOUNT and the call's key (account, region,
service, operation, parameters) are in the path and recorded in the file, with the wall-clock time the
answer was fetched. Pages are written as the executor keeps them: already scrubbed of secrets.

The cache is evidence, so a file is used only when it can only have been written by this user through
this module: a file not owned by the user or writable by group or others, in a folder (from
``apigw-sql`` down) not owned by the user or not 0700, a file that does not parse, or one whose
recorded key is not the key asked for, is refused: one warning per process on stderr, and the call is
made live. There is no HMAC: its key would have to live in this user's files, where anyone able to
write the cache as this user can read it; the owner and mode checks keep other users out, the atomic
writes keep half-written files out, and the key check keeps a misplaced file out.

Bound: the first write of a process deletes cache files older than a day (or than the TTL, when
longer), so the cache holds at most a day of answers per endpoint.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, NamedTuple

from .errors import ApigwSqlError
from .private_files import DIR_MODE, RefusalNotice, UntrustedFile, cache_root, private_dir, read_private, write_private_atomically
from .table_cache import file_identity

FORMAT = 1
# Files older than this (or than the TTL, when longer) are deleted by the first write of a process.
MAX_AGE = 24 * 3600.0
# The environment variable that turns the cache on disk off (any value but "" and "0").
DISABLE_VARIABLE = "APIGW_SQL_NO_CACHE"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def disabled_by_environment() -> bool:
    """Whether $APIGW_SQL_NO_CACHE turns the cache on disk off."""
    return os.environ.get(DISABLE_VARIABLE, "") not in ("", "0")


def calls_root() -> Path:
    """The folder of the call cache (beside the downloaded log files)."""
    return cache_root("calls")


def scope_of(endpoint_url: str | None, profile: str | None) -> str:
    """The folder name of the calls sent to one place: a digest of the endpoint and profile settings.

    boto3 also reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, so those are part of it.
    """
    endpoints = sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL"))
    where = {"endpoint_url": endpoint_url, "environment": endpoints,
             "profile": profile if profile is not None else os.environ.get("AWS_PROFILE")}
    return hashlib.sha256(json.dumps(where, sort_keys=True).encode()).hexdigest()[:24]


class Stored(NamedTuple):
    """An answer read from disk: when it was fetched (time.time()) and what it was."""

    fetched_at: float
    answer: Any  # the pages, or ("error", code, message) for an expected error
    file: list[int] | None = None  # the identity of the file it was read from (table_cache.file_identity)


class Unstorable(ApigwSqlError, TypeError):
    """A page holds something that is not plain data (a stream): the answer stays in memory only."""


def _encode(value: Any) -> Any:
    """Plain JSON for a page: datetimes and bytes tagged; a dict with a key starting with "$" escaped, so
    that no value read from AWS can pass for a tag."""
    if isinstance(value, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            return {"$d": [[k, _encode(v)] for k, v in value.items()]}
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    raise Unstorable(type(value).__name__)


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$t" in obj:
            return datetime.fromisoformat(obj["$t"])
        if "$b" in obj:
            return base64.b64decode(obj["$b"])
        if "$d" in obj:
            return {k: v for k, v in obj["$d"]}
    return obj


class Refused(ApigwSqlError, ValueError):
    """A cache file that must not be used; the message says why."""


class CallCache:
    """The answers of one scope (endpoint and profile) on disk."""

    def __init__(self, root: Path, scope: str, ttl: float, refresh: bool = False):
        self.root = root            # .../apigw-sql/calls
        self.folder = root / scope  # .../calls/SCOPE
        self.ttl = ttl
        self.refresh = refresh      # True: never read, only write (--refresh)
        self._lock = threading.Lock()
        self._trusted: set[Path] = set()  # folders checked this process
        self._swept = False
        self._notice = RefusalNotice("call cache file", "the call is made live", root)

    # ---- paths ------------------------------------------------------------------------------
    def path(self, key: tuple[str, ...]) -> Path:
        account = key[0] if _SAFE_NAME.match(key[0] or "") else "_" + hashlib.sha256(key[0].encode()).hexdigest()[:16]
        digest = hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()
        return self.folder / account / f"{digest}.json"

    def _check_folders(self, folder: Path) -> None:
        """Each folder from apigw-sql/ down to `folder` is owned by this user and 0700 (memoized)."""
        if folder in self._trusted:
            return
        top = self.root.parent
        chain = [folder, *[p for p in folder.parents if p.is_relative_to(top)]]
        uid = os.geteuid()
        for path in chain:
            if path in self._trusted:
                break
            info = os.lstat(path)
            if not stat.S_ISDIR(info.st_mode):
                raise Refused(f"{path} is not a folder")
            if info.st_uid != uid:
                raise Refused(f"the folder {path} is not yours")
            if stat.S_IMODE(info.st_mode) != DIR_MODE:
                raise Refused(f"the folder {path} is mode {stat.S_IMODE(info.st_mode):o}, not 700")
        with self._lock:
            self._trusted.update(chain)

    # ---- reading ----------------------------------------------------------------------------
    def get(self, key: tuple[str, ...]) -> Stored | None:
        """The answer fetched for `key` less than the TTL ago, or None (missing, stale, refused, --refresh)."""
        if self.refresh:
            return None
        path = self.path(key)
        try:
            stored = self._read(path, key)
        except FileNotFoundError:
            return None
        except Refused as why:
            self._refuse(path, str(why))
            return None
        age = time.time() - stored.fetched_at
        if not 0 <= age < self.ttl:
            return None
        return stored

    def _read(self, path: Path, key: tuple[str, ...]) -> Stored:
        try:
            data, info = read_private(path)
        except UntrustedFile as why:
            raise Refused(str(why)) from None
        try:
            self._check_folders(path.parent)
        except OSError as exc:
            raise Refused(f"its folder cannot be checked ({exc.strerror})") from None
        try:
            record = json.loads(data, object_hook=_decode_object)
            if record.get("format") != FORMAT:
                raise Refused("it is of another format")
            if record.get("key") != list(key):
                raise Refused("the key it records is not the one it is filed under")
            fetched_at = float(record["fetched_at"])
            if "pages" in record:
                pages = record["pages"]
                if not isinstance(pages, list) or not all(isinstance(p, dict) for p in pages):
                    raise Refused("its pages are not a list of objects")
                return Stored(fetched_at, pages, file_identity(info))
            error = record["error"]
            return Stored(fetched_at, ("error", str(error["code"]), str(error["message"])), file_identity(info))
        except Refused:
            raise
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Refused("it does not parse") from None

    def _refuse(self, path: Path, why: str) -> None:
        self._notice.refuse(path, why)

    @property
    def refused(self) -> int:
        """Files refused so far by this cache."""
        return self._notice.count

    # ---- writing ----------------------------------------------------------------------------
    def put(self, key: tuple[str, ...], answer: Any, table: str) -> Stored | None:
        """Keeps an answer (pages, or ("error", code, message)) fetched now; a write that fails is skipped.

        Returns what was written (with the identity of the file), or None when nothing was."""
        record: dict[str, Any] = {"format": FORMAT, "key": list(key), "fetched_at": time.time(), "tables": [table]}
        try:
            if isinstance(answer, tuple):
                record["error"] = {"code": answer[1], "message": answer[2]}
            else:
                record["pages"] = _encode(answer)
            data = json.dumps(record, separators=(",", ":")).encode()
        except (Unstorable, ValueError):
            return None  # a stream (S3 GetObject) or a value JSON cannot hold: kept in memory only
        path = self.path(key)
        try:
            self._sweep_once()
            private_dir(path.parent, owned=self.root.parent)
            write_private_atomically(path, data)
            return Stored(record["fetched_at"], answer, file_identity(os.lstat(path)))
        except OSError:
            return None  # a full disk or a read-only home: the run goes on without keeping the answer

    def _sweep_once(self) -> None:
        """Deletes this user's cache files older than MAX_AGE (or the TTL) in every scope: once a process."""
        with self._lock:
            if self._swept:
                return
            self._swept = True
        oldest = time.time() - max(MAX_AGE, self.ttl)
        uid = os.geteuid()
        for scope in _entries(self.root):
            for account in _entries(scope):
                for file in _entries(account):
                    try:
                        info = file.lstat()
                        if info.st_uid == uid and stat.S_ISREG(info.st_mode) and info.st_mtime < oldest:
                            file.unlink()
                    except OSError:
                        pass

    # ---- forgetting -------------------------------------------------------------------------
    def drop(self, keys: Iterable[tuple[str, ...]]) -> None:
        """Deletes the files of these calls."""
        for key in keys:
            try:
                self.path(key).unlink()
            except OSError:
                pass

    def drop_table(self, table: str) -> int:
        """Deletes the files of this scope that record `table` as a reader; returns how many."""
        dropped = 0
        for account in _entries(self.folder):
            for file in _entries(account):
                try:
                    record = json.loads(file.read_bytes())
                    if table in record.get("tables", []):
                        file.unlink()
                        dropped += 1
                except (OSError, ValueError, AttributeError, TypeError):
                    pass
        return dropped

    def drop_all(self) -> None:
        """Deletes every file of this scope."""
        for account in _entries(self.folder):
            for file in _entries(account):
                try:
                    file.unlink()
                except OSError:
                    pass

    def size(self) -> tuple[int, int]:
        """(files, bytes) of this scope on disk."""
        files = total = 0
        for account in _entries(self.folder):
            for file in _entries(account):
                try:
                    total += file.lstat().st_size
                    files += 1
                except OSError:
                    pass
        return files, total


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []
