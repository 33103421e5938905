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


def _explode(value: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return list(enumerate(value))
    return []
