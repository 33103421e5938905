"""Rows that no single API field holds: derived from a parent row, or flattened from lists.

Table files name these functions with ``rows = "apigw_sql.derived:FUNCTION"``. Each receives a
``UnitContext`` (``ctx.parent`` is the parent table's row, JSON columns as JSON strings) and
returns items (dicts) that the table's column paths read. The pure helpers below carry the logic
and the examples; the ``*_rows`` functions only unwrap the context.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from .transforms import json_string

# Condition keys that tie a public principal to a network, an organization or an account.
SOURCE_RESTRICTION_KEYS = frozenset(k.lower() for k in (
    "aws:SourceVpce", "aws:SourceVpc", "aws:SourceIp", "aws:PrincipalOrgID", "aws:PrincipalAccount",
    "aws:SourceAccount"))


# A parent column value as Python data: JSON columns arrive as JSON strings.
_json = json_string


# ---- REST stage method settings ----------------------------------------------------------------

def split_method_setting_key(key: str) -> tuple[str, str]:
    """The resource path and HTTP verb of a stage methodSettings key (``~1`` is ``/``, ``~0`` is ``~``).

    >>> split_method_setting_key("*/*")
    ('*', '*')
    >>> split_method_setting_key("~1pets~1{id}/GET")
    ('/pets/{id}', 'GET')
    >>> split_method_setting_key("~1a~0b/*")
    ('/a~b', '*')
    """
    path, _, verb = key.rpartition("/")
    if path != "*":
        path = path.replace("~1", "/").replace("~0", "~")
    return path, verb


def method_setting_items(method_settings: Any) -> list[dict[str, Any]]:
    """One item per methodSettings key: the settings plus key, resourcePath, httpMethod, isDefault.

    >>> items = method_setting_items({"*/*": {"loggingLevel": "ERROR"}, "~1pets/GET": {"loggingLevel": "OFF"}})
    >>> [(i["key"], i["resourcePath"], i["httpMethod"], i["isDefault"], i["loggingLevel"]) for i in items]
    [('*/*', '*', '*', True, 'ERROR'), ('~1pets/GET', '/pets', 'GET', False, 'OFF')]
    >>> method_setting_items('{"*/*": {"metricsEnabled": true}}')[0]["metricsEnabled"]
    True
    >>> method_setting_items(None)
    []
    """
    settings = _json(method_settings)
    if not isinstance(settings, dict):
        return []
    items = []
    for key in sorted(settings, key=lambda k: (k != "*/*", k)):  # the stage default first
        path, verb = split_method_setting_key(key)
        value = settings[key] if isinstance(settings[key], dict) else {}
        items.append({**value, "key": key, "resourcePath": path, "httpMethod": verb, "isDefault": key == "*/*"})
    return items


def method_setting_rows(ctx: Any) -> list[dict[str, Any]]:
    """aws_api_gateway_method_setting: the stage row's method_settings, one item per key."""
    return method_setting_items((ctx.parent or {}).get("method_settings"))


# ---- REST API resource policy statements -------------------------------------------------------

def principal_is_public(principal: Any) -> bool:
    """True when a statement's Principal is everyone: ``*``, ``{"AWS": "*"}`` or a list holding ``*``.

    >>> principal_is_public("*"), principal_is_public({"AWS": "*"}), principal_is_public({"AWS": ["arn:x", "*"]})
    (True, True, True)
    >>> principal_is_public({"AWS": "arn:aws:iam::123456789012:root"}), principal_is_public(None)
    (False, False)
    """
    if isinstance(principal, str):
        return principal == "*"
    if isinstance(principal, list):
        return "*" in principal
    if isinstance(principal, dict):
        aws = next((v for k, v in principal.items() if k.upper() == "AWS"), None)
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def condition_keys(condition: Any) -> list[str]:
    """The lower-cased condition keys of a statement, under any operator, sorted and unique.

    >>> condition_keys({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}})
    ['aws:sourceip', 'aws:sourcevpce']
    >>> condition_keys(None)
    []
    """
    if not isinstance(condition, dict):
        return []
    found = {key.lower() for block in condition.values() if isinstance(block, dict) for key in block}
    return sorted(found)


def has_source_restriction(keys: Iterable[str]) -> bool:
    """True when a condition ties the statement to a VPC, endpoint, IP range, organization or account.

    >>> has_source_restriction(["aws:sourceip"]), has_source_restriction(["aws:PrincipalOrgID"])
    (True, True)
    >>> has_source_restriction(["aws:username"]), has_source_restriction([])
    (False, False)
    """
    return any(k.lower() in SOURCE_RESTRICTION_KEYS for k in keys)


def policy_statement_items(policy: Any) -> list[dict[str, Any]]:
    """One item per statement of a policy document (a dict or its JSON text), with helper flags.

    >>> doc = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
    ...         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    ...        {"Sid": "Deny", "Effect": "Deny", "Principal": {"AWS": "*"}, "NotAction": "execute-api:*"}]}
    >>> [(s["index"], s.get("Sid"), s["principalIsPublic"], s["conditionKeys"], s["hasSourceRestriction"])
    ...  for s in policy_statement_items(doc)]
    [(0, None, True, ['aws:sourceip'], True), (1, 'Deny', True, [], False)]
    >>> len(policy_statement_items('{"Statement": {"Effect": "Allow"}}')), policy_statement_items(None)
    (1, [])
    """
    doc = _json(policy)
    if not isinstance(doc, dict):
        return []
    statements = doc.get("Statement")
    if isinstance(statements, dict):  # a single statement may be written without the list
        statements = [statements]
    if not isinstance(statements, list):
        return []
    items = []
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            continue
        keys = condition_keys(statement.get("Condition"))
        items.append({**statement, "index": index, "principalIsPublic": principal_is_public(statement.get("Principal")),
                      "conditionKeys": keys, "hasSourceRestriction": has_source_restriction(keys)})
    return items


def policy_statement_rows(ctx: Any) -> list[dict[str, Any]]:
    """aws_api_gateway_rest_api_policy_statement: the REST API row's decoded policy, one item per statement."""
    return policy_statement_items((ctx.parent or {}).get("policy"))


# ---- HTTP/WebSocket custom domains ------------------------------------------------------------

def domain_name_item(domain: dict[str, Any]) -> dict[str, Any]:
    """A v2 domain name with its DomainNameConfigurations list flattened into plain fields.

    >>> item = domain_name_item({"DomainName": "a.example.com", "DomainNameConfigurations": [
    ...     {"CertificateArn": "arn:c1", "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}]})
    >>> item["certificateArns"], item["endpointTypes"], item["securityPolicy"], item["securityPolicies"]
    (['arn:c1'], ['REGIONAL'], 'TLS_1_2', ['TLS_1_2'])
    >>> domain_name_item({"DomainName": "b.example.com"})["securityPolicy"] is None
    True
    """
    configs = [c for c in domain.get("DomainNameConfigurations") or [] if isinstance(c, dict)]

    def values(field: str) -> list[Any]:
        return [c[field] for c in configs if c.get(field) is not None]

    policies = values("SecurityPolicy")
    return {**domain, "certificateArns": values("CertificateArn"), "endpointTypes": values("EndpointType"),
            "securityPolicies": policies, "securityPolicy": policies[0] if policies else None}


def gatewayv2_domain_name_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_api_gatewayv2_domain_name: GetDomainNames (paginated, cached, logged), flattened per domain."""
    for page in ctx.call("GetDomainNames"):
        for domain in page.get("Items") or []:
            yield domain_name_item(domain)  # a new dict: the cached page stays as the API sent it
