"""`diff`: what changed between two snapshots, per table: resources added, removed and changed (which columns).

Rows are matched by a key, with ``account_id`` and ``region`` always part of it (a trail has one row per
region it appears in, under one ARN):

- a table with an ``arn`` column: the ARN;
- the others, by the columns that name one row, from their table files (``KEYS`` below); a table missing
  there is compared row by row (whole rows: only added and removed, never changed).

Only tables both snapshots hold are compared (not the fetch log: each run's calls differ by nature); the
others are named in a warning (a table collected into
one snapshot only would otherwise look wholly added or removed).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, load_catalog
from .connection_options import ConnectionOptions
from .snapshot_files import FETCH_LOG, SnapshotError, open_snapshot, quote, snapshot_tables

# The key of each table without an arn column (besides account_id and region).
KEYS: dict[str, tuple[str, ...]] = {
    "aws_api_gateway_access_grant": ("principal_arn", "access", "api_id", "api_region", "via"),
    "aws_api_gateway_access_log": ("api_id", "stage", "request_id", "request_time"),
    "aws_api_gateway_access_log_source": ("stage_arn",),
    "aws_api_gateway_method_setting": ("stage_arn", "key"),
    "aws_api_gateway_metric": ("api_id", "stage", "metric_name", "statistic", "period", "timestamp"),
    "aws_api_gateway_rest_api_policy_statement": ("rest_api_arn", "statement_index"),
    "aws_cloudtrail_event": ("event_id",),
    "aws_cloudtrail_log": ("event_id",),
    "aws_cloudtrail_lookup_event": ("event_id",),
    "aws_iam_policy_statement": ("principal_arn", "source", "policy_arn", "group_name", "statement_index"),
}

DIFF_COLUMNS = ("table_name", "change", "key", "account_id", "region", "columns")
DIFF_TYPES = ("VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR[]")


@dataclass
class DiffOutcome:
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # DIFF_COLUMNS, ordered by table, change, key
    warnings: list[str] = field(default_factory=list)
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the key used per table compared


def key_columns(catalog: Catalog, table: str) -> tuple[str, ...]:
    """The columns that identify a row of ``table`` in a diff (see the module docstring)."""
    columns = catalog[table].column_names
    own = ("arn",) if "arn" in columns else KEYS.get(table, tuple(c for c in columns))
    return tuple(c for c in ("account_id", "region") if c in columns and c not in own) + own


def diff_snapshots(old: str, new: str, *, profile: str | None = None, endpoint_url: str | None = None,
                   catalog: Catalog | None = None) -> DiffOutcome:
    """Compare two snapshots (DuckDB files, Parquet folders or s3:// prefixes). Raises SnapshotError."""
    import duckdb

    catalog = catalog or load_catalog()
    local: list[str] = []
    downloaded: list[str] = []
    try:
        for path in (old, new):
            if path.startswith("s3://"):
                from .snapshot import download_snapshot

                downloaded.append(download_snapshot(path, ConnectionOptions(profile=profile,
                                                                            endpoint_url=endpoint_url)))
                local.append(downloaded[-1])
            elif not os.path.exists(path):
                raise SnapshotError(f"no snapshot at {path}: write one with 'apigw-sql collect --out {path}'")
            else:
                local.append(path)
        duck = duckdb.connect()
        try:
            duck.execute("SET TimeZone = 'UTC'")
            before = open_snapshot(duck, local[0], catalog, schema="old", alias="old_file")
            after = open_snapshot(duck, local[1], catalog, schema="new", alias="new_file")
            outcome = DiffOutcome()
            held = set(before.present) & set(after.present)
            one_sided = sorted((set(before.present) | set(after.present)) - held)
            if one_sided:
                outcome.warnings.append(f"not compared, as only one snapshot holds them: {', '.join(one_sided)}")
            for table in snapshot_tables(catalog):
                if table in held and table != FETCH_LOG:  # the calls of each run differ by nature
                    outcome.keys[table] = key_columns(catalog, table)
                    try:
                        outcome.rows += _diff_table(duck, catalog, table, outcome.keys[table])
                    except duckdb.Error as exc:
                        first = str(exc).strip().splitlines()[0]
                        raise SnapshotError(f"cannot compare {table} of {old} and {new}: {first}") from None
            return outcome
        finally:
            duck.close()
    finally:
        import shutil

        for folder in downloaded:
            shutil.rmtree(folder, ignore_errors=True)


def _relation(duck: Any, schema: str, table: str) -> str:
    """The snapshot's view, or nothing when the table was collected with no rows (no view, no files)."""
    found = duck.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
                         [schema, table]).fetchone()[0]
    return f"{quote(schema)}.{quote(table)}" if found else ""


def _diff_table(duck: Any, catalog: Catalog, table: str, key: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The added, removed and changed rows of one table, as DIFF_COLUMNS tuples."""
    columns = catalog[table].column_names
    empty = "(SELECT " + ", ".join(f"NULL AS {quote(c)}" for c in columns) + " WHERE false)"
    old = _relation(duck, "old", table) or empty
    new = _relation(duck, "new", table) or empty
    shown = [c for c in key if c not in ("account_id", "region")] or list(key)

    def either(column: str | None) -> str:
        return f"coalesce(n.{quote(column)}, o.{quote(column)})" if column else "NULL"

    key_text = "concat_ws(' ', " + ", ".join(f"CAST({either(c)} AS VARCHAR)" for c in shown) + ")"
    join = " AND ".join(f"o.{quote(c)} IS NOT DISTINCT FROM n.{quote(c)}" for c in key)
    others = [c for c in columns if c not in key]
    changed = "list_filter([" + ", ".join(
        f"CASE WHEN o.{quote(c)} IS DISTINCT FROM n.{quote(c)} THEN '{c}' END" for c in others) + \
        "], lambda x: x IS NOT NULL)" if others else "[]::VARCHAR[]"
    # Rows that share a key (access-log records without a request id) are paired in a stable order.
    order = ", ".join(f"CAST({quote(c)} AS VARCHAR)" for c in others) or "1"
    number = f"row_number() OVER (PARTITION BY {', '.join(quote(c) for c in key)} ORDER BY {order}) AS __n"
    sql = f"""
        WITH o AS (SELECT *, true AS __present, {number} FROM {old}),
             n AS (SELECT *, true AS __present, {number} FROM {new})
        SELECT CASE WHEN o.__present IS NULL THEN 'added' WHEN n.__present IS NULL THEN 'removed'
                    ELSE 'changed' END AS change,
               {key_text} AS key,
               {either("account_id" if "account_id" in columns else None)} AS account_id,
               {either("region" if "region" in columns else None)} AS region,
               {changed} AS columns
        FROM o FULL OUTER JOIN n ON {join} AND o.__n = n.__n
    """
    result = []
    for change, key_value, account, region, changed_columns in duck.execute(sql).fetchall():
        if change == "changed" and not changed_columns:
            continue  # the same row in both
        result.append((table, change, key_value, account, region, changed_columns if change == "changed" else None))
    order = {"added": 0, "removed": 1, "changed": 2}
    result.sort(key=lambda r: (order[r[1]], r[2] or "", r[3] or "", r[4] or ""))
    return result
