"""The SQL that turns CloudTrail records (JSON) into a table's columns, derived from the columns' paths.

aws_cloudtrail_log and aws_cloudtrail_event are read by DuckDB, from log files or from LookupEvents'
records, so their column paths are turned into SQL instead of being read by Python: `eventSource`
is a field of the record, `userIdentity.arn` a nested one, and `$item` (the whole record),
`$account_id`, `$region`, `$log_file` and `$origin` come from where the record was read.

The scalar columns (text, flags, times) are read by one json_transform per record into a struct of
exactly those fields: one parse, and lenient (a value of an unexpected type becomes NULL rather than
failing the query). JSON columns (requestParameters, userIdentity...) are extracted on their own,
so a query pays for them only when it uses them, and only for the rows its filters keep. A JSON
null reads as SQL NULL either way. Every JSON column (the whole record included) goes through
scrub.scrubbed_json_sql, so no API key value recorded by a key operation is ever shown.

>>> from apigw_sql.catalog import ColumnSpec
>>> cols = [ColumnSpec("event_name", "VARCHAR", "x.", path="eventName"),
...         ColumnSpec("user_arn", "VARCHAR", "x.", path="userIdentity.arn"),
...         ColumnSpec("event_time", "TIMESTAMP", "x.", path="eventTime"),
...         ColumnSpec("user_identity", "JSON", "x.", path="userIdentity")]
>>> transform_schema(cols)
{'eventName': 'VARCHAR', 'userIdentity': {'arn': 'VARCHAR'}, 'eventTime': 'VARCHAR'}
>>> print(select_list(cols, {}))
CAST(r."eventName" AS VARCHAR) AS "event_name",
  CAST(r."userIdentity"."arn" AS VARCHAR) AS "user_arn",
  CAST(TRY_CAST(r."eventTime" AS TIMESTAMPTZ) AS TIMESTAMP) AS "event_time",
  CAST(CASE WHEN contains(...) THEN ...
  ELSE nullif(json_extract(j, '$.userIdentity'), 'null'::JSON) END AS JSON) AS "user_identity"
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from ..catalog import ColumnSpec
from .scrub import scrubbed_json_sql

# The column types of table files, as json_transform types.
_TRANSFORM_TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN",
                    "TIMESTAMP": "VARCHAR", "JSON": "JSON", "VARCHAR[]": "VARCHAR[]"}


def sql_string(text: str) -> str:
    """A SQL string literal.

    >>> sql_string("it's")
    "'it''s'"
    """
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scalar_paths(columns: Iterable[ColumnSpec]) -> list[tuple[ColumnSpec, list[str]]]:
    return [(c, (c.path or "").split(".")) for c in columns
            if c.path and not c.path.startswith("$") and c.type != "JSON"]


def transform_schema(columns: Iterable[ColumnSpec]) -> dict[str, Any]:
    """The json_transform structure that holds every scalar record field the columns read."""
    schema: dict[str, Any] = {}
    for column, parts in _scalar_paths(columns):
        node = schema
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # read both whole and into: keep the whole, read into it later
                break
            node = child
        else:
            node.setdefault(parts[-1], _TRANSFORM_TYPES[column.type])
    return schema


def _field_sql(parts: list[str], schema: dict[str, Any]) -> str:
    expr = "r"
    node: Any = schema
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return f"json_extract_string(j, {sql_string('$.' + '.'.join(parts))})"
        expr += f".{_ident(part)}"
        node = node[part]
    return expr


def select_list(columns: Iterable[ColumnSpec], context: dict[str, str]) -> str:
    """`expr AS name` for each column; `context` maps $-paths to SQL ($item, $account_id, ...)."""
    columns = list(columns)
    schema = transform_schema(columns)
    items = []
    for column in columns:
        path = column.path or ""
        if path.startswith("$"):
            expr = context.get(path, "NULL")
            if path == "$item":
                expr = scrubbed_json_sql(expr)
        elif column.type == "JSON":
            expr = scrubbed_json_sql(f"nullif(json_extract(j, {sql_string('$.' + path)}), 'null'::JSON)")
        else:
            expr = _field_sql(path.split("."), schema)
            if column.type == "TIMESTAMP":
                expr = f"TRY_CAST({expr} AS TIMESTAMPTZ)"
        items.append(f"CAST({expr} AS {column.type}) AS {_ident(column.name)}")
    return ",\n  ".join(items)


def records_select(columns: Iterable[ColumnSpec], source: str, context: dict[str, str]) -> str:
    """SELECT of the columns over `source`, a relation with the record as JSON in column `j`.

    The scalar fields are transformed once (in the inner SELECT) and shared by every column.
    """
    columns = list(columns)
    schema = json.dumps(transform_schema(columns), separators=(",", ":"))
    return (f"SELECT\n  {select_list(columns, context)}\n"
            f"FROM (SELECT *, json_transform(j, {sql_string(schema)}) AS r FROM {source})")


def empty_select(columns: Iterable[ColumnSpec]) -> str:
    """A SELECT of the columns, typed, with no rows."""
    items = ", ".join(f"CAST(NULL AS {c.type}) AS {_ident(c.name)}" for c in columns)
    return f"SELECT {items} WHERE false"


def replace_relation(con: Any, name: str, kind: str, sql: str) -> None:
    """CREATE OR REPLACE a VIEW or TABLE `name` AS `sql`, whichever kind held the name before."""
    import duckdb

    try:
        con.execute(f"CREATE OR REPLACE {kind} {_ident(name)} AS {sql}")
    except duckdb.CatalogException:  # the name holds the other kind (a view where a table goes)
        other = "TABLE" if kind == "VIEW" else "VIEW"
        con.execute(f"DROP {other} IF EXISTS {_ident(name)}")
        con.execute(f"CREATE {kind} {_ident(name)} AS {sql}")
