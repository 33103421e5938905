"""Invoke grants made by REST API resource policies: one row per principal the policy names (``*`` for anyone).

A statement counts when it allows an execute-api action on some resource of the API (``execute-api:/...`` is
API Gateway's shorthand for the API's own ARN); a Deny without a Condition for that principal, or for everyone,
over the whole API takes it away. Service and federated principals are left out.
"""
from __future__ import annotations

from typing import Any, Iterator

from .actions import catalogue, expand
from .apis import Api, api_fields
from .documents import Statement, parse_document
from .wildcard import arn_matches, can_match_under


def _principal_values(principal: Any) -> list[str]:
    """The AWS principals a statement names (``*`` for everyone); service and federated principals are left out.

    >>> _principal_values({"AWS": ["111122223333", "arn:aws:iam::444455556666:role/x"]})
    ['arn:aws:iam::111122223333:root', 'arn:aws:iam::444455556666:role/x']
    >>> _principal_values("*"), _principal_values({"Service": "lambda.amazonaws.com"})
    (['*'], [])
    """
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    values = next((v for k, v in principal.items() if k.upper() == "AWS"), [])
    values = [values] if isinstance(values, str) else values if isinstance(values, list) else []
    return [f"arn:aws:iam::{v}:root" if v.isdigit() and len(v) == 12 else v for v in values if isinstance(v, str)]


def account_of(arn: str) -> str | None:
    """The account of a principal ARN; None for ``*``.

    >>> account_of("arn:aws:iam::444455556666:role/x"), account_of("*")
    ('444455556666', None)
    """
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def _expand_resource(resource: str, api: Api) -> str:
    """API Gateway's shorthand ``execute-api:/stage/VERB/path`` as the API's full invocation ARN."""
    if resource.startswith("execute-api:/"):
        return f"{api.invoke_base}/{resource[len('execute-api:/'):]}"
    return resource


def resource_policy_grants(api: Api) -> Iterator[dict[str, Any]]:
    """Invoke grants a REST API's resource policy makes: one row per named principal (``*`` for everyone)."""
    if not isinstance(api.policy, dict):
        return
    statements = parse_document(api.policy, f"{api.management_arn}/policy")
    raw = api.policy.get("Statement")
    raw = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    invocation = catalogue().invocation
    parsed: list[tuple[Statement, list[str]]] = []
    for s in statements:
        if s.error or s.index is None or s.index >= len(raw) or not isinstance(raw[s.index], dict):
            continue
        resources = tuple(_expand_resource(r, api) for r in s.resources)
        not_resources = tuple(_expand_resource(r, api) for r in s.not_resources)
        reaches = (any(arn_matches(r, api.invoke_base) or can_match_under(r, api.invoke_base + "/") for r in resources)
                   if resources else not any(arn_matches(r, api.invoke_base + "/zzprobe/GET/zzprobe")
                                             and arn_matches(r, api.invoke_base + "/zz/POST/zz") for r in not_resources))
        if reaches:
            parsed.append((s, _principal_values(raw[s.index].get("Principal"))))
    grants: dict[str, list[tuple[str, Statement]]] = {}
    for s, principals in parsed:
        if s.effect != "Allow":
            continue
        for action in invocation:
            if action in expand(s.actions, s.not_actions):
                for who in principals:
                    grants.setdefault(who, []).append((action, s))
    for who, granted in grants.items():
        actions = sorted({a for a, _ in granted if not any(
            d.effect == "Deny" and not d.conditional and (who in ps or "*" in ps)
            and a in expand(d.actions, d.not_actions) and _whole_api(d, api) for d, ps in parsed)})
        if not actions:
            continue
        by = {s.statement_id: s for a, s in granted if a in actions}
        conditional = all(s.conditional for s in by.values())
        account = account_of(who)
        yield {"principalArn": who, "principalName": who.rsplit("/", 1)[-1] if "/" in who else who,
               "principalType": "any" if who == "*" else ("account" if who.endswith(":root") else
                                                         who.split(":")[5].split("/")[0] if who.count(":") >= 5 else "unknown"),
               "principalAccount": account, "principalPath": None, "serviceLinked": False,
               "access": "invoke", **api_fields(api), "via": "resource_policy", "conditional": conditional,
               "actions": actions, "statements": sorted(by),
               "conditions": [s.condition for s in by.values() if s.condition] or None, "error": None}


def _whole_api(s: Statement, api: Api) -> bool:
    """True when a resource-policy statement covers every invocation resource of the API."""
    probes = (api.invoke_base + "/zzprobe/GET/zzprobe", api.invoke_base + "/zz/POST/zz")
    if s.resources:
        return any(all(arn_matches(_expand_resource(r, api), p) for p in probes) for r in s.resources)
    return not any(arn_matches(_expand_resource(r, api), p) for r in s.not_resources for p in probes)
