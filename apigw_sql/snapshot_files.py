"""The snapshot contract, as the engine reads it: what a snapshot holds, where, and how a session opens one.

A snapshot is what ``apigw-sql collect`` wrote (``apigw_sql/snapshot.py``), in one of two forms:

- a DuckDB file: every collected table as a real DuckDB table with the catalogue's name, columns and types,
  plus the metadata table ``apigw_sql_snapshot``;
- a Parquet folder: ``PATH/<table>/account_id=<id>/region=<region>/<file>.parquet`` (hive partitions, as
  DuckDB's ``COPY ... PARTITION_BY`` writes them; a NULL region is ``region=__HIVE_DEFAULT_PARTITION__``),
  a table with one of the two columns partitioned by that one, a table with neither as
  ``PATH/<table>/<file>.parquet``, a table with no rows as no files, and
  ``PATH/apigw_sql_snapshot/account_id=<id>/<file>.parquet`` (one row per account per collect).

``open_snapshot`` makes every snapshot table of the catalogue a view with the catalogue's columns and types
(partition columns read as VARCHAR; a column the snapshot lacks reads as NULL), so queries and controls run
on it unchanged; catalogue tables the snapshot does not hold are named in ``missing``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog
from .errors import UserError
from .types import COLUMN_TYPES

SNAPSHOT_TABLE = "apigw_sql_snapshot"
# The metadata table: one row per account per collect run.
SNAPSHOT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("fetched_at", "TIMESTAMP", "When the collect run started (UTC)."),
    ("tool_version", "VARCHAR", "The apigw-sql version that wrote the snapshot."),
    ("account_id", "VARCHAR", "The AWS account the row describes."),
    ("regions", "VARCHAR[]", "The regions read for the account."),
    ("tables", "VARCHAR[]", "The tables the run collected (a table with no rows has no files but is listed)."),
    ("errors", "JSON", "The fetch errors of the account: a JSON array of {table, region, operation, code, "
                       "message}; [] when every call answered."),
)
FETCH_LOG = "apigw_sql_fetch_log"
PARTITION_COLUMNS = ("account_id", "region")
# File names that make a path a DuckDB-file snapshot; anything else (or an existing folder) is a Parquet folder.
DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")
_HIVE_TYPES = {"account_id": "VARCHAR", "region": "VARCHAR"}


class SnapshotError(UserError):
    """A snapshot cannot be opened or written; the message says what to do."""


@dataclass
class OpenedSnapshot:
    """A snapshot opened in a DuckDB session."""

    path: str
    kind: str                                   # "duckdb" or "parquet"
    served: frozenset[str]                      # every catalogue table the session reads from the snapshot
    present: list[str] = field(default_factory=list)   # those the snapshot holds
    missing: list[str] = field(default_factory=list)   # those it does not: empty tables with the catalogue's types
    accounts: list[str] = field(default_factory=list)  # from apigw_sql_snapshot

    def warning(self) -> str | None:
        """The sentence a front end prints when catalogue tables are not in the snapshot."""
        if not self.missing:
            return None
        names = ", ".join(self.missing)
        return (f"the snapshot {self.path} does not hold {len(self.missing)} table(s) of the catalogue, which read "
                f"as empty: {names} (collect them with 'apigw-sql collect TABLE ... --out {self.path}')")


def snapshot_kind(path: str) -> str:
    """"s3" for an s3:// prefix, "duckdb" for a file named *.duckdb, *.db or *.ddb or an existing file,
    "parquet" for anything else (an existing folder, or a new name without those suffixes).

    >>> snapshot_kind("s3://bucket/audit"), snapshot_kind("audit.duckdb"), snapshot_kind("audit/2026-11-30")
    ('s3', 'duckdb', 'parquet')
    """
    if path.startswith("s3://"):
        return "s3"
    if os.path.isdir(path):
        return "parquet"
    if os.path.isfile(path) or path.lower().endswith(DUCKDB_SUFFIXES):
        return "duckdb"
    return "parquet"


def snapshot_tables(catalog: Catalog) -> list[str]:
    """The catalogue tables a snapshot holds: every AWS and log table, and ``apigw_sql_fetch_log`` (the calls
    that made it: controls read it to know which accounts and regions were listed); not the tables that
    describe the tool itself (``apigw_sql_tables``, ``apigw_sql_columns``, ``apigw_sql_controls``)."""
    return [name for name in catalog if not name.startswith("apigw_sql_") or name == FETCH_LOG]


def partition_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The hive partition columns of a table with these columns: account_id and region, those it has."""
    return [c for c in PARTITION_COLUMNS if c in columns]


def table_folder(snapshot: str, table: str) -> str:
    """Where a table's files are in a Parquet snapshot (a folder, or an object-store prefix for other engines)."""
    return f"{snapshot.rstrip('/')}/{table}"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_source(folder: str, columns: list[str] | tuple[str, ...]) -> str:
    """The read_parquet expression over one table's folder, partition columns read as VARCHAR."""
    hive = partition_columns(columns)
    types = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in hive)
    pattern = os.path.join(folder, "**", "*.parquet")
    options = f", hive_partitioning = true, hive_types = {{{types}}}" if hive else ", hive_partitioning = false"
    return f"read_parquet({literal(pattern)}{options}, union_by_name = true)"


def has_files(folder: str) -> bool:
    """Whether a table's folder holds a Parquet file anywhere below it."""
    for _, _, files in os.walk(folder):
        if any(f.endswith(".parquet") for f in files):
            return True
    return False


def typed_select(wanted: list[tuple[str, str]], available: set[str], source: str) -> str:
    """SELECT of the wanted (column, DuckDB type) pairs from source, each cast; a column source lacks is NULL."""
    parts = [f"CAST({quote(c)} AS {t}) AS {quote(c)}" if c in available else f"CAST(NULL AS {t}) AS {quote(c)}"
             for c, t in wanted]
    return f"SELECT {', '.join(parts)} FROM {source}"


def open_snapshot(duck: Any, path: str, catalog: Catalog, schema: str = "main",
                  alias: str | None = None) -> OpenedSnapshot:
    """Make every snapshot table of the catalogue a view in ``schema`` over the snapshot at ``path`` (a DuckDB
    file, attached read-only as ``alias``, or a local Parquet folder); tables the snapshot lacks are left out
    and named in ``missing``. Raises SnapshotError when ``path`` is no snapshot."""
    import duckdb

    kind = snapshot_kind(path)
    if kind == "s3":
        raise SnapshotError(f"{path}: an s3:// snapshot is opened through apigw_sql.app.open_connection, which "
                            "downloads it first; or copy it to a local folder")
    if not os.path.exists(path):
        raise SnapshotError(f"no snapshot at {path}: write one with 'apigw-sql collect --out {path}'")
    wanted_tables = [*snapshot_tables(catalog), SNAPSHOT_TABLE]
    sources: dict[str, tuple[str, set[str]]] = {}  # table -> (FROM source, the columns it has)
    try:
        if kind == "duckdb":
            alias = alias or "apigw_sql_snapshot_file"
            duck.execute(f"ATTACH {literal(path)} AS {quote(alias)} (READ_ONLY)")
            rows = duck.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?",
                                [alias]).fetchall()
            held: dict[str, set[str]] = {}
            for table, column in rows:
                held.setdefault(table, set()).add(column)
            for name in wanted_tables:
                if name in held:
                    sources[name] = (f"{quote(alias)}.main.{quote(name)}", held[name])
        else:
            for name in wanted_tables:
                folder = table_folder(path, name)
                if not os.path.isdir(folder):
                    continue
                columns = _declared_columns(catalog, name)
                if has_files(folder):
                    source = parquet_source(folder, columns)
                    described = duck.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
                    sources[name] = (source, {row[0] for row in described})
                else:
                    sources[name] = ("", set())  # collected, no rows
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SnapshotError(f"{path} is not a readable apigw-sql snapshot ({first})") from None
    if SNAPSHOT_TABLE not in sources and not any(n in sources for n in wanted_tables):
        raise SnapshotError(f"{path} holds no apigw-sql snapshot (no {SNAPSHOT_TABLE} table nor catalogue table): "
                            "write one with 'apigw-sql collect --out PATH'")
    if schema != "main":
        duck.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    for name, (source, available) in sources.items():
        wanted = [(c, COLUMN_TYPES[t].duckdb) for c, t in _declared_types(catalog, name)]
        select = typed_select(wanted, available, source) if source else \
            typed_select(wanted, set(), "(SELECT 1) WHERE false")
        duck.execute(f"CREATE OR REPLACE VIEW {quote(schema)}.{quote(name)} AS {select}")
        description = catalog[name].description if name in catalog else "What each collect run read, per account."
        duck.execute(f"COMMENT ON VIEW {quote(schema)}.{quote(name)} IS {literal(description)}")
    accounts: list[str] = []
    recorded: set[str] = set()
    if SNAPSHOT_TABLE in sources:
        meta = f"{quote(schema)}.{quote(SNAPSHOT_TABLE)}"
        accounts = [r[0] for r in duck.execute(f"SELECT DISTINCT account_id FROM {meta} WHERE account_id IS NOT NULL "
                                               "ORDER BY 1").fetchall()]
        recorded = {r[0] for r in duck.execute(f"SELECT DISTINCT unnest(tables) FROM {meta}").fetchall()}
    served = snapshot_tables(catalog)
    present = [n for n in served if n in sources or n in recorded]
    missing = [n for n in served if n not in present]
    return OpenedSnapshot(path, kind, frozenset(served), present, missing, accounts)


def _declared_types(catalog: Catalog, name: str) -> list[tuple[str, str]]:
    if name == SNAPSHOT_TABLE:
        return [(c, t) for c, t, _ in SNAPSHOT_COLUMNS]
    return [(c.name, c.type) for c in catalog[name].columns]


def _declared_columns(catalog: Catalog, name: str) -> list[str]:
    return [c for c, _ in _declared_types(catalog, name)]
