"""The SQL that turns one stage's access-log records (text lines) into the table's columns.

Records are read by DuckDB, never by Python: a relation with ``message`` (the record as written),
``event_time`` (the CloudWatch Logs timestamp, or the export line's; NULL for Firehose files) and
``source`` (the log group or file) is mapped by one SELECT per stage, built from the stage's parsed
format (formats.FormatSpec): a JSON record is parsed once by json_transform into a struct of exactly
the keys the template names, a text record by one regexp_extract into a struct of its groups. The
values API Gateway writes for "absent" (``-``, empty) read as NULL. A record that does not parse
keeps its text in ``message`` and says why in ``parse_error``.

>>> from apigw_sql.usage.formats import parse_format
>>> spec = parse_format('{"ip": "$context.identity.sourceIp", "status": "$context.status"}')
>>> print(column_expressions(spec)["source_ip"])
nullif(nullif(CAST(r."ip" AS VARCHAR), '-'), '')
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

from ..catalog import ColumnSpec
from ..cloudtrail.record_sql import sql_string
from .formats import COLUMN_VARIABLES, FormatSpec

# CLF time as API Gateway writes $context.requestTime: 30/Nov/2026:10:00:01 +0000
_CLF_TIME = "%d/%b/%Y:%H:%M:%S %z"
_NUMERIC = {"status": "BIGINT", "response_length": "BIGINT", "latency_ms": "DOUBLE", "integration_latency_ms": "DOUBLE"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class StageConstants:
    """What every record of a stage carries whatever its format holds."""

    account_id: str
    region: str
    api_id: str
    stage: str


def _raw_value(spec: FormatSpec, variable: str) -> str:
    where = spec.fields[variable]
    if spec.kind == "json":
        assert isinstance(where, tuple)
        return "r." + ".".join(_ident(k) for k in where)
    return f"r.g{where}"


def _clean(expr: str) -> str:
    # No trim: a JSON value is as written, and a text group ends at its literal separator.
    return f"nullif(nullif(CAST({expr} AS VARCHAR), '-'), '')"


def column_expressions(spec: FormatSpec) -> dict[str, str]:
    """Column -> SQL over `r` (the parsed struct) for the columns the format fills, untyped but cleaned."""
    found: dict[str, str] = {}
    if spec.kind == "unparseable":
        return found
    for column in COLUMN_VARIABLES:
        variables = spec.variable_for(column)
        if not variables:
            continue
        values = []
        for variable in variables:
            value = _clean(_raw_value(spec, variable))
            if variable == "requestTime":
                value = f"CAST(try_strptime({value}, {sql_string(_CLF_TIME)}) AS TIMESTAMP)"
            elif variable == "requestTimeEpoch":
                value = f"epoch_ms(TRY_CAST({value} AS BIGINT))"
            values.append(value)
        found[column] = values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"
    return found


def _json_schema(spec: FormatSpec) -> dict:
    schema: dict = {}
    for where in spec.fields.values():
        assert isinstance(where, tuple)
        node = schema
        for key in where[:-1]:
            node = node.setdefault(key, {})
        node[where[-1]] = "VARCHAR"
    return schema


def stage_select(spec: FormatSpec, stage: StageConstants, source: str, columns: Iterable[ColumnSpec],
                 own_records_only: bool = False) -> str:
    """SELECT of the table's columns for the records of one stage in `source` (message, event_time, source).

    With `own_records_only` (a log group several stages write to), only the records whose own apiId
    and stage name this stage are kept.
    """
    exprs = column_expressions(spec)
    if spec.kind == "json":
        schema = json.dumps(_json_schema(spec), separators=(",", ":"))
        parsed = f"try(json_transform(message, {sql_string(schema)}))"
        failed = "r IS NULL"
        problem = "the record is not JSON, though the stage's access-log format is"
        record = "CASE WHEN r IS NULL THEN NULL ELSE json(message) END"
    elif spec.kind == "text":
        assert spec.pattern is not None
        groups = ", ".join(sql_string(f"g{i}") for i in range(1, spec.groups + 1))
        parsed = f"regexp_extract(message, {sql_string(spec.pattern)}, [{groups}])"
        failed = f"NOT regexp_full_match(message, {sql_string(spec.pattern)})"
        problem = "the record does not match the stage's access-log format"
        pairs = ", ".join(f"{sql_string(v)}, {_clean(_raw_value(spec, v))}" for v in spec.fields)
        record = f"CASE WHEN bad THEN NULL ELSE json_object({pairs}) END"
    else:
        parsed = "NULL"
        failed = "true"
        problem = f"the stage's access-log format cannot be parsed: {spec.problem}"
        record = "NULL"
    constants = {"account_id": sql_string(stage.account_id), "region": sql_string(stage.region),
                 "api_id": sql_string(stage.api_id), "stage": sql_string(stage.stage)}
    items = []
    for column in columns:
        name = column.name
        if name in ("api_id", "stage"):
            expr = f"coalesce({exprs[name]}, {constants[name]})" if name in exprs else constants[name]
        elif name in constants:
            expr = constants[name]
        elif name == "request_time":
            expr = f"coalesce({exprs[name]}, event_time)" if name in exprs else "event_time"
        elif name in _NUMERIC:
            expr = f"TRY_CAST({exprs[name]} AS {_NUMERIC[name]})" if name in exprs else "NULL"
        elif name == "record":
            expr = record
        elif name == "message":
            expr = "message"
        elif name == "parse_error":
            expr = f"CASE WHEN bad THEN {sql_string(problem)} END"
        elif name == "source":
            expr = "source"
        elif name == "event_time":
            expr = "event_time"
        else:
            expr = exprs.get(name, "NULL")
        if spec.kind != "unparseable" and name not in ("parse_error", "message", "source", "event_time", "record",
                                                       "account_id", "region") and expr != "NULL":
            # a record that does not parse has no fields: only its text, where it came from, and why
            keep = "event_time" if name == "request_time" else (constants.get(name) or "NULL")
            expr = f"CASE WHEN bad THEN {keep} ELSE {expr} END"
        items.append(f"CAST({expr} AS {column.type}) AS {_ident(name)}")
    where = ""
    if own_records_only and {"api_id", "stage"} <= exprs.keys():
        where = (f" WHERE coalesce({exprs['api_id']}, {constants['api_id']}) = {constants['api_id']}"
                 f" AND coalesce({exprs['stage']}, {constants['stage']}) = {constants['stage']}")
    parsed_rows = f"(SELECT message, event_time, source, {parsed} AS r FROM {source})"
    return f"SELECT {', '.join(items)} FROM (SELECT *, {failed} AS bad FROM {parsed_rows}){where}"
