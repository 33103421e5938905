"""Built tables on disk, beside the call cache: a warm run loads a table's Arrow data as it was built, without
reading its pages or building its rows again.

A table is kept when every call its rows came from (its parents' included) was answered by a call-cache file:
made now and written there, or read from there. The file, ``calls/SCOPE/_tables/DIGEST.arrow``, is one line
of JSON (the manifest) and the table as an Arrow IPC stream. DIGEST is that of what decides which calls the
table makes and how its rows are built: the table and its parents' specs, the pushed filters, the accounts
and regions read, the tool's version and the source of the modules that build rows. The manifest lists every
call the rows came from, with when it was fetched and the identity of its call-cache file (device, inode,
size, modification time).

It is used only while it cannot differ from rebuilding the table: every call it lists is younger than the
TTL and its call-cache file is still the very file it was built from, one the call cache would read (a call
made again, forgotten by REFRESH or swept away, or its file opened to others, invalidates every table built
from it); the same owner, mode and folder checks as
the call cache's files (call_cache.py) apply, its recorded key must be the one asked for and its data must
have the digest the manifest records; anything else is refused, with one warning, and the table is rebuilt.

What reading the calls would have done is done from the manifest: the fetch log gets the same records
(marked cached, at the time each call was fetched), the query's cache hits and the calls it touched (the
engine's reload signature) are the same.

Only tables whose rows are a function of their calls are kept: none with a rows function (Python code
that may read anything, such as the clock or log files) in its chain of parents but those of
``apigw_sql.derived``, which derive rows from a parent's row and their calls alone; none whose pushed
``param`` filters chose the calls (that choice depends on what else is cached), none whose fetch met a
failure.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ApigwSqlError
from .private_files import RefusalNotice, UntrustedFile, private_dir, source_digest, read_private, write_private_atomically

if TYPE_CHECKING:
    from .call_cache import CallCache
    from .catalog import TableSpec
    from .fetch import Fetcher, QueryFetch

FORMAT = 1
FOLDER = "_tables"  # beside the account folders of a scope (an account folder is digits or "_" + hex)
# The modules whose code decides what rows are built from pages: a change to them is a change of key.
_ROW_MODULES = ("rowbuild.py", "transforms.py", "types.py", "catalog.py", "fetch.py", "table_cache.py", "derived.py")
# Rows functions of this module derive rows from their parent's row and their calls alone (derived.py).
_DERIVED = "apigw_sql.derived:"
_code_digest: str | None = None


def code_digest() -> str:
    """A digest of the tool's version and the source of the modules that build rows (read once a process)."""
    global _code_digest
    if _code_digest is None:
        _code_digest = source_digest(_ROW_MODULES)
    return _code_digest


def file_identity(info: os.stat_result) -> list[int]:
    """What tells one version of a call-cache file from another: written atomically, a new one is a new inode."""
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]


def _canonical(spec: TableSpec) -> str:
    """A table spec as text that is the same in every process (a set's order is not: string hashes vary)."""
    import dataclasses

    def plain(value: Any) -> Any:
        return sorted(value, key=str) if isinstance(value, (set, frozenset)) else str(value)

    return json.dumps(dataclasses.asdict(spec), sort_keys=True, default=plain)


class Recording:
    """A query's fetch as one table build sees it: everything goes to the query, and the calls touched and
    the failures met are also kept here, so that the table's own calls are known (tables fetch at once)."""

    def __init__(self, query: QueryFetch):
        self.query = query
        self.own: set[tuple[str, tuple, float]] = set()  # (table, call key, stamp) touched by this build
        self.failed = False
        # The query's state is shared: its errors, progress and touched calls are the very same objects.
        self.touched = query.touched
        self.errors = query.errors
        self.progress = query.progress
        self.on_progress = query.on_progress

    def touch(self, table: str, key: tuple, fetched_at: float) -> None:
        self.query.touch(table, key, fetched_at)
        self.own.add((table, key, fetched_at))

    def error(self, err: Any) -> None:
        self.failed = True
        self.query.error(err)

    def account_errors(self, errors: Any) -> None:
        errors = list(errors)
        if errors:  # an account that cannot be read: the table misses its rows, so it is not kept
            self.failed = True
        self.query.account_errors(errors)

    def tick(self, calls: int = 0, cache_hits: int = 0, throttled: int = 0) -> None:
        self.query.tick(calls, cache_hits, throttled)

    def plan(self, calls: int) -> None:
        self.query.plan(calls)

    def set_rate(self, rate: float) -> None:
        self.query.set_rate(rate)


class StoredRows(list):
    """A kept table's rows: the very dicts it was built from (the store checks that they come back equal),
    and the Arrow table itself, which the engine loads as it is (rowbuild.arrow_table)."""

    def __init__(self, table: Any):
        super().__init__(table.to_pylist())
        self.arrow = table


class Refused(ApigwSqlError, ValueError):
    """A table file that must not be used; the message says why."""


class TableCache:
    """The built tables of one call-cache scope."""

    def __init__(self, calls: CallCache):
        self.calls = calls
        self.folder = calls.folder / FOLDER
        self._lock = threading.Lock()
        self._swept = False
        self._notice = RefusalNotice("table cache file", "the table is built from its calls", calls.root)
        # call -> its pages' item counts (or its expected error) for calls whose answers a loaded table stood for
        self._summaries: dict[Any, Any] = {}
        self.loaded = 0   # tables answered from disk this process
        self.stored = 0

    # ---- what a table is keyed by ------------------------------------------------------------
    def cacheable(self, fetcher: Fetcher, spec: TableSpec, constraints: dict[str, set[str]]) -> bool:
        """Whether the table's rows are a function of its calls alone (see the module's docstring)."""
        if any(c.pushdown == "param" and c.name in constraints for c in spec.columns):
            return False
        table: str | None = spec.name
        while table is not None:
            chain = fetcher.catalog[table]
            if (chain.fetch.rows and not chain.fetch.rows.startswith(_DERIVED)) or chain.scope == "local":
                return False
            table = chain.parent
        return True

    def key(self, fetcher: Fetcher, spec: TableSpec, constraints: dict[str, set[str]], bounds: dict[str, Any] | None,
            query: Any) -> str:
        """The digest naming the table's file: everything that decides its calls and how rows are built."""
        specs = []
        table: str | None = spec.name
        while table is not None:
            specs.append(_canonical(fetcher.catalog[table]))
            table = fetcher.catalog[table].parent
        targets = []
        for target in fetcher.targets():
            regions = None if spec.parent or spec.scope == "global" else \
                fetcher.regions(target, spec.service or "", query)
            targets.append([target.account_id, target.partition, target.home_region, regions])
        what = {"format": FORMAT, "code": code_digest(), "table": spec.name, "specs": specs,
                "constraints": sorted((c, sorted(map(str, v))) for c, v in constraints.items()),
                "bounds": repr(sorted((bounds or {}).items())), "targets": targets}
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.arrow"

    # ---- reading ----------------------------------------------------------------------------
    def load(self, fetcher: Fetcher, key: str, query: Any) -> Any:
        """The table kept under `key` (an Arrow table) with its calls replayed into the fetch log and the
        query, or None (none kept, stale, refused, --refresh)."""
        if self.calls.refresh:
            return None
        path = self.path(key)
        try:
            manifest, table = self._read(path, key)
        except FileNotFoundError:
            return None
        except Refused as why:
            self._refuse(path, str(why))
            return None
        if not self._current(manifest["calls"]):
            return None
        self._replay(fetcher, manifest["calls"], query)
        with self._lock:
            self.loaded += 1
        return StoredRows(table)

    def _read(self, path: Path, key: str) -> tuple[dict[str, Any], Any]:
        import pyarrow as pa

        try:
            data, _ = read_private(path)
        except UntrustedFile as why:
            raise Refused(str(why)) from None
        try:
            self.calls._check_folders(path.parent)
        except OSError as exc:
            raise Refused(f"its folder cannot be checked ({exc.strerror})") from None
        except ValueError as why:  # call_cache.Refused
            raise Refused(str(why)) from None
        head, newline, body = data.partition(b"\n")
        try:
            manifest = json.loads(head)
            if not newline or manifest.get("format") != FORMAT:
                raise Refused("it is of another format")
            if manifest.get("key") != key:
                raise Refused("the key it records is not the one it is filed under")
            if hashlib.sha256(body).hexdigest() != manifest.get("data_sha256"):
                raise Refused("its data is not the data it was written with")
            calls = manifest["calls"]
            if not isinstance(calls, list) or not all(
                    isinstance(c, list) and len(c) == 10 and isinstance(c[6], float) and isinstance(c[7], str)
                    and ".." not in c[7] and not c[7].startswith("/") for c in calls):
                raise Refused("its list of calls does not parse")
            with pa.ipc.open_stream(body) as reader:
                table = reader.read_all()
        except Refused:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, pa.ArrowException):
            raise Refused("it does not parse") from None
        return manifest, table

    def _current(self, calls: list[list[Any]]) -> bool:
        """Whether every call is younger than the TTL and its call-cache file is the one the table was built from."""
        now, uid, ttl = time.time(), os.geteuid(), self.calls.ttl
        folder = os.path.join(self.calls.folder, "")
        lstat, is_file = os.lstat, stat.S_ISREG
        for _table, _account, _region, _service, _operation, _params, fetched_at, file, identity, _answer in calls:
            if not 0 <= now - fetched_at < ttl:
                return False
            try:
                info = lstat(folder + file)
            except OSError:
                return False
            # The call cache would refuse it (call_cache.py): neither would the table built from it be used.
            if not is_file(info.st_mode) or info.st_uid != uid or info.st_mode & 0o022:
                return False
            if [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns] != identity:
                return False
        return True

    def _replay(self, fetcher: Fetcher, calls: list[list[Any]], query: Any) -> None:
        """What reading these calls from the call cache would have done: the fetch log's records (once a
        process, as `_from_disk` adds them), the query's cache hits and touched calls."""
        from .fetch import CallKey, CallRecord

        now_monotonic, now = time.monotonic(), time.time()
        touches = []
        records = []
        with fetcher._lock:
            for table, account, region, service, operation, params, fetched_at, _file, identity, answer in calls:
                key = CallKey(account, region, service, operation, params)
                known = fetcher._disk_stamps.get(key)
                if known is None or known[1] != fetched_at:
                    known = (now_monotonic - (now - fetched_at), fetched_at, identity)
                    fetcher._disk_stamps[key] = known
                touches.append((table, key, known[0]))
                self._summaries[key] = answer
                if key in fetcher._replayed:
                    continue  # its records are in the log already
                if key in fetcher._cache and key not in fetcher._unlogged:
                    continue  # read (or made) by this process already: logged then
                fetcher._unlogged.pop(key, None)  # looked at to plan a call only: logged now, once
                fetcher._replayed.add(key)
                started_at = datetime.fromtimestamp(fetched_at, tz=timezone.utc).replace(tzinfo=None)
                record = dict(table=table, service=service, operation=operation, account_id=account, region=region,
                              params=params, started_at=started_at, duration_ms=0.0, throttled_retries=0,
                              cached=True)
                if isinstance(answer, dict):  # an expected error
                    records.append(CallRecord(**record, items=0, error_code=answer["code"],
                                              error_message=answer["message"]))
                else:
                    records += [CallRecord(**record, items=int(items)) for items in answer]
            fetcher.log.extend(records)
        for table, key, stamp in touches:
            query.touch(table, key, stamp)
        query.tick(cache_hits=len(calls))

    def _refuse(self, path: Path, why: str) -> None:
        self._notice.refuse(path, why)

    @property
    def refused(self) -> int:
        """Files refused so far by this cache."""
        return self._notice.count

    # ---- writing ----------------------------------------------------------------------------
    def store(self, fetcher: Fetcher, spec: TableSpec, key: str, recording: Recording, rows: Any) -> None:
        """Keeps the table built now when every call it came from is the answer of a call-cache file;
        a write that fails is skipped."""
        from .fetch import ExpectedError, count_items
        from .rowbuild import arrow_table

        if recording.failed:
            return
        calls = []
        with fetcher._lock:
            for table, call, stamp in sorted(recording.own, key=lambda t: (t[0], t[1])):
                origin = fetcher._disk_stamps.get(call)
                entry = fetcher._cache.get(call)
                if origin is None or origin[0] != stamp:
                    return  # an answer that is not (or no longer) the one on disk
                answer: Any
                if entry is None or entry.stored_at != stamp:  # not read: a loaded parent stood for it
                    if call not in self._summaries:
                        return
                    answer = self._summaries[call]
                elif isinstance(entry.answer, ExpectedError):
                    answer = {"code": entry.answer.code, "message": entry.answer.message}
                else:
                    answer = [count_items(page) for page in entry.answer]
                file = self.calls.path(call).relative_to(self.calls.folder).as_posix()
                calls.append([table, *call, origin[1], file, origin[2], answer])
        table = arrow_table(spec, rows)
        # The table must give back the very rows it was built from: a child table reads its parent's rows.
        if isinstance(rows, list) and table.to_pylist() != rows:
            return
        try:
            import pyarrow as pa

            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            body = sink.getvalue().to_pybytes()
            manifest = {"format": FORMAT, "key": key, "table": spec.name,
                        "data_sha256": hashlib.sha256(body).hexdigest(), "calls": calls}
            data = json.dumps(manifest, separators=(",", ":")).encode() + b"\n" + body
            self._sweep_once()
            private_dir(self.folder, owned=self.calls.root.parent)
            write_private_atomically(self.path(key), data)
        except (OSError, ValueError, TypeError):
            return  # a full disk or a read-only home: the run goes on without keeping the table
        with self._lock:
            self.stored += 1

    def _sweep_once(self) -> None:
        """Deletes this user's table files older than the call cache keeps calls: once a process."""
        from .call_cache import MAX_AGE

        with self._lock:
            if self._swept:
                return
            self._swept = True
        oldest = time.time() - max(MAX_AGE, self.calls.ttl)
        try:
            files = list(self.folder.iterdir())
        except OSError:
            return
        for file in files:
            try:
                info = file.lstat()
                if info.st_uid == os.geteuid() and stat.S_ISREG(info.st_mode) and info.st_mtime < oldest:
                    file.unlink()
            except OSError:
                pass
