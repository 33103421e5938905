"""The Parquet snapshot layout, and DuckDB over it.

A snapshot is a folder (or an object-store prefix) with one folder per catalogue table, hive-partitioned by
``account_id`` and ``region`` when the table has them: ``OUT/<table>/account_id=<id>/region=<r>/<file>.parquet``
(what DuckDB's ``COPY ... (FORMAT parquet, PARTITION_BY (account_id, region))`` writes). Partition columns live
in the path and are read as text; a table with no rows has no folder and reads as an empty table with the
catalogue's types. Every reader gives each table the catalogue's column order and types.

``duckdb_snapshot_views`` makes those tables views in a DuckDB connection; ``DuckDBSnapshotEngine`` runs
controls on them unchanged (the reference the other engines are held to).
"""
from __future__ import annotations

import os
from typing import Any, Sequence

from ..catalog import Catalog, TableSpec, load_catalog
from ..types import COLUMN_TYPES

PARTITION_COLUMNS = ("account_id", "region")
METADATA_TABLE = "apigw_sql_snapshot"


def partition_columns(spec: TableSpec) -> list[str]:
    """The columns a table is partitioned by in a snapshot: account_id then region, those it has."""
    return [c for c in PARTITION_COLUMNS if spec.column(c) is not None]


def table_location(snapshot: str, table: str) -> str:
    """Where a table's files are under a snapshot folder or prefix."""
    return f"{snapshot.rstrip('/')}/{table}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_table_sql(spec: TableSpec, snapshot: str) -> str:
    """A SELECT giving the table from the snapshot with the catalogue's column order and types (an empty
    typed table when the snapshot holds no file of it)."""
    columns = ", ".join(f"CAST({_quote(c.name)} AS {COLUMN_TYPES[c.type].duckdb}) AS {_quote(c.name)}"
                        for c in spec.columns)
    location = table_location(snapshot, spec.name)
    if "://" not in snapshot and not _has_parquet(location):
        empty = ", ".join(f"CAST(NULL AS {COLUMN_TYPES[c.type].duckdb}) AS {_quote(c.name)}" for c in spec.columns)
        return f"SELECT {empty} WHERE false"
    parts = partition_columns(spec)
    hive = ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in parts)
    options = f", hive_partitioning = true, hive_types = {{{hive}}}" if parts else ""
    return f"SELECT {columns} FROM read_parquet({_literal(location + '/**/*.parquet')}{options})"


def _has_parquet(folder: str) -> bool:
    for _, _, files in os.walk(folder):
        if any(f.endswith(".parquet") for f in files):
            return True
    return False


def duckdb_snapshot_views(duck: Any, snapshot: str, catalog: Catalog | None = None,
                          tables: Sequence[str] | None = None) -> list[str]:
    """Create one view per catalogue table (or per table named) over the snapshot; returns the names."""
    catalog = catalog or load_catalog()
    names = list(tables) if tables is not None else list(catalog)
    for name in names:
        duck.execute(f"CREATE OR REPLACE VIEW {_quote(name)} AS {duckdb_table_sql(catalog[name], snapshot)}")
    return names


class DuckDBSnapshotEngine:
    """Runs controls unchanged on DuckDB over a Parquet snapshot (runner.ControlEngine)."""

    name = "duckdb"

    def __init__(self, snapshot: str, catalog: Catalog | None = None):
        import duckdb

        self.catalog = catalog or load_catalog()
        self.duck = duckdb.connect()
        self.duck.execute("SET TimeZone = 'UTC'")
        duckdb_snapshot_views(self.duck, snapshot, self.catalog)

    def skip_reason(self, control: Any) -> str | None:
        return None  # the controls are DuckDB SQL

    def execute(self, control: Any, values: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        import duckdb

        from ..controls.runner import parameters_set
        from ..engine import QueryError

        try:
            with parameters_set(self.duck, control, values):
                relation = self.duck.execute(control.sql)
                columns = [d[0] for d in relation.description]
                return columns, relation.fetchall()
        except duckdb.Error as exc:
            lines = [line for line in str(exc).strip().splitlines() if line.strip()]
            raise QueryError(lines[0] if lines else type(exc).__name__) from None

    def close(self) -> None:
        self.duck.close()
