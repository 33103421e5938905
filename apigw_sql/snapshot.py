"""`collect`: fetch catalogue tables once and keep them as a snapshot that sessions, the duckdb CLI and other
engines open as is (the layout is ``apigw_sql/snapshot_files.py``'s contract).

Where ``collect`` writes is decided by the path (``snapshot_files.snapshot_kind``):

- ``*.duckdb`` / ``*.db`` / ``*.ddb`` (or an existing DuckDB file): one DuckDB file, written beside the
  target and renamed over it once whole; it holds this run's tables and accounts only.
- any other path: a Parquet folder. Each run replaces, per table, only the ``account_id=<id>`` folders of the
  accounts it read (and theirs in ``apigw_sql_snapshot``), so one collect per account (a shard) can run
  anywhere, at any time, into one folder: the partitions form one dataset. Everything is written into a
  staging folder beside the target first; only once every table is written are the account folders swapped
  in, each in one atomic step (renameat2's RENAME_EXCHANGE on Linux; two renames elsewhere), the metadata
  last. A failed or cancelled run leaves the folder as it was.
- ``s3://bucket/prefix``: the Parquet folder, staged locally, then uploaded with a plain S3 client of the
  user's credentials (not the audit's read-only-guarded one: this is the one write apigw-sql makes, to the
  user's own destination). Per account folder the new files are uploaded before the old ones are deleted.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from . import __version__
from .atomic_file import PARTIAL
from .errors import UserError, unknown_table
from .snapshot_files import (FETCH_LOG, SNAPSHOT_COLUMNS, SNAPSHOT_TABLE, SnapshotError, literal,
                             partition_columns, quote, snapshot_kind, snapshot_tables, typed_select)
from .types import COLUMN_TYPES

__all__ = ["CollectResult", "SnapshotError", "collect", "download_snapshot", "resolve_tables"]

_META_VIEW = "__apigw_sql_snapshot_meta"


@dataclass
class CollectResult:
    """What a collect run wrote."""

    out: str
    kind: str                                       # "duckdb", "parquet" or "s3"
    tables: list[str]
    accounts: list[str]
    regions: list[str]
    rows: dict[str, int] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)  # FetchError of the run (recorded in apigw_sql_snapshot)
    files: int = 0                                  # Parquet files written (uploaded, for s3)
    bytes: int = 0                                  # their size, or the DuckDB file's


def resolve_tables(catalog: Any, names: list[str] | None) -> list[str]:
    """The tables to collect: those named (checked) and their parents, or every snapshot table of the catalogue;
    the fetch log always, last (it is loaded after the others, so it holds the run's calls)."""
    collectable = snapshot_tables(catalog)
    if not names:
        return [n for n in collectable if n != FETCH_LOG] + [FETCH_LOG]
    chosen: list[str] = []
    for name in names:
        if name not in catalog:
            raise UserError(unknown_table(name, collectable) + " ('apigw-sql tables' lists them)")
        if name not in collectable:
            raise UserError(f"{name} describes apigw-sql itself, not your estate: it is not collected")
        # A table's parents are fetched for it anyway: they are kept too, so that joins on them work.
        table: str | None = name
        while table is not None:
            if table not in chosen and table != FETCH_LOG:
                chosen.append(table)
            table = catalog[table].parent
    return chosen + [FETCH_LOG]


def check_destination(out: str) -> str:
    """The kind of snapshot ``out`` names, checked before any fetch (UserError saying what to do)."""
    kind = snapshot_kind(out)
    if kind == "s3":
        bucket = out[len("s3://"):].split("/", 1)[0]
        if not bucket:
            raise UserError(f"--out {out}: name a bucket, e.g. s3://my-bucket/apigw-sql")
        return kind
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UserError(f"--out {out}: the folder {folder} does not exist: create it or pick another path")
    if not os.access(folder, os.W_OK):
        raise UserError(f"--out {out}: cannot write in {folder}: pick a folder you can write to")
    if kind == "duckdb" and os.path.isfile(out) and not _is_duckdb_file(out):
        raise UserError(f"--out {out}: the file exists and is not a DuckDB database; a snapshot never replaces "
                        "another file: pick a new name")
    if kind == "parquet" and os.path.isdir(out) and os.listdir(out) \
            and not os.path.isdir(os.path.join(out, SNAPSHOT_TABLE)):
        raise UserError(f"--out {out}: the folder is not empty and holds no apigw-sql snapshot; name a new or "
                        "empty folder (or a .duckdb file)")
    return kind


def collect(con: Any, out: str, tables: list[str] | None = None,
            on_progress: Callable[[Any], None] | None = None) -> CollectResult:
    """Fetch ``tables`` (default: every snapshot table) once over ``con`` and write them to ``out``.

    Raises UserError before writing anything when the destination is wrong, when the fetch cannot be made
    (credentials, endpoint) or when nothing at all could be read; fetch errors of a run that read something
    are written into ``apigw_sql_snapshot.errors`` and returned in ``errors``.
    """
    names = resolve_tables(con.catalog, tables)
    kind = check_destination(out)
    started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    log_start = len(con.fetch_log)
    fetched = con.fetch(names, on_progress)
    log = con.fetch_log[log_start:]
    answered = [r for r in log if r.error_code is None and not r.table.startswith("(")]
    if fetched.errors and not answered:
        first = fetched.errors[0]
        raise SnapshotError(f"nothing could be read ({first.operation} failed with {first.code}: {first.message}); "
                            f"no snapshot was written and {out} is left as it was")
    accounts = _accounts(con, names)
    regions_of = _regions(con, log)
    _metadata(con, started_at, accounts, regions_of, names, fetched.errors)
    rows = {name: con.duck.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0] for name in names}
    result = CollectResult(out, kind, names, accounts, sorted({r for rs in regions_of.values() for r in rs}),
                           rows, list(fetched.errors))
    try:
        if kind == "duckdb":
            _write_duckdb(con, names, out, result)
        else:
            staging = _staging_dir(out if kind == "parquet" else None)
            # Per table, whether its folders are per account; the metadata last, once the data is in place.
            units = {name: "account_id" in con.catalog[name].column_names for name in names}
            units[SNAPSHOT_TABLE] = True
            try:
                _write_parquet(con, names, staging, result)
                if kind == "parquet":
                    _publish_local(staging, out, units, accounts)
                else:
                    _publish_s3(con, staging, out, units, accounts, result)
            finally:
                _remove_tree(staging)
    finally:
        con.duck.execute(f"DROP TABLE IF EXISTS {quote(_META_VIEW)}")
    return result


# ---- what the run read ----------------------------------------------------------------------------

def _accounts(con: Any, names: list[str]) -> list[str]:
    """The accounts of the run: those the fetcher resolved, and any the collected rows name (log files)."""
    found = {t.account_id for t in con.fetcher.known_targets()}
    for name in names:
        if "account_id" in con.catalog[name].column_names:
            found |= {r[0] for r in con.duck.execute(
                f"SELECT DISTINCT account_id FROM {quote(name)} WHERE account_id IS NOT NULL").fetchall()}
    return sorted(found)


def _regions(con: Any, log: list[Any]) -> dict[str, list[str]]:
    """Per account, the regions read: those asked for, else those the run's calls went to."""
    asked = con.options.regions
    found: dict[str, set[str]] = {}
    for record in log:
        if record.account_id and record.region and not record.table.startswith("("):
            found.setdefault(record.account_id, set()).add(record.region)
    return {account: sorted(asked or regions) for account, regions in found.items()}


def _metadata(con: Any, started_at: datetime, accounts: list[str], regions_of: dict[str, list[str]],
              names: list[str], errors: list[Any]) -> None:
    """The apigw_sql_snapshot rows of the run, as a table in the session (one row per account)."""
    import pyarrow as pa

    records = []
    for account in accounts or [None]:
        mine = [{"table": e.table, "region": e.region, "operation": e.operation, "code": e.code,
                 "message": e.message} for e in errors if e.account_id == account or account is None]
        records.append({"fetched_at": started_at, "tool_version": __version__, "account_id": account,
                        "regions": regions_of.get(account or "", list(con.options.regions or [])),
                        "tables": list(names), "errors": json.dumps(mine)})
    schema = pa.schema([(c, COLUMN_TYPES[t].arrow()) for c, t, _ in SNAPSHOT_COLUMNS])
    arrow = pa.Table.from_pylist(records, schema=schema)
    con.duck.register("__apigw_sql_meta_rows", arrow)
    try:
        select = typed_select([(c, COLUMN_TYPES[t].duckdb) for c, t, _ in SNAPSHOT_COLUMNS],
                              {c for c, _, _ in SNAPSHOT_COLUMNS}, "__apigw_sql_meta_rows")
        con.duck.execute(f"CREATE OR REPLACE TEMP TABLE {quote(_META_VIEW)} AS {select}")
    finally:
        con.duck.unregister("__apigw_sql_meta_rows")


def _select(con: Any, name: str) -> str:
    """The collected table as the catalogue types it (a provider's view is cast like a loaded table)."""
    columns = [(c.name, COLUMN_TYPES[c.type].duckdb) for c in con.catalog[name].columns]
    return typed_select(columns, {c for c, _ in columns}, quote(name))


# ---- DuckDB file ----------------------------------------------------------------------------------

def _write_duckdb(con: Any, names: list[str], out: str, result: CollectResult) -> None:
    folder = os.path.dirname(os.path.abspath(out))
    temporary = os.path.join(folder, f".{os.path.basename(out)}.{uuid.uuid4().hex[:8]}.part")
    PARTIAL.add(temporary)
    alias = "__apigw_sql_collect_out"
    try:
        con.duck.execute(f"ATTACH {literal(temporary)} AS {quote(alias)}")
        try:
            statements = [f"CREATE TABLE {quote(alias)}.{quote(name)} AS {_select(con, name)}" for name in names]
            statements.append(f"CREATE TABLE {quote(alias)}.{quote(SNAPSHOT_TABLE)} AS "
                              f"SELECT * FROM {quote(_META_VIEW)}")
            for statement in statements:
                con.duck.execute(statement)
        finally:
            con.duck.execute(f"DETACH {quote(alias)}")
        os.replace(temporary, out)
        result.bytes = os.path.getsize(out)
    except BaseException:
        _remove_tree(temporary)
        raise
    finally:
        PARTIAL.discard(temporary)


def _is_duckdb_file(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


# ---- Parquet folder -------------------------------------------------------------------------------

def _staging_dir(out: str | None) -> str:
    """A fresh staging folder: beside a local target (the same file system, so renames work), else in /tmp."""
    if out is None:
        path = tempfile.mkdtemp(prefix="apigw-sql-snapshot-")
    else:
        parent = os.path.dirname(os.path.abspath(out))
        path = os.path.join(parent, f".{os.path.basename(os.path.abspath(out))}.staging-{uuid.uuid4().hex[:8]}")
        os.mkdir(path)
    PARTIAL.add(path)
    return path


def _write_parquet(con: Any, names: list[str], staging: str, result: CollectResult) -> None:
    """Every table and the metadata into ``staging``, in the contract's layout (no files for no rows)."""
    for name in [*names, SNAPSHOT_TABLE]:
        columns = [c for c, _, _ in SNAPSHOT_COLUMNS] if name == SNAPSHOT_TABLE else con.catalog[name].column_names
        select = f"SELECT * FROM {quote(_META_VIEW)}" if name == SNAPSHOT_TABLE else _select(con, name)
        target = os.path.join(staging, name)
        partitions = partition_columns(columns)
        if partitions:
            con.duck.execute(f"COPY ({select}) TO {literal(target)} (FORMAT parquet, PARTITION_BY "
                             f"({', '.join(quote(c) for c in partitions)}), FILENAME_PATTERN 'part-{{uuid}}')")
        else:
            os.makedirs(target, exist_ok=True)
            if con.duck.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]:
                file = os.path.join(target, f"part-{uuid.uuid4()}.parquet")
                con.duck.execute(f"COPY ({select}) TO {literal(file)} (FORMAT parquet)")
        os.makedirs(target, exist_ok=True)  # a table with no rows: collected, no files
    for folder, _, files in os.walk(staging):
        for f in files:
            result.files += 1
            result.bytes += os.path.getsize(os.path.join(folder, f))


def _units(staging: str, table: str, accounts: list[str], by_account: bool) -> list[str]:
    """The folders of a table one run replaces, relative to the snapshot: ``TABLE/account_id=<id>`` for each
    account of the run and each account the run's rows name; the whole ``TABLE`` when it has no account_id."""
    if not by_account:
        return [table]
    staged = os.path.join(staging, table)
    entries = os.listdir(staged) if os.path.isdir(staged) else []
    ids = set(accounts) | {e[len("account_id="):] for e in entries if e.startswith("account_id=")}
    return [f"{table}/account_id={account}" for account in sorted(ids)]


def _publish_local(staging: str, out: str, tables: dict[str, bool], accounts: list[str]) -> None:
    """Swap the run's account folders into ``out``, table by table, the metadata last; other folders stay."""
    os.makedirs(out, exist_ok=True)
    trash = os.path.join(staging, ".replaced")
    os.makedirs(trash, exist_ok=True)
    for table in tables:
        os.makedirs(os.path.join(out, table), exist_ok=True)  # collected: present even with no rows
        for unit in _units(staging, table, accounts, tables[table]):
            new, old = os.path.join(staging, unit), os.path.join(out, unit)
            if os.path.exists(old) and os.path.exists(new) and _exchange(new, old):
                continue  # swapped in one step: the previous folder is now in staging, removed with it
            if os.path.exists(old):
                os.rename(old, os.path.join(trash, uuid.uuid4().hex))
            if os.path.exists(new):
                os.makedirs(os.path.dirname(old), exist_ok=True)
                os.rename(new, old)


def _exchange(first: str, second: str) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE), so that a reader sees the old
    folder or the new one, never neither; False where the system cannot (the caller renames twice)."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0


# ---- S3 -------------------------------------------------------------------------------------------

def s3_client(options: Any) -> Any:
    """A plain S3 client of the user's credentials (profile, endpoint): NOT the fetcher's read-only-guarded
    client, since writing a snapshot to the user's own bucket (or reading one back) is not an audit call."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=options.profile)
    kwargs: dict[str, Any] = {"region_name": session.region_name or "us-east-1"}
    endpoint = options.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        kwargs["endpoint_url"] = endpoint
        kwargs["config"] = Config(s3={"addressing_style": "path"})
    return session.client("s3", **kwargs)


def _split_s3(url: str) -> tuple[str, str]:
    bucket, _, prefix = url[len("s3://"):].partition("/")
    return bucket, prefix.strip("/")


def _list_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def _publish_s3(con: Any, staging: str, out: str, tables: dict[str, bool], accounts: list[str],
                result: CollectResult) -> None:
    """Upload the run's account folders under ``out``: per folder the new files first, then the old ones
    deleted (S3 has no rename: a reader in between sees both, never neither); the metadata last."""
    import botocore.exceptions as bx

    client = s3_client(con.options)
    bucket, prefix = _split_s3(out)
    base = f"{prefix}/" if prefix else ""
    try:
        for table in tables:
            for unit in _units(staging, table, accounts, tables[table]):
                old = set(_list_keys(client, bucket, f"{base}{unit}/"))
                new: set[str] = set()
                local = os.path.join(staging, unit)
                for folder, _, files in os.walk(local):
                    for f in files:
                        path = os.path.join(folder, f)
                        key = base + os.path.relpath(path, staging).replace(os.sep, "/")
                        client.upload_file(path, bucket, key)
                        new.add(key)
                stale = sorted(old - new)
                for i in range(0, len(stale), 1000):
                    client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[i:i + 1000]]})
    except (bx.BotoCoreError, bx.ClientError) as exc:
        raise SnapshotError(f"cannot write the snapshot to {out}: {exc}") from None


def download_snapshot(url: str, options: Any) -> str:
    """Download the Parquet snapshot under an s3:// prefix into a new local folder (the caller removes it)."""
    import botocore.exceptions as bx

    client = s3_client(options)
    bucket, prefix = _split_s3(url)
    base = f"{prefix}/" if prefix else ""
    target = tempfile.mkdtemp(prefix="apigw-sql-snapshot-")
    try:
        keys = [k for k in _list_keys(client, bucket, base) if k.endswith(".parquet")]
        if not keys:
            raise SnapshotError(f"no snapshot at {url}: no Parquet file under it (write one with "
                                f"'apigw-sql collect --out {url}')")
        for key in keys:
            relative = key[len(base):]
            if any(part in ("", ".", "..") for part in relative.split("/")):
                continue  # not a path of the layout: never written outside the folder
            path = os.path.join(target, *relative.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            client.download_file(bucket, key, path)
    except (bx.BotoCoreError, bx.ClientError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise SnapshotError(f"cannot read the snapshot {url}: {exc}") from None
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _remove_tree(path: str) -> None:
    PARTIAL.discard(path)
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        try:
            os.unlink(path)
        except OSError:
            pass
