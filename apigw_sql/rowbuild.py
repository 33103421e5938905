"""Turn API items into typed rows, following the column paths and templates of a TableSpec.

Paths are dotted keys into the item (``accessLogSettings.destinationArn``). Names starting with
``$`` read the fetch context: ``$region``, ``$account_id``, ``$partition``, ``$parent.COLUMN``
(the parent table's row), ``$key`` and ``$outer.FIELD`` (for exploded items), ``$item`` (the item).

>>> get_path({"a": {"b": 1}}, "a.b", {})
1
>>> get_path({"configs": [{"policy": "TLS_1_2"}, {"policy": "TLS_1_0"}]}, "configs.policy", {})
['TLS_1_2', 'TLS_1_0']
>>> get_path({"configs": [{"policy": "TLS_1_2"}]}, "configs.0.policy", {})
'TLS_1_2'
>>> render_template("arn:{$partition}:x:{$region}::/r/{id}", {"id": "abc"}, {"$partition": "aws", "$region": "eu-west-1"})
'arn:aws:x:eu-west-1::/r/abc'

Rows are built one dict per row (``build_rows``), or, when a rows function returns its items wrapped in
``Columnar``, column by column into an Arrow table of the same values and types (``build_table``): a table of
tens of thousands of rows (aws_api_gateway_access_grant) then skips the per-row mapping and is loaded as is.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from .catalog import ColumnSpec, TableSpec
from .transforms import TRANSFORMS
from .types import COLUMN_TYPES

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def get_path(item: Any, path: str, context: dict[str, Any]) -> Any:
    parts = path.split(".")
    if parts[0].startswith("$"):
        if parts[0] == "$item":
            value: Any = item
        else:
            value = context.get(parts[0])
        parts = parts[1:]
    else:
        value = item
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list):
            if part.isdigit():  # an index
                value = value[int(part)] if int(part) < len(value) else None
            else:  # a key applied to a list maps over its elements
                value = [v.get(part) if isinstance(v, dict) else None for v in value]
        else:
            return None
    return value


def render_template(template: str, item: Any, context: dict[str, Any]) -> str | None:
    missing = False

    def sub(match: re.Match[str]) -> str:
        nonlocal missing
        value = get_path(item, match.group(1), context)
        if value is None:
            missing = True
            return ""
        return str(value)

    text = _PLACEHOLDER.sub(sub, template)
    return None if missing else text


def column_value(col: ColumnSpec, item: Any, context: dict[str, Any]) -> Any:
    if col.template is not None:
        raw: Any = render_template(col.template, item, context)
    else:
        raw = get_path(item, col.path or "", context)
    if raw is None and col.default is not None:
        raw = col.default
    if col.transform:
        raw = TRANSFORMS[col.transform](raw)
    try:
        return None if raw is None else COLUMN_TYPES[col.type].convert(raw)
    except (TypeError, ValueError):
        return None  # an unexpected shape from the API must not fail the whole table


def build_rows(spec: TableSpec, items: Iterable[Any], context: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows (column name -> typed value) for the items of one fetch unit."""
    rows = []
    for item in items:
        ctx = context
        if spec.fetch.explode:
            for key, inner in _explode(get_path(item, spec.fetch.explode, context)):
                ctx = {**context, "$key": key, "$outer": item}
                rows.append({c.name: column_value(c, inner, ctx) for c in spec.columns})
            continue
        rows.append({c.name: column_value(c, item, ctx) for c in spec.columns})
    return rows


class Columnar:
    """What a rows function returns to have its items mapped column-wise (``build_table``), not row by row.

    The rows are the same as ``build_rows`` gives; the fetcher hands an Arrow table to the engine instead of a
    list of dicts (``Fetcher.table_rows``: callers that iterate its rows read them through ``row_dicts``).
    """

    def __init__(self, items: Iterable[Any]):
        self.items = items if isinstance(items, list) else list(items)


def arrow_table(spec: TableSpec, rows: Any) -> Any:
    """The spec's columns, in order, as an Arrow table: from typed rows (``build_rows``'s dicts), or an Arrow
    table as ``build_table`` makes it (returned as is)."""
    import pyarrow as pa

    if isinstance(rows, pa.Table):
        return rows
    if getattr(rows, "arrow", None) is not None:  # rows kept on disk with the table they came from (table_cache.py)
        return rows.arrow
    return pa.table({c.name: pa.array([r.get(c.name) for r in rows], type=COLUMN_TYPES[c.type].arrow()) for c in spec.columns})


def row_dicts(rows: Any) -> list[dict[str, Any]]:
    """Typed rows as dicts, whether a table's rows came as dicts or (``Columnar``) as an Arrow table."""
    return rows.to_pylist() if hasattr(rows, "to_pylist") else rows


def build_table(spec: TableSpec, items: list[Any], context: dict[str, Any]) -> Any:
    """The rows ``build_rows`` makes for the items of one fetch unit, built column by column as an Arrow table.

    A column read from a plain key of each item takes the values as they are when they already have the
    column's Python type (str, bool, int, float, a list of str): no conversion per value, which is where the
    row-by-row mapping spends its time. Any other value, a template, transform or default goes through the
    same conversions as ``build_rows``; a context path (``$region``) is read once.
    """
    import pyarrow as pa

    if spec.fetch.explode:
        return arrow_table(spec, build_rows(spec, items, context))
    columns = {}
    for col in spec.columns:
        path = col.path or ""
        if col.template is None and path.startswith("$") and not path.startswith("$item"):
            values: list[Any] = [column_value(col, None, context)] * len(items)  # the same for every item
        elif col.template is None and col.transform is None and col.default is None and path and "." not in path \
                and not path.startswith("$"):
            values = [item.get(path) if type(item) is dict else get_path(item, path, context) for item in items]
            if not _typed_already(values, col.type):
                values = [_converted(v, col.type) for v in values]
        else:
            values = [column_value(col, item, context) for item in items]
        columns[col.name] = pa.array(values, type=COLUMN_TYPES[col.type].arrow())
    return pa.table(columns)


# The Python types whose values the column type's converter returns unchanged.
_SAME_TYPE: dict[str, type] = {"VARCHAR": str, "BOOLEAN": bool, "BIGINT": int, "DOUBLE": float}


def _typed_already(values: list[Any], ctype: str) -> bool:
    """True when the converter would return every value unchanged (so the values can go to Arrow as they are)."""
    if ctype == "VARCHAR[]":
        return all(v is None or (type(v) is list and all(e is None or type(e) is str for e in v)) for v in values)
    same = _SAME_TYPE.get(ctype)
    return same is not None and all(v is None or type(v) is same for v in values)


def _converted(value: Any, ctype: str) -> Any:
    """The column type's conversion, with column_value's rule: a value of an unexpected shape becomes null."""
    if value is None:
        return None
    try:
        return COLUMN_TYPES[ctype].convert(value)
    except (TypeError, ValueError):
        return None


def _explode(value: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return list(enumerate(value))
    return []
