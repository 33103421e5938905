"""One place that renders results, for the CLI, the shell and the check runner alike.

>>> print(render(["a", "b"], ["BIGINT", "JSON"], [(1, '{"x": 1}')], "jsonl"))
{"a": 1, "b": {"x": 1}}
>>> render(["a", "b"], ["VARCHAR", "BOOLEAN"], [(None, True)], "csv")
'a,b\\n,true\\n'
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Sequence

from . import interval_text

_encode_text = json.encoder.encode_basestring  # the C encoder's string writer (ensure_ascii=False)

FORMATS = ("table", "csv", "json", "jsonl", "markdown", "line")
NULL = "∅"  # shown for NULL in people-facing formats, so it is not confused with an empty string


def render(columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table",
           max_width: int | None = None) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "json" and columns and len(set(columns)) == len(columns):
        return json_document(columns, types, rows)
    if fmt in ("json", "jsonl"):
        records = [{c: _json_value(v, t) for c, t, v in zip(columns, types, row)} for row in rows]
        if fmt == "json":
            return indented_json(records)
        return "\n".join(json.dumps(r, default=_default, ensure_ascii=False) for r in records)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else _text(v) for v in row])
        return buf.getvalue()
    if fmt == "line":
        width = max((len(c) for c in columns), default=0)
        blocks = []
        for row in rows:
            blocks.append("\n".join(f"{c.rjust(width)} = {_cell(v, None)}" for c, v in zip(columns, row)))
        return "\n\n".join(blocks)
    from tabulate import tabulate

    cells = [[_cell(v, max_width) for v in row] for row in rows]
    headers = list(columns)
    if fmt == "markdown":  # resource names are attacker-chosen: no raw HTML, no cell breaks, no links
        cells = [[markdown_escape(c) for c in row] for row in cells]
        headers = [markdown_escape(h) for h in headers]
    tablefmt = "github" if fmt == "markdown" else "rounded_outline"
    return tabulate(cells, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def indented_json(records: list[dict[str, Any]]) -> str:
    """Exactly ``json.dumps(records, indent=2, default=_default, ensure_ascii=False)``, at the speed of the
    C encoder: CPython encodes with ``indent`` in pure Python (seconds for tens of thousands of findings),
    so lists and objects are laid out here and each plain value is written by the C encoder."""
    return _json_text(records, 0)


def json_document(columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The rows as ``--output json`` writes them (``indented_json`` of their records), without making the
    records: a value of a plain column is written as it is, any other as ``_json_value`` reads it."""
    if not rows:
        return "[]"
    keys = [f"    {_encode_text(column)}: " for column in columns]
    plain = [ctype != "JSON" for ctype in types]
    cells = list(zip(keys, plain, types))
    blocks = []
    for row in rows:
        parts = []
        for (key, is_plain, ctype), value in zip(cells, row):
            kind = type(value)
            if kind is str and is_plain:
                parts.append(key + _encode_text(value))
            elif value is None:
                parts.append(key + "null")
            elif kind is bool:
                parts.append(key + ("true" if value else "false"))
            else:
                parts.append(key + _json_text(_json_value(value, ctype), 2))
        blocks.append("  {\n" + ",\n".join(parts) + "\n  }")
    return "[\n" + ",\n".join(blocks) + "\n]"


def _json_text(value: Any, level: int) -> str:
    """`value` as json.dumps(indent=2) writes it `level` levels deep."""
    if isinstance(value, str):
        return _encode_text(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is list:
        if not value:
            return "[]"
        inner = "\n" + "  " * (level + 1)
        return "[" + inner + ("," + inner).join(_json_text(v, level + 1) for v in value) + "\n" + "  " * level + "]"
    if type(value) is dict and all(type(key) is str for key in value):
        if not value:
            return "{}"
        inner = "\n" + "  " * (level + 1)
        return "{" + inner + ("," + inner).join(f"{_encode_text(k)}: {_json_text(v, level + 1)}"
                                                for k, v in value.items()) + "\n" + "  " * level + "}"
    # Floats, tuples, dates and the rest: json's own spelling, indented to this level.
    return json.dumps(value, indent=2, default=_default, ensure_ascii=False).replace("\n", "\n" + "  " * level)


_MARKDOWN_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "[": "\\[", "]": "\\]", "`": "\\`",
                                   "&": "&amp;", "<": "&lt;", ">": "&gt;"})


def markdown_escape(text: str) -> str:
    """Text for a markdown table cell that renders as itself: HTML, pipes, links and code are escaped.

    >>> markdown_escape('<img src=x onerror=alert(1)> | [a](b)')
    '&lt;img src=x onerror=alert(1)&gt; \\\\| \\\\[a\\\\](b)'
    """
    return text.translate(_MARKDOWN_ESCAPES)


def separator(fmt: str) -> str:
    """What goes between the results of several statements: a blank line in csv, table and markdown;
    nothing in json (one document per statement, each on lines of its own) and jsonl (rows go on)."""
    return "" if fmt in ("json", "jsonl") else "\n"


def _text(value: Any) -> str:
    interval = interval_text.parts(value)
    if interval is not None:
        return interval_text.duckdb_text(*interval)
    if isinstance(value, (list, dict)):
        return json.dumps(_intervals_as(value, interval_text.duckdb_text), default=_default, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _cell(value: Any, max_width: int | None) -> str:
    if value is None:
        return NULL
    text = _text(value).replace("\n", "\\n")
    if max_width and len(text) > max_width:
        text = text[: max_width - 1] + "…"
    return text


def _json_value(value: Any, ctype: str) -> Any:
    if type(value) in _PLAIN and ctype != "JSON":  # most values: nothing to convert (findings are text)
        return value
    if ctype == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return _intervals_as(value, interval_text.iso8601)


_PLAIN = frozenset({str, int, bool, float, type(None)})


def _intervals_as(value: Any, spell: Any) -> Any:
    """The value with every INTERVAL in it (nested ones too) spelt by ``spell``: Arrow's MonthDayNano is a
    tuple, which json would otherwise write as a bare list [months, days, nanoseconds]."""
    interval = interval_text.parts(value)
    if interval is not None:
        return spell(*interval)
    if isinstance(value, list):
        return [_intervals_as(v, spell) for v in value]
    if isinstance(value, dict):
        return {k: _intervals_as(v, spell) for k, v in value.items()}
    return value


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)
