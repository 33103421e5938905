"""Controls on Apache Spark over a Parquet snapshot (``apigw-sql check --engine spark --snapshot DIR``).

One SparkSession (local mode, ``local[2]``, unless a master URL or Spark Connect address is given) reads each
catalogue table of the snapshot as a temporary view with the catalogue's column order and types (partition
columns as text; a table without files is an empty typed view), and runs each control's SQL transpiled to
Spark SQL (``apigw_sql.transpile``). The rows go back to the one runner, which judges them as it judges
DuckDB's; DuckDB-only controls are reported skipped with their reason.

The session is set to behave like the DuckDB session the controls are written for: UTC, no ANSI errors
(DuckDB answers NULL where ANSI Spark raises), size(NULL) is NULL, and partition values stay text.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any

from ..catalog import Catalog, TableSpec, load_catalog
from ..errors import UserError
from ..snapshot_files import table_folder
from ..types import COLUMN_TYPES

INSTALL_HINT = "pip install 'apigw-sql[spark]'"

# Settings of every session this module starts (a cluster's own defaults may differ: these are what the
# controls' DuckDB semantics need).
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.sizeOfNull": "false",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.caseSensitive": "false",
}
# Only for a local session: small shuffles and no web UI (a cluster keeps its own).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.showConsoleProgress": "false",
}


class SparkUnavailable(UserError):
    """pyspark (or Java) is missing: the message names what to install."""


def require_pyspark() -> None:
    """Raise SparkUnavailable with the install line when pyspark cannot be imported."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(f"--engine spark needs pyspark: {INSTALL_HINT}") from None


def _spark_type(type_name: str) -> str:
    return COLUMN_TYPES[type_name].spark


def _file_schema(spec: TableSpec) -> str:
    """The table's schema in Spark, as DDL."""
    return ", ".join(f"`{c.name}` {_spark_type(c.type)}" for c in spec.columns)


def start_session(master: str | None = None, app_name: str = "apigw-sql") -> Any:
    """A SparkSession: Spark Connect when ``master`` is ``sc://...`` or SPARK_REMOTE is set, else ``master``
    (default ``local[2]``). Raises SparkUnavailable with a one-line reason when Spark cannot start."""
    require_pyspark()
    from pyspark.sql import SparkSession

    # The controls need no Python worker; if Spark starts one, it is this interpreter (it has pyspark).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    remote = master if master and master.startswith("sc://") else (None if master else os.environ.get("SPARK_REMOTE"))
    builder = SparkSession.builder.appName(app_name)
    if remote:
        builder = builder.remote(remote)
    else:
        builder = builder.master(master or "local[2]")
        if (master or "local").startswith("local"):
            for key, value in LOCAL_CONF.items():
                builder = builder.config(key, value)
    if not remote:  # Spark Connect takes runtime SQL settings after the session starts
        for key, value in SESSION_CONF.items():
            builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Java missing, a master that does not answer: one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(f"Spark did not start ({first}): check Java 17+ and --spark-master") from None
    for key, value in SESSION_CONF.items():
        try:
            session.conf.set(key, value)
        except Exception:  # noqa: BLE001 - a static setting already set at start
            pass
    if not remote:
        session.sparkContext.setLogLevel("ERROR")
    # pyspark logs every failed statement's context at ERROR; the runner reports the failure itself.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return session


def register_snapshot(session: Any, snapshot: str, catalog: Catalog | None = None) -> list[str]:
    """One temporary view per catalogue table over the snapshot; returns the tables that had files."""
    from pyspark.sql import functions as F

    catalog = catalog or load_catalog()
    found = []
    for name in catalog:
        spec = catalog[name]
        location = table_folder(snapshot, name)
        frame = None
        if "://" in snapshot or os.path.isdir(location):
            try:
                frame = (session.read.schema(_file_schema(spec)).option("basePath", location)
                         .option("recursiveFileLookup", "false").parquet(location))
            except Exception as exc:  # noqa: BLE001 - a prefix without files is an empty table
                if "PATH_NOT_FOUND" not in str(exc) and "does not exist" not in str(exc):
                    raise
        if frame is None:  # built in the JVM: an empty local list would start a Python worker
            frame = session.range(0).select(*[F.lit(None).cast(_spark_type(c.type)).alias(c.name)
                                              for c in spec.columns])
        else:
            found.append(name)
            frame = frame.select(*[F.col(f"`{c.name}`").cast(_spark_type(c.type)).alias(c.name)
                                   for c in spec.columns])
        frame.createOrReplaceTempView(name)
    return found


class SparkEngine:
    """Runs controls on Spark over a Parquet snapshot (runner.ControlEngine)."""

    name = "spark"

    def __init__(self, snapshot: str, master: str | None = None, catalog: Catalog | None = None,
                 session: Any = None):
        """Start (or reuse ``session``) and register the snapshot's tables; raises SparkUnavailable or
        UserError (a snapshot folder that does not exist)."""
        if "://" not in snapshot:
            if os.path.isfile(snapshot):
                raise UserError(f"--snapshot {snapshot}: --engine spark reads a Parquet snapshot folder, not a file "
                                "(write one with 'apigw-sql collect --out DIR')")
            if not os.path.isdir(snapshot):
                raise UserError(f"--snapshot {snapshot}: no such folder (a Parquet snapshot written by "
                                "'apigw-sql collect --out DIR')")
            snapshot = os.path.abspath(snapshot)
        self.snapshot = snapshot
        self.catalog = catalog or load_catalog()
        self.session = session or start_session(master)
        self.tables = register_snapshot(self.session, snapshot, self.catalog)

    def skip_reason(self, control: Any) -> str | None:
        from ..transpile import DUCKDB_ONLY

        reason = DUCKDB_ONLY.get(control.id)
        return f"DuckDB-only control, not run on Spark: {reason}" if reason else None

    def execute(self, control: Any, values: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The control's columns and rows; QueryError with Spark's one-line message when its SQL fails."""
        from ..engine import QueryError
        from ..transpile import transpile_control

        transpiled = transpile_control(control, "spark", values)
        try:
            table = self.session.sql(transpiled.sql).toArrow()
        except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException and friends: one line
            raise QueryError(_spark_message(exc)) from None
        return table.column_names, _rows(table)

    def close(self) -> None:
        """Leaves the session running for reuse (getOrCreate) within the process; stop() ends it."""

    def stop(self) -> None:
        self.session.stop()


def _rows(table: Any) -> list[tuple[Any, ...]]:
    """Rows as DuckDB gives them: timestamps naive in UTC (the session's zone)."""
    import pyarrow as pa

    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp(column.type.unit))
        columns.append(column.to_pylist())
    return list(zip(*columns)) if columns else []


def _spark_message(exc: Exception) -> str:
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__
