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

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable

from .catalog import ColumnSpec, TableSpec
from .transforms import TRANSFORMS

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


def to_type(value: Any, ctype: str) -> Any:
    if value is None:
        return None
    if ctype == "JSON":
        return json.dumps(value, default=_json_default, sort_keys=False)
    if ctype == "VARCHAR":
        if isinstance(value, (dict, list)):
            return json.dumps(value, default=_json_default)
        if isinstance(value, datetime):
            return _utc(value).isoformat()
        return str(value)
    if ctype == "BIGINT":
        return int(value)
    if ctype == "DOUBLE":
        return float(value)
    if ctype == "BOOLEAN":
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)
    if ctype == "TIMESTAMP":
        if isinstance(value, datetime):
            return _utc(value)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=timezone.utc).replace(tzinfo=None)
        if isinstance(value, str):
            return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        return None
    if ctype == "VARCHAR[]":
        if isinstance(value, (list, tuple)):
            return [None if v is None else str(v) for v in value]
        return [str(value)]
    raise ValueError(f"unknown column type {ctype}")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat() + "Z"
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


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
        return to_type(raw, col.type)
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
