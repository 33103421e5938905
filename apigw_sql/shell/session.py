"""The shell's state: its settings, the last result, and the Connection, opened in the background so
the prompt shows before DuckDB, boto3 or the sandbox are imported."""
from __future__ import annotations

import argparse
import sys
import threading
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TextIO

from .vocabulary import FUNCTIONS


@dataclass
class Tabular:
    """A result the shell shows and can export; `arrow` is the engine's Arrow table when there is one."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    arrow: Any = None

    def to_arrow(self) -> Any:
        if self.arrow is not None:
            return self.arrow
        import pyarrow as pa

        return pa.Table.from_pylist([dict(zip(self.columns, row)) for row in self.rows])


class ShellSession:
    """One shell's settings and connection; the REPL, the meta-commands and the completer share it."""

    def __init__(self, args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None):
        self.args = args
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.format = "table"
        self.timing = False
        self.pager = True
        self.last: Tabular | None = None
        self.busy: Any = None  # the worker.Worker running (or winding down) a statement
        self._catalog: Any = None
        self._functions: list[str] | None = None
        self._opening: Future | None = None
        self._lock = threading.Lock()
        self._stack = ExitStack()

    # ---- the connection -------------------------------------------------------------------
    def start_opening(self) -> None:
        """Open the connection in a background thread (imports DuckDB and boto3; no AWS call)."""
        with self._lock:
            if self._opening is None:
                self._opening = Future()
                threading.Thread(target=self._open, args=(self._opening,), name="apigw-sql-open",
                                 daemon=True).start()

    def _open(self, future: Future) -> None:
        try:
            from ..app import connection_options, open_connection

            con = self._stack.enter_context(open_connection(connection_options(self.args)))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the connection
            future.set_exception(exc)
            return
        future.set_result(con)
        import boto3  # noqa: F401 - the first query would import it: do it while the user types

    def connection(self) -> Any:
        """The Connection, waiting for it to open; an opening that failed is retried on the next call."""
        self.start_opening()
        future = self._opening
        assert future is not None
        try:
            return future.result()
        except BaseException:
            with self._lock:
                if self._opening is future:
                    self._opening = None
            raise

    def connection_if_ready(self) -> Any:
        future = self._opening
        if future is not None and future.done() and future.exception() is None:
            return future.result()
        return None

    def idle_connection(self) -> Any:
        """The Connection when it is open and no statement is using it (safe for completion queries)."""
        if self.busy is not None and self.busy.is_alive():
            return None
        return self.connection_if_ready()

    def interrupt(self) -> None:
        con = self.connection_if_ready()
        if con is not None:
            con.interrupt()

    def close(self) -> None:
        future = self._opening
        if future is not None:
            try:
                future.result(timeout=30)
            except BaseException:  # noqa: BLE001 - closing: a failed opening has nothing to close
                pass
        self._stack.close()

    # ---- what the completer and the meta-commands read -----------------------------------
    @property
    def catalog(self) -> Any:
        """The table catalog (files on disk; no AWS call). Raises SpecError for a broken table file."""
        con = self.connection_if_ready()
        if con is not None:
            return con.catalog
        if self._catalog is None:
            from ..catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    def local_relations(self) -> list[str]:
        """Tables and views created in this session's DuckDB (not the catalog's own tables)."""
        con = self.idle_connection()
        if con is None:
            return []
        rows = con.duck.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main' "
            "UNION SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()
        return sorted(name for (name,) in rows if name not in con.catalog)

    def loaded_tables(self) -> set[str]:
        """The tables with rows in this session's DuckDB (catalog tables appear once a query read them)."""
        con = self.idle_connection()
        if con is None:
            return set()
        # estimated_size: the catalog's empty placeholders (declared for discovery) hold no rows yet
        rows = con.duck.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                                "AND estimated_size > 0").fetchall()
        return {name for (name,) in rows}

    def columns_of(self, table: str) -> list[tuple[str, str, str]]:
        """(name, type, description) of a catalog table's or a local relation's columns."""
        spec = self.catalog.get(table)
        if spec is not None:
            return [(c.name, c.type, c.description) for c in spec.columns]
        con = self.idle_connection()
        if con is None:
            return []
        rows = con.duck.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                "WHERE table_name = ? AND schema_name = 'main' ORDER BY column_index",
                                [table]).fetchall()
        return [(name, ctype, "") for name, ctype in rows]

    def json_keys(self, table: str, column: str, path: str) -> list[str]:
        """The keys found at `path` of a JSON column, from rows already loaded (never fetches)."""
        con = self.idle_connection()
        if con is None or table not in self.loaded_tables():
            return []
        quoted_table = '"' + table.replace('"', '""') + '"'
        quoted_column = '"' + column.replace('"', '""') + '"'
        rows = con.duck.execute(
            f"SELECT DISTINCT k FROM (SELECT unnest(json_keys({quoted_column}, ?)) AS k FROM {quoted_table} "
            f"WHERE json_type({quoted_column}, ?) = 'OBJECT') ORDER BY k LIMIT 500", [path, path]).fetchall()
        return [k for (k,) in rows]

    def functions(self) -> list[str]:
        if self._functions is None:
            con = self.idle_connection()
            if con is None:
                return list(FUNCTIONS)
            rows = con.duck.execute("SELECT DISTINCT function_name FROM duckdb_functions() "
                                    "WHERE function_type IN ('scalar', 'aggregate', 'table', 'macro', "
                                    "'table_macro') AND NOT starts_with(function_name, '__')").fetchall()
            names = {name for (name,) in rows if name.isidentifier()}
            self._functions = list(FUNCTIONS) + sorted(names - set(FUNCTIONS))
        return self._functions
