"""The column types a table file may declare, each with everything that depends on it: its DuckDB
type, its Arrow type, and how an API value becomes a value of it. One table, so a new type is one entry.

>>> COLUMN_TYPES["BIGINT"].convert("42")
42
>>> COLUMN_TYPES["TIMESTAMP"].convert("2026-01-02T03:04:05Z")
datetime.datetime(2026, 1, 2, 3, 4, 5)
>>> COLUMN_TYPES["VARCHAR[]"].convert("one")
['one']
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable


@dataclass(frozen=True)
class ColumnType:
    """One declarable column type. ``convert`` raises TypeError or ValueError on a value it cannot take."""

    name: str                               # as a table file writes it
    duckdb: str                             # the DuckDB type of the column
    arrow: Callable[[], Any]                # the pyarrow type (a function: pyarrow loads on first use)
    convert: Callable[[Any], Any]           # an API value (not None) -> a Python value of the type
    # The Spark SQL type (a DDL name) of a snapshot column. DuckDB's TIMESTAMP (no time zone, as the
    # controls expect) is Spark's TIMESTAMP_NTZ, which sqlglot also writes for the controls' casts.
    spark: str = "string"


def _utc(value: datetime) -> datetime:
    """A naive UTC datetime (DuckDB TIMESTAMP has no zone; the session runs in UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat() + "Z"
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default, sort_keys=False)


def _varchar(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json_default)
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return str(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc).replace(tzinfo=None)
    if isinstance(value, str):
        return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return None


def _varchar_list(value: Any) -> list[str | None]:
    if isinstance(value, (list, tuple)):
        return [None if v is None else str(v) for v in value]
    return [str(value)]


def _pa(name: str, *args: Any) -> Callable[[], Any]:
    def arrow_type() -> Any:
        import pyarrow as pa

        return getattr(pa, name)(*(a() if callable(a) else a for a in args))
    return arrow_type


COLUMN_TYPES: dict[str, ColumnType] = {t.name: t for t in (
    ColumnType("VARCHAR", "VARCHAR", _pa("string"), _varchar),
    ColumnType("JSON", "JSON", _pa("string"), _json),
    ColumnType("BIGINT", "BIGINT", _pa("int64"), int, "bigint"),
    ColumnType("DOUBLE", "DOUBLE", _pa("float64"), float, "double"),
    ColumnType("BOOLEAN", "BOOLEAN", _pa("bool_"), _boolean, "boolean"),
    ColumnType("TIMESTAMP", "TIMESTAMP", _pa("timestamp", "us"), _timestamp, "timestamp_ntz"),
    ColumnType("VARCHAR[]", "VARCHAR[]", _pa("list_", _pa("string")), _varchar_list, "array<string>"),
)}
