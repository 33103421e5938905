"""CloudWatch Logs FilterLogEvents: the filter patterns apigw-sql pushes down, which moto ignores.

moto returns every event whatever a JSON pattern says. The subset applied here is what
aws_api_gateway_access_log sends: a JSON pattern of ANDed groups of ORed equalities
(``{ ($.status = "401" || $.status = "403") && ($.ip = "10.0.0.1") }``; a quoted value matches a string
field, a bare number a numeric one, as on AWS), or quoted terms that must all appear (``"10.0.0.1"``)
or of which one must (``?"401" ?"403"``). Any other pattern is left to moto, unchanged.

>>> match = compile_pattern('{ ($.status = "401" || $.status = "403") && ($.ip = "10.0.0.1") }')
>>> match('{"status": "403", "ip": "10.0.0.1"}'), match('{"status": 403, "ip": "10.0.0.1"}'), match("x")
(True, False, False)
>>> compile_pattern('?"401" ?"403"')('1.2.3.4 [t] 403 0')
True
>>> compile_pattern("[ip, user, status = 4*]") is None
True
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from .exchange import Call, Reply
from .extension import Forward, HandlerTable

_TERM = re.compile(r'^\$\.([A-Za-z0-9_.]+)\s*=\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)$')
_QUOTED = re.compile(r'(\?)?"((?:[^"\\]|\\.)*)"')

Matcher = Callable[[str], bool]


def _json_matcher(pattern: str) -> Matcher | None:
    groups: list[list[tuple[list[str], Any, bool]]] = []
    for clause in pattern.strip()[1:-1].split("&&"):
        clause = clause.strip()
        if clause.startswith("(") and clause.endswith(")"):
            clause = clause[1:-1]
        terms = []
        for text in clause.split("||"):
            found = _TERM.match(text.strip())
            if found is None:
                return None
            quoted = found.group(2).startswith('"')
            value = json.loads(found.group(2))
            terms.append((found.group(1).split("."), value, quoted))
        groups.append(terms)

    def match(message: str) -> bool:
        try:
            record = json.loads(message)
        except ValueError:
            return False
        for terms in groups:
            hit = False
            for path, value, quoted in terms:
                node: Any = record
                for key in path:
                    node = node.get(key) if isinstance(node, dict) else None
                if quoted and isinstance(node, str) and node == value:
                    hit = True
                elif not quoted and isinstance(node, (int, float)) and not isinstance(node, bool) and node == value:
                    hit = True
            if not hit:
                return False
        return True

    return match


def _text_matcher(pattern: str) -> Matcher | None:
    found = _QUOTED.findall(pattern)
    if not found or _QUOTED.sub("", pattern).strip():
        return None
    optional = {bool(q) for q, _ in found}
    if len(optional) != 1:
        return None
    words = [json.loads(f'"{w}"') for _, w in found]
    if optional == {True}:
        return lambda message: any(w in message for w in words)
    return lambda message: all(w in message for w in words)


def compile_pattern(pattern: str) -> Matcher | None:
    """A predicate on an event's message for a pattern of the subset; None for any other pattern."""
    text = pattern.strip()
    if text.startswith("{") and text.endswith("}"):
        return _json_matcher(text)
    return _text_matcher(text)


class LogsFilterPatterns:
    def handlers(self) -> HandlerTable:
        return {("logs", "FilterLogEvents"): self._filter_log_events}

    def _filter_log_events(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        pattern = call.json_body().get("filterPattern")
        matcher = compile_pattern(str(pattern)) if pattern and reply.ok else None
        data = reply.json() if matcher is not None else None
        if not isinstance(data, dict):
            return reply
        data["events"] = [e for e in data.get("events") or [] if matcher(str(e.get("message", "")))]  # type: ignore[misc]
        return reply.with_json(data)
