"""Policy documents, parsed and checked, as one flat statement per entry.

IAM stores only valid policies, so a document that does not parse here is one this tool cannot judge: it
becomes a statement with an ``error`` (and grants nothing) instead of failing the table. The checks are
the ones that change what a statement means: JSON, Effect, Action or NotAction, Resource or NotResource,
and condition operators IAM knows.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

_BASE_OPERATORS = frozenset(o.lower() for o in (
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null"))
_OPERATOR = re.compile(r"^(?:(?:ForAllValues|ForAnyValue):)?([A-Za-z]+?)(IfExists)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """One statement of a policy in force for a principal (or of a policy, before it is attached)."""

    statement_id: str                 # policy key and position: "<policy>#<index>", stable across queries
    effect: str | None
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    condition: dict[str, Any] | None = None
    sid: str | None = None
    index: int | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def conditional(self) -> bool:
        return bool(self.condition)


def decode_document(document: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A policy document as a dict, from a dict, JSON text or URL-encoded JSON text (IAM's wire form);
    else (None, why).

    >>> decode_document('%7B%22Statement%22%3A%5B%5D%7D')
    ({'Statement': []}, None)
    >>> decode_document('{"Statement": [')[1]
    'the policy document is not valid JSON'
    """
    if isinstance(document, dict):
        return document, None
    if isinstance(document, str):
        for text in (document, unquote(document)):
            try:
                value = json.loads(text)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value, None
        return None, "the policy document is not valid JSON"
    return None, "the policy document is missing"


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def unknown_operator(condition: Any) -> str | None:
    """The first condition operator IAM does not know, if any (or a description of a malformed block).

    >>> unknown_operator({"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "a*"}, "Bool": {"aws:SecureTransport": "true"}})
    >>> unknown_operator({"StringMatches": {"aws:username": "x"}})
    'StringMatches'
    """
    if condition is None:
        return None
    if not isinstance(condition, dict):
        return "Condition is not an object"
    for operator, block in condition.items():
        match = _OPERATOR.match(str(operator))
        if match is None or match.group(1).lower() not in _BASE_OPERATORS or not isinstance(block, dict):
            return str(operator)
        if match.group(1).lower() == "null" and match.group(2):
            return str(operator)
    return None


def parse_statement(raw: Any, statement_id: str, index: int) -> Statement:
    """One statement, checked.

    >>> s = parse_statement({"Effect": "Allow", "NotAction": "apigateway:DELETE", "Resource": "*"}, "p#0", 0)
    >>> s.not_actions, s.resources, s.error
    (('apigateway:DELETE',), ('*',), None)
    >>> parse_statement({"Effect": "Allow", "Resource": "*"}, "p#1", 1).error
    'the statement has neither Action nor NotAction'
    >>> parse_statement({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Foo": {}}}, "p#2", 2).error
    'unknown condition operator Foo'
    """
    if not isinstance(raw, dict):
        return Statement(statement_id, None, index=index, error="the statement is not a JSON object")
    effect = raw.get("Effect")
    sid = raw.get("Sid") if isinstance(raw.get("Sid"), str) else None
    fields = {k: _strings(raw.get(k)) for k in ("Action", "NotAction", "Resource", "NotResource")}
    condition = raw.get("Condition")
    error = None
    if effect not in ("Allow", "Deny"):
        error = f"Effect is {effect!r}, not Allow or Deny"
    elif any(v is None for v in fields.values()):
        error = "Action, NotAction, Resource and NotResource must be strings or lists of strings"
    elif bool(fields["Action"]) == bool(fields["NotAction"]):
        error = ("the statement has neither Action nor NotAction" if not fields["Action"]
                 else "the statement has both Action and NotAction")
    elif bool(fields["Resource"]) == bool(fields["NotResource"]):
        error = ("the statement has neither Resource nor NotResource" if not fields["Resource"]
                 else "the statement has both Resource and NotResource")
    else:
        bad = unknown_operator(condition)
        if bad is not None:
            error = f"unknown condition operator {bad}"
    return Statement(statement_id, effect if isinstance(effect, str) else None, fields["Action"] or (),
                     fields["NotAction"] or (), fields["Resource"] or (), fields["NotResource"] or (),
                     condition if isinstance(condition, dict) and condition else None, sid, index, error)


def parse_document(document: Any, policy_key: str) -> list[Statement]:
    """Every statement of a document; a document that cannot be read is one statement with an error.

    >>> [s.statement_id for s in parse_document({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}, "k")]
    ['k#0']
    >>> parse_document("not json", "k")[0].error
    'the policy document is not valid JSON'
    """
    doc, error = decode_document(document)
    if doc is None:
        return [Statement(f"{policy_key}#", None, error=error)]
    statements = doc.get("Statement")
    if isinstance(statements, dict):  # a single statement may be written without the list
        statements = [statements]
    if not isinstance(statements, list):
        return [Statement(f"{policy_key}#", None, error="the policy document has no Statement list")]
    return [parse_statement(raw, f"{policy_key}#{i}", i) for i, raw in enumerate(statements)]
