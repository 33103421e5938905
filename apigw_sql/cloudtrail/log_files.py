"""aws_cloudtrail_log: CloudTrail log files, read by DuckDB, from local folders and S3 prefixes.

The user names the sources (``--cloudtrail-logs``, repeatable, or ``cloudtrail_logs = [...]`` in
``$XDG_CONFIG_HOME/apigw-sql/config.toml``): a folder or an ``s3://bucket/prefix`` at or above an
``AWSLogs/`` folder in CloudTrail's delivery layout. The account, region and event_time filters of
the query choose the account, region and day folders to list (layout.LogFilter), and within a day
the files whose delivery minute can hold matching records; nothing else is listed or read. S3
objects are listed and downloaded through the executor (ListObjectsV2, GetObject: read-only,
logged) into a cache keyed by ETag (``$XDG_CACHE_HOME/apigw-sql/cloudtrail/ETAG/BUCKET/KEY``), so a
file is downloaded once. DuckDB then reads the files itself: a view over ``read_json`` that takes
``Records`` as ``JSON[]`` (no schema inference over the varied requestParameters) and turns each
record into the columns with one json_transform (record_sql). Each source adds a ``ReadLogFiles``
entry to the fetch log whose ``items`` is the number of files read.

The evidence must survive a hostile bucket and bad files:
- an object key is only used as a path below the cache when it is safe (layout.unsafe_key: no
  ``.``/``..``/empty segment) and lies exactly in the delivery layout below its ``AWSLogs/`` folder;
  every target path is resolved and must lie in its object's own ``ETAG/BUCKET/`` folder; a refused
  key is a warning naming it and a failed ReadLogFiles entry in the fetch log;
- a download is written through a temporary file and a rename, 0600 in 0700 folders, with the key
  values of API key records redacted (scrub), beside a ``.source`` file that says which object
  (ETag, size) it came from and what was written (SHA-256): a cached copy is reused only when all
  three still match, and downloaded again otherwise;
- one read_json scans every file, as fast as DuckDB reads; only when that scan fails does
  `LogFilesView.recover` read the files one by one, leave out those DuckDB cannot read (corrupt,
  truncated, not ``{"Records": [...]}``) with a warning naming each (and a failed ReadLogFiles
  entry), move those larger than SCAN_FILE_BYTES to a read of their own, and the query is run again.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from ..catalog import ColumnSpec
from ..fetch import CallFailed, CallRecord, CredentialsError, FetchError
from ..private_files import cache_root, private_dir, write_private_atomically
from ..userconfig import config_file, read_config
from .layout import ACCOUNT, ORG, SQL_PATH_PATTERN, LogFilter, TimeWindow, parse_log_key, unsafe_key
from .record_sql import empty_select, records_select, replace_relation, sql_string
from .scrub import scrub_log_file
from ..errors import UserError

# One log file is one JSON object, and read_json refuses an object above its maximum_object_size.
# CloudTrail documents no upper bound for a log file (it delivers every few minutes whatever has
# gathered: a busy account's file can be hundreds of MB), and gzip's own size field (ISIZE) stops at
# 4 GiB, so the largest file read is the largest object DuckDB accepts (a UINTEGER: 4 GiB - 1). But
# a limit above 256 MiB makes DuckDB's JSON buffers cost about 20% more CPU for every file, large or
# not (benchmarks/cloudtrail_logs.py), so the scan of all files keeps SCAN_FILE_BYTES; a file that
# exceeds it fails that scan, and recovery moves it to a second read_json with MAX_FILE_BYTES.
SCAN_FILE_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES = 2**32 - 1
DOWNLOAD_THREADS = 8
# How deep below a source to look for the AWSLogs/ folder, and how many folders to look into.
SEARCH_DEPTH = 2
SEARCH_FOLDERS = 100


class LogSourceError(UserError, ValueError):
    """A log source the user named cannot be used; the message says why and what to do."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


# ---- where the sources come from ---------------------------------------------------------------

def configured_sources(config: Any, key: str = "cloudtrail_logs") -> list[str]:
    """The log sources of the session for ``key`` (``cloudtrail_logs``, ``access_logs``): the connection's
    option of that name, else the config file's (else none)."""
    given = getattr(config, key, None)
    if given is not None:
        return [str(s) for s in given if str(s).strip()]
    path = config_file()
    try:
        data = read_config()
    except ValueError as exc:
        raise LogSourceError("LogSourceConfig", str(exc)) from None
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LogSourceError("LogSourceConfig", f"{path}: {key} must be a list of folders or "
                                                "s3://bucket/prefix strings")
    return [v for v in value if v.strip()]


@dataclass(frozen=True)
class LogSource:
    """A folder (bucket None, path absolute with a trailing /) or an S3 prefix ('' or ending with /)."""

    text: str
    path: str
    bucket: str | None = None

    @classmethod
    def parse(cls, text: str) -> LogSource:
        """
        >>> LogSource.parse("s3://trail-bucket/org/AWSLogs")
        LogSource(text='s3://trail-bucket/org/AWSLogs', path='org/AWSLogs/', bucket='trail-bucket')
        >>> LogSource.parse("s3://trail-bucket").path
        ''
        """
        text = text.strip()
        if text.lower().startswith("s3://"):
            bucket, _, prefix = text[5:].partition("/")
            if not bucket:
                raise LogSourceError("LogSourceInvalid", f"{text!r} names no bucket: write s3://BUCKET/PREFIX")
            prefix = prefix.lstrip("/")
            return cls(text, prefix if not prefix or prefix.endswith("/") else prefix + "/", bucket)
        if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
            raise LogSourceError("LogSourceInvalid", f"{text!r}: only folders and s3:// URLs are supported")
        path = Path(text).expanduser().resolve()
        if not path.is_dir():
            raise LogSourceError("LogSourceNotFound", f"{text!r} is not a folder")
        return cls(text, path.as_posix().rstrip("/") + "/")


# ---- listing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FoundFile:
    path: str           # a local path, or an S3 key
    size: int = 0
    etag: str | None = None


class LocalTree:
    """A folder tree, listed with os.scandir. Prefixes are paths ending with /."""

    lists_recursively = False

    def dirs(self, prefix: str) -> list[str]:
        try:
            with os.scandir(prefix) as entries:
                return sorted(e.name for e in entries if e.is_dir())
        except OSError:
            return []

    def files(self, prefix: str, start_after: str | None = None) -> list[FoundFile]:
        try:
            with os.scandir(prefix) as entries:
                return [FoundFile(prefix + e.name, e.stat().st_size) for e in entries if e.is_file()]
        except OSError:
            return []


class S3Tree:
    """A bucket, listed with ListObjectsV2 through the executor; keys that are not safe paths are set aside."""

    lists_recursively = True

    def __init__(self, bucket: str, call: Callable[..., list[dict[str, Any]]]):
        self.bucket = bucket
        self._call = call
        self.refused: dict[str, str] = {}  # key -> why it is not used

    def dirs(self, prefix: str) -> list[str]:
        pages = self._call("ListObjectsV2", Bucket=self.bucket, Prefix=prefix, Delimiter="/")
        return sorted(cp["Prefix"][len(prefix):].rstrip("/") for page in pages
                      for cp in page.get("CommonPrefixes") or [])

    def files(self, prefix: str, start_after: str | None = None) -> list[FoundFile]:
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            params["StartAfter"] = start_after
        pages = self._call("ListObjectsV2", **params)
        found = []
        for page in pages:
            for o in page.get("Contents") or []:
                key = str(o["Key"])
                problem = unsafe_key(key) if key.endswith(".json.gz") else None
                if problem is not None:
                    self.refused[key] = problem
                else:
                    found.append(FoundFile(key, int(o.get("Size") or 0), o.get("ETag")))
        return found


def find_anchors(tree: Any, base: str) -> list[str]:
    """The AWSLogs/ folders at or below `base` (a prefix ending with /, or '')."""
    marker = base.find("AWSLogs/")
    while marker > 0 and base[marker - 1] != "/":
        marker = base.find("AWSLogs/", marker + 1)
    if marker >= 0:
        return [base[:marker + len("AWSLogs/")]]
    found: list[str] = []
    frontier = [base]
    for _ in range(SEARCH_DEPTH + 1):
        deeper: list[str] = []
        for prefix in frontier:
            names = tree.dirs(prefix)
            if "AWSLogs" in names:
                found.append(prefix + "AWSLogs/")
            else:
                deeper += [prefix + n + "/" for n in names]
        if found or not deeper:
            break
        frontier = deeper[:SEARCH_FOLDERS]
    return found


def _span(year: int, month: int | None = None) -> tuple[date, date]:
    """The first and last day of a year, or of a month."""
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, 1), following - timedelta(days=1)


def _region_files(tree: Any, prefix: str, window: TimeWindow, compatible: Callable[[str], bool]) -> list[FoundFile]:
    days = window.days()
    if days is not None:
        return [f for d in days if compatible(p := prefix + d.strftime("%Y/%m/%d/")) for f in tree.files(p)]
    if tree.lists_recursively:
        after = window.start_after()
        return tree.files(prefix, start_after=prefix + after if after else None)
    found: list[FoundFile] = []
    for year in tree.dirs(prefix):
        if not (year.isdigit() and len(year) == 4 and window.wants_days(*_span(int(year)))):
            continue
        for month in tree.dirs(f"{prefix}{year}/"):
            if not (month.isdigit() and 1 <= int(month) <= 12 and window.wants_days(*_span(int(year), int(month)))):
                continue
            for day in tree.dirs(f"{prefix}{year}/{month}/"):
                try:
                    wanted = window.wants_day(date(int(year), int(month), int(day)))
                except ValueError:
                    continue
                day_prefix = f"{prefix}{year}/{month}/{day}/"
                if wanted and compatible(day_prefix):
                    found += tree.files(day_prefix)
    return found


def find_log_files(tree: Any, anchor: str, flt: LogFilter, within: str = "") -> list[FoundFile]:
    """The log files below `anchor` (an AWSLogs/ prefix) that `flt` keeps, and only below `within`."""
    def compatible(prefix: str) -> bool:
        return prefix.startswith(within) or within.startswith(prefix)

    accounts: list[str] = []
    for name in tree.dirs(anchor):
        prefix = anchor + name + "/"
        if not compatible(prefix):
            continue
        if ORG.match(name):
            accounts += [f"{prefix}{a}/" for a in tree.dirs(prefix)
                         if ACCOUNT.match(a) and flt.wants_account(a) and compatible(f"{prefix}{a}/")]
        elif ACCOUNT.match(name) and flt.wants_account(name):
            accounts.append(prefix)
    found: list[FoundFile] = []
    for account in accounts:
        trail_prefix = account + "CloudTrail/"  # not CloudTrail-Digest/ nor CloudTrail-Insight/
        if not compatible(trail_prefix):
            continue
        for region in tree.dirs(trail_prefix):
            region_prefix = f"{trail_prefix}{region}/"
            if flt.wants_region(region) and compatible(region_prefix):
                found += _region_files(tree, region_prefix, flt.window, compatible)
    kept = []
    for file in found:
        key = parse_log_key(file.path, anchor)  # exactly the layout below this AWSLogs/ folder
        if key is not None and flt.wants(key) and file.path.startswith(within):
            kept.append(file)
    return sorted(kept, key=lambda f: f.path)


# ---- reading -----------------------------------------------------------------------------------

_ETAG = re.compile(r"^[A-Za-z0-9-]{1,128}$")
SOURCE_SUFFIX = ".source"  # beside each cached copy: the object it came from, and a digest of the copy


class Problems:
    """Reports files that are left out: a warning naming each, and a failed ReadLogFiles fetch-log entry."""

    def __init__(self, ctx: Any):
        self._ctx = ctx

    def __call__(self, service: str, code: str, message: str) -> None:
        ctx = self._ctx
        report_problem(ctx, code, message)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        ctx.fetcher.note(CallRecord(table=ctx.spec.name, service=service, operation="ReadLogFiles", account_id="",
                                    region="", params="{}", started_at=now, duration_ms=0.0, items=0,
                                    throttled_retries=0, error_code=code, error_message=message))


def cache_path(root: Path, etag: str | None, bucket: str, key: str) -> Path | None:
    """Where the object's copy lies in the cache: ROOT/ETAG/BUCKET/KEY; None when that is not inside ROOT/ETAG/BUCKET/.

    >>> cache_path(Path("/c"), '"0a1b"', "b", "AWSLogs/x.json.gz")
    PosixPath('/c/0a1b/b/AWSLogs/x.json.gz')
    >>> cache_path(Path("/c"), '"0a1b"', "b", "AWSLogs/../../../x.json.gz") is None
    True
    >>> cache_path(Path("/c"), '"../x"', "b", "AWSLogs/x.json.gz") is None
    True
    """
    tag = (etag or "").strip('"') or "no-etag"
    if not _ETAG.match(tag) or unsafe_key(bucket) or unsafe_key(key):
        return None
    home = root / tag / bucket
    local = home / key
    real_root, real_home, real_local = (Path(os.path.realpath(p)) for p in (root, home, local))
    if real_local == real_home or not real_local.is_relative_to(real_home):
        return None  # a key that climbs out of its object's own folder
    if not real_home.is_relative_to(real_root):
        return None
    return local


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cached_copy_matches(local: Path, file: FoundFile) -> bool:
    """Whether `local` is the copy this process would write for `file`: same ETag, size and digest."""
    try:
        source = json.loads(Path(str(local) + SOURCE_SUFFIX).read_text(encoding="utf-8"))
        data = local.read_bytes()
    except (OSError, ValueError):
        return False
    return (isinstance(source, dict) and source.get("etag") == file.etag and source.get("size") == file.size
            and source.get("sha256") == _digest(data))


def download_objects(bucket: str, files: list[FoundFile], call: Callable[..., list[dict[str, Any]]],
                     root: Path, problems: Callable[[str, str, str], None] | None = None) -> list[str]:
    """Local copies of the objects, from the ETag-keyed cache (when verified) or downloaded into it (scrubbed,
    private, atomically): the one way S3 log objects reach the disk, for CloudTrail and access logs alike."""
    private_dir(root, owned=root.parent)

    def refuse(code: str, message: str) -> None:
        if problems is not None:
            problems("s3", code, message)

    def fetch(file: FoundFile) -> str | None:
        local = cache_path(root, file.etag, bucket, file.path)
        if local is None:
            refuse("LogKeyUnsafe", f"s3://{bucket}/{file.path} (ETag {file.etag}) is not a safe path below the "
                                   f"log cache: skipped")
            return None
        if local.is_file() and _cached_copy_matches(local, file):
            return local.as_posix()
        params: dict[str, Any] = {"Bucket": bucket, "Key": file.path}
        if file.etag:
            params["IfMatch"] = file.etag
        try:
            pages = call("GetObject", **params)
        except CallFailed:
            return None  # reported by the executor; the other files are still read
        body = pages[0]["Body"].read() if pages and pages[0].get("Body") is not None else b""
        if not body:  # an empty object, or a cached answer whose body was read before: nothing to keep
            return None
        if file.size and len(body) != file.size:
            refuse("LogFileIncomplete", f"s3://{bucket}/{file.path}: {len(body)} bytes read where the listing "
                                        f"said {file.size}: skipped")
            return None
        kept = scrub_log_file(body)  # no API key value is ever written to disk
        private_dir(local.parent, owned=root)
        write_private_atomically(local, kept)
        source = {"etag": file.etag, "size": file.size, "sha256": _digest(kept)}
        write_private_atomically(Path(str(local) + SOURCE_SUFFIX), json.dumps(source).encode())
        return local.as_posix()

    with ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS, thread_name_prefix="apigw-sql-logs") as pool:
        return [p for p in pool.map(fetch, files) if p is not None]


def report_problem(ctx: Any, code: str, message: str, operation: str = "ReadLogFiles") -> None:
    """Shows a problem with the log sources as a warning of the query (FetchError), as failed calls are."""
    ctx.query.error(FetchError(table=ctx.spec.name, account_id="-", region="-", operation=operation, code=code,
                               message=message))


def _local_files(source: LogSource, flt: LogFilter) -> tuple[list[str], list[str]]:
    """(AWSLogs/ folders found, log files kept) of a folder source."""
    tree = LocalTree()
    anchors = find_anchors(tree, source.path)
    return anchors, [f.path for a in anchors for f in find_log_files(tree, a, flt, source.path)]


def _s3_files(ctx: Any, source: LogSource, flt: LogFilter) -> tuple[list[str], list[str]]:
    """(AWSLogs/ prefixes found, local copies of the log files kept) of an S3 source."""
    target = ctx.fetcher.targets()[0]
    bucket = source.bucket or ""

    def call(operation: str, **params: Any) -> list[dict[str, Any]]:
        return ctx.fetcher.call(ctx.spec.name, target, "s3", target.home_region, operation, params, ctx.query)

    tree = S3Tree(bucket, call)
    anchors = find_anchors(tree, source.path)
    found = [f for a in anchors for f in find_log_files(tree, a, flt, source.path)]
    problems = Problems(ctx)
    for key, why in sorted(tree.refused.items()):
        problems("s3", "LogKeyUnsafe", f"s3://{bucket}/{key} has {why}: not a log file path, skipped")
    return anchors, download_objects(bucket, found, call, cache_root(), problems)


def collect_log_files(ctx: Any, sources: list[str]) -> list[str]:
    """Local paths of the log files of `sources` that the query's filters keep; problems are reported.

    Each source adds a ReadLogFiles entry to the fetch log: what it narrowed to, and how many files.
    """
    flt = LogFilter.from_pushdown(ctx.constraints, ctx.bounds)
    paths: list[str] = []
    for text in sources:
        started_at, started = datetime.now(timezone.utc).replace(tzinfo=None), time.monotonic()
        try:
            source = LogSource.parse(text)
            if flt.window.empty:  # the WHERE keeps no time at all: nothing to list
                files: list[str] = []
            else:
                anchors, files = _local_files(source, flt) if source.bucket is None else _s3_files(ctx, source, flt)
                if not anchors:
                    raise LogSourceError("LogSourceEmpty", f"no AWSLogs/ folder in {text!r} (CloudTrail writes "
                                                           "AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz)")
            account = ctx.fetcher.targets()[0].account_id if source.bucket else ""
        except LogSourceError as problem:
            report_problem(ctx, problem.code, str(problem))
            continue
        except CredentialsError as problem:
            report_problem(ctx, "LogSourceCredentials", f"{text}: {problem}")
            continue
        except CallFailed:
            continue  # a listing failed (AccessDenied, NoSuchBucket): the executor reported it
        ctx.fetcher.note(CallRecord(table=ctx.spec.name, service="s3" if source.bucket else "local",
                                    operation="ReadLogFiles", account_id=account, region="",
                                    params=json.dumps({"source": text, **flt.describe()}), started_at=started_at,
                                    duration_ms=(time.monotonic() - started) * 1000, items=len(files),
                                    throttled_retries=0))
        paths += files
    return paths


# Files DuckDB could not read (why) or read only above SCAN_FILE_BYTES (LARGE), by (path, size, mtime):
# later queries leave them out, or read them with MAX_FILE_BYTES, without a failed scan first.
LARGE = ""
_unreadable: dict[tuple[str, int, int], str] = {}
_unreadable_lock = threading.Lock()


def _file_identity(path: str) -> tuple[str, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return path, info.st_size, info.st_mtime_ns


def _read_json_sql(files: list[str], limit: int = SCAN_FILE_BYTES) -> str:
    return ("read_json([" + ", ".join(sql_string(f) for f in files) + "], format='unstructured', records=true, "
            f"compression='gzip', filename=true, maximum_object_size={limit}, "
            "columns={'Records': 'JSON[]'})")


def unreadable_reason(con: Any, path: str, limit: int = SCAN_FILE_BYTES) -> str | None:
    """Why DuckDB cannot read `path` as a CloudTrail log file (its error's first line), or None."""
    import duckdb

    try:
        odd = con.execute(f"SELECT count(*) FROM (SELECT unnest(Records) AS j FROM {_read_json_sql([path], limit)}) "
                          "WHERE json_type(j) <> 'OBJECT'").fetchall()[0][0]
    except duckdb.Error as exc:
        return " ".join(str(exc).split("\n")[0].split())[:300]
    return f"{odd} of its Records are not JSON objects" if odd else None


@dataclass
class LogFilesView:
    """A provider: the engine asks it for a DuckDB relation, and it makes a view over read_json.

    `on_skip(service, code, message)` reports a file left out because DuckDB cannot read it.
    """

    columns: tuple[ColumnSpec, ...]
    files: list[str]
    origin: str = "log"
    on_skip: Callable[[str, str, str], None] | None = None
    large_files: list[str] = field(default_factory=list)  # read with MAX_FILE_BYTES

    def _skip(self, path: str, reason: str) -> None:
        if self.on_skip is not None:
            service = "s3" if path.startswith(cache_root().as_posix() + "/") else "local"
            self.on_skip(service, "LogFileUnreadable", f"{path} is not a readable CloudTrail log file, skipped "
                                                       f"(the other files are read): {reason}")

    def source_sql(self) -> str:
        """One row per record: j (the record), and the account, region and log file of its file."""
        pattern = sql_string(SQL_PATH_PATTERN)
        root = cache_root().as_posix() + "/"
        # A cached S3 object is ROOT/ETAG/BUCKET/KEY: show it as s3://BUCKET/KEY.
        log_file = (f"CASE WHEN starts_with(filename, {sql_string(root)}) THEN 's3://' || "
                    f"regexp_replace(substr(filename, {len(root) + 1}), '^[^/]+/', '') ELSE filename END")
        return (f"(SELECT account_id, region, log_file, unnest(Records) AS j FROM ("
                f"SELECT regexp_extract(filename, {pattern}, 1) AS account_id, "
                f"regexp_extract(filename, {pattern}, 2) AS region, {log_file} AS log_file, Records "
                f"FROM {self._records_sql()}))")

    def _records_sql(self) -> str:
        """read_json of the files; the large ones in a read of their own, with the higher object limit."""
        if not self.large_files:
            return _read_json_sql(self.files)
        if not self.files:
            return _read_json_sql(self.large_files, MAX_FILE_BYTES)
        return (f"(SELECT * FROM {_read_json_sql(self.files)} UNION ALL BY NAME "
                f"SELECT * FROM {_read_json_sql(self.large_files, MAX_FILE_BYTES)})")

    def context(self) -> dict[str, str]:
        return {"$item": "j", "$account_id": "account_id", "$region": "region", "$log_file": "log_file",
                "$origin": sql_string(self.origin)}

    def to_duckdb(self, con: Any, name: str) -> None:
        with _unreadable_lock:
            known = dict(_unreadable)
        if known:  # files an earlier query found unreadable or large, unchanged since: at once
            kept = []
            for path in self.files:
                reason = known.get(_file_identity(path))  # type: ignore[arg-type]
                if reason is None:
                    kept.append(path)
                elif reason == LARGE:
                    self.large_files.append(path)
                else:
                    self._skip(path, reason)
            self.files = kept
        if not self.files and not self.large_files:
            replace_relation(con, name, "VIEW", empty_select(self.columns))
            return
        replace_relation(con, name, "VIEW", records_select(self.columns, self.source_sql(), self.context()))

    def recover(self, con: Any, name: str, error: Exception) -> bool:
        """After a failed query: leaves out the files DuckDB cannot read; True when the view changed.

        Only called when a query over the view failed, so the healthy path pays nothing: each file is
        read on its own (on a cursor of the same database), and the view is made again without the
        unreadable ones, each reported.
        """
        cursor = con.cursor()
        bad: dict[str, str] = {}
        large: list[str] = []
        try:
            for path in self.files:
                reason = unreadable_reason(cursor, path)
                if reason is not None and "maximum_object_size" in reason:
                    reason = unreadable_reason(cursor, path, MAX_FILE_BYTES)
                    if reason is None:
                        large.append(path)
                        continue
                if reason is not None:
                    bad[path] = reason
            for path in self.large_files:
                if (reason := unreadable_reason(cursor, path, MAX_FILE_BYTES)) is not None:
                    bad[path] = reason
        finally:
            cursor.close()
        if not bad and not large:
            return False
        for path, reason in [*bad.items(), *((p, LARGE) for p in large)]:
            identity = _file_identity(path)
            if identity is not None:
                with _unreadable_lock:
                    _unreadable[identity] = reason
            if reason != LARGE:
                self._skip(path, reason)
        self.files = [f for f in self.files if f not in bad and f not in large]
        self.large_files = [f for f in self.large_files if f not in bad] + large
        self.to_duckdb(con, name)
        return True


def sources_or_report(ctx: Any) -> list[str] | None:
    """The configured log sources; None (and a reported problem) when the configuration is unusable."""
    try:
        return configured_sources(ctx.fetcher.config)
    except LogSourceError as problem:
        report_problem(ctx, problem.code, str(problem))
        return None


def log_rows(ctx: Any) -> LogFilesView:
    """Rows function of aws_cloudtrail_log: a view over the log files the query's filters keep."""
    sources = sources_or_report(ctx)
    if sources is None:
        return LogFilesView(ctx.spec.columns, [])
    if not sources:  # not a failure, but an empty table deserves a word
        print("note: aws_cloudtrail_log is empty: name CloudTrail log folders or s3://bucket/prefix with "
              f"--cloudtrail-logs or cloudtrail_logs = [...] in {config_file()}", file=sys.stderr, flush=True)
        return LogFilesView(ctx.spec.columns, [])
    return LogFilesView(ctx.spec.columns, collect_log_files(ctx, sources), on_skip=Problems(ctx))
