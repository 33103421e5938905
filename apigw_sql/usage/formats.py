"""A stage's access-log format template, parsed once into what reads its records.

API Gateway writes each access-log record from the stage owner's template of ``$context``
variables: JSON (``{"ip": "$context.identity.sourceIp", ...}``), or text such as CLF, CSV or XML.
Nothing fixes the key names, so a template is parsed into: for JSON, the key path that holds each
variable; for text, an anchored RE2 pattern (literal parts escaped, one group per variable).
The table's columns are then read from those, whatever names the owner chose.

>>> spec = parse_format('{ "ip": "$context.identity.sourceIp", "st": $context.status, "t": "$context.requestTime" }')
>>> spec.kind, spec.fields["identity.sourceIp"], spec.fields["status"]
('json', ('ip',), ('st',))
>>> spec.quoted["status"], spec.quoted["identity.sourceIp"]
(False, True)
>>> clf = parse_format('$context.identity.sourceIp - [$context.requestTime] "$context.httpMethod $context.resourcePath" $context.status')
>>> clf.kind, clf.pattern
('text', '^(.*?) - \\\\[(.*?)\\\\] "(.*?) (.*?)" (.*)\\\\s*$')
>>> clf.fields["status"]
5
>>> parse_format("no variables here").kind
'unparseable'
>>> parse_format('{"ip": "$context.identity.sourceIp"').problem
'it starts like JSON but is not valid JSON'
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")
_RE2_SPECIAL = set("\\.^$|?*+()[]{}")

# Table column -> the $context variables that can fill it, first found first (without "$context.").
COLUMN_VARIABLES: dict[str, tuple[str, ...]] = {
    "request_time": ("requestTime", "requestTimeEpoch"),
    "api_id": ("apiId",),
    "stage": ("stage",),
    "request_id": ("requestId", "extendedRequestId"),
    "source_ip": ("identity.sourceIp",),
    "caller": ("identity.userArn", "authorizer.principalId", "identity.cognitoIdentityId", "identity.apiKeyId",
               "identity.caller", "identity.user", "identity.accountId", "authorizer.claims.sub"),
    "http_method": ("httpMethod",),
    "resource_path": ("resourcePath", "path"),
    "route_key": ("routeKey",),
    "status": ("status",),
    "protocol": ("protocol",),
    "response_length": ("responseLength",),
    "latency_ms": ("responseLatency",),
    "integration_latency_ms": ("integrationLatency", "integration.latency"),
    "user_agent": ("identity.userAgent",),
    "error_message": ("error.message", "error.messageString"),
}


@dataclass(frozen=True)
class FormatSpec:
    """How to read one stage's records: kind 'json', 'text' or 'unparseable' (then `problem` says why)."""

    kind: str
    template: str
    fields: dict[str, tuple[str, ...] | int] = field(default_factory=dict)  # variable -> JSON key path or group
    quoted: dict[str, bool] = field(default_factory=dict)  # JSON: is the variable written inside quotes
    pattern: str | None = None  # text: the RE2 pattern, groups in template order
    groups: int = 0
    problem: str | None = None

    def variable_for(self, column: str) -> list[str]:
        """The variables of the template that fill `column`, in priority order."""
        return [v for v in COLUMN_VARIABLES.get(column, ()) if v in self.fields]

    def columns(self) -> list[str]:
        """The table columns this format fills (beyond those every stage has)."""
        return [c for c in COLUMN_VARIABLES if self.variable_for(c)]


def _re2_escape(text: str) -> str:
    """Escape regex metacharacters only (RE2 rejects escapes of ordinary characters such as space)."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def _string_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each double-quoted string of a JSON-like text, quotes included."""
    spans, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            spans.append((i, min(j, n - 1)))
            i = j + 1
        else:
            i += 1
    return spans


def _parse_json(template: str) -> FormatSpec:
    markers: dict[str, str] = {}
    quoted: dict[str, bool] = {}
    spans = _string_spans(template)
    out, last = [], 0
    for match in _VARIABLE.finditer(template):
        start, end = match.span()
        name = match.group(1)
        inside = next(((a, b) for a, b in spans if a < start < b), None)
        marker = f"@@ctx{len(markers)}@@"
        if inside is None:
            out.append(template[last:start] + f'"{marker}"')
            quoted.setdefault(name, False)
        elif inside == (start - 1, end):  # the string is exactly the variable
            out.append(template[last:start] + marker)
            quoted.setdefault(name, True)
        else:  # embedded in a longer string: not a value of its own
            out.append(template[last:start] + "@@embedded@@")
            last = end
            continue
        markers[marker] = name
        last = end
    out.append(template[last:])
    try:
        document = json.loads("".join(out))
    except ValueError:
        return FormatSpec("unparseable", template, problem="it starts like JSON but is not valid JSON")
    fields: dict[str, tuple[str, ...] | int] = {}

    def walk(node: object, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, str(key)))
        elif isinstance(node, str) and node in markers:
            fields.setdefault(markers[node], path)

    walk(document, ())
    if not fields:
        return FormatSpec("unparseable", template, problem="no JSON key holds a $context variable")
    return FormatSpec("json", template, fields, {k: quoted[k] for k in fields})


def _parse_text(template: str) -> FormatSpec:
    parts = _VARIABLE.split(template.strip())
    # parts: literal, variable, literal, variable, ..., literal
    names = parts[1::2]
    literals = parts[0::2]
    pattern = "^" + _re2_escape(literals[0])
    fields: dict[str, tuple[str, ...] | int] = {}
    for index, name in enumerate(names, start=1):
        last = index == len(names) and not literals[index]
        pattern += ("(.*)" if last else "(.*?)") + _re2_escape(literals[index])
        fields.setdefault(name, index)
    return FormatSpec("text", template, fields, pattern=pattern + "\\s*$", groups=len(names))


def parse_format(template: str | None) -> FormatSpec:
    """The reader of a stage's access-log format; 'unparseable' when the template holds no variable."""
    text = (template or "").strip()
    if not _VARIABLE.search(text):
        return FormatSpec("unparseable", text, problem="it holds no $context variable")
    if text.startswith("{"):
        return _parse_json(text)
    return _parse_text(text)
