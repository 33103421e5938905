"""Named value transforms that table files may apply to a column (``transform = "..."``)."""
from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import unquote


def policy_document(value: Any) -> Any:
    """A resource policy as the API returns it: a JSON string, escaped (``{\\"Version\\"...``) on AWS."""
    if value is None or isinstance(value, (dict, list)):
        return value
    text = str(value)
    for candidate in (text, text.replace('\\"', '"').replace("\\\\", "\\"), unquote(text)):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None


def akas(value: Any) -> Any:
    return None if value is None else [value]


def keys(value: Any) -> Any:
    return sorted(value) if isinstance(value, dict) else None


def count(value: Any) -> Any:
    return len(value) if isinstance(value, (dict, list)) else 0


def json_string(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "policy_document": policy_document,
    "akas": akas,
    "keys": keys,
    "count": count,
    "json_string": json_string,
    "first": first,
}
