"""API Gateway HTTP/WebSocket (v2) fixes: the GetAuthorizers list call, and domain names' mutual TLS.

moto stores authorizers but has no list call; the list is read from moto's own objects. moto keeps
mutualTlsAuthentication as sent; AWS omits it when there is none, and adds truststoreWarnings, which
tests plant through the control endpoint.
"""
from __future__ import annotations

from typing import Any

from . import moto_backends
from .exchange import Call, Reply, json_reply
from .extension import Forward, HandlerTable

DEFAULT_PAGE = 100


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class HttpApiExtensions:
    def handlers(self) -> HandlerTable:
        return {
            ("apigatewayv2", "GetAuthorizers"): self._get_authorizers,
            ("apigatewayv2", "GetDomainName"): self._get_domain_name,
            ("apigatewayv2", "CreateDomainName"): self._get_domain_name,
            ("apigatewayv2", "GetDomainNames"): self._get_domain_names,
        }

    def _get_authorizers(self, call: Call, forward: Forward) -> Reply:
        api = moto_backends.apigatewayv2(call.account_id, call.region).get_api(call.param("ApiId"))
        authorizers = [_without_nulls(a.to_json()) for a in api.authorizers.values()]
        start = int(call.param("NextToken")) if str(call.param("NextToken") or "").isdigit() else 0
        size = int(call.param("MaxResults") or DEFAULT_PAGE)
        data: dict[str, Any] = {"items": authorizers[start:start + size]}
        if start + size < len(authorizers):
            data["nextToken"] = str(start + size)
        return json_reply(200, data, call.request_id)

    @staticmethod
    def _aws_shaped(domain: dict[str, Any]) -> dict[str, Any]:
        if not domain.get("mutualTlsAuthentication"):
            domain.pop("mutualTlsAuthentication", None)
        return domain

    def _get_domain_name(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        return reply.with_json(self._aws_shaped(data)) if reply.ok and isinstance(data, dict) else reply

    def _get_domain_names(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict):
            data["items"] = [self._aws_shaped(d) for d in data.get("items") or []]
            return reply.with_json(data)
        return reply

    @staticmethod
    def set_truststore_warnings(account: str, region: str, domain: str, warnings: list[str]) -> None:
        found = moto_backends.apigatewayv2(account, region).domain_names.get(domain)
        if found is None or not found.mutual_tls_authentication:
            raise KeyError(domain)
        if warnings:
            found.mutual_tls_authentication["truststoreWarnings"] = list(warnings)
        else:
            found.mutual_tls_authentication.pop("truststoreWarnings", None)
