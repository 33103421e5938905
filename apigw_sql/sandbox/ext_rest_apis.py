"""API Gateway REST (v1) responses shaped as AWS shapes them (tags and domains have modules of their own).

- GetResources and GetResource return method details only with `embed=methods`, as AWS does (moto
  always embeds them, so code that forgets `embed` would pass here and break on AWS).
- A REST API's `policy` comes back minified with `"` and `/` backslash-escaped, as AWS returns it.
- Integrations keep connectionId (moto drops it from PutIntegration) and authorizers keep
  identityValidationExpression (moto drops it from CreateAuthorizer).
- GetAccount omits a cleared cloudwatchRoleArn (moto returns "" or null), as AWS does.
- GetApiKeys honours `customerId` (moto ignores it and lists every key, so one call per customer would
  repeat every key).
"""
from __future__ import annotations

import json
from typing import Any

from . import moto_backends
from .exchange import Call, Reply
from .extension import Forward, HandlerTable


def escape_policy(policy: Any) -> Any:
    """The policy string as AWS returns it: minified JSON with quotes and slashes backslash-escaped."""
    if not isinstance(policy, str) or not policy:
        return policy
    try:
        document = json.loads(policy)
    except ValueError:
        return policy  # already escaped (or not JSON): leave as stored
    return json.dumps(document, separators=(",", ":")).replace('"', '\\"').replace("/", "\\/")


class RestApiShapes:
    def handlers(self) -> HandlerTable:
        table: HandlerTable = {
            ("apigateway", "GetResources"): self._get_resources,
            ("apigateway", "GetResource"): self._get_resource,
            ("apigateway", "PutIntegration"): self._put_integration,
            ("apigateway", "GetIntegration"): self._with_connection_id,
            ("apigateway", "GetMethod"): self._with_connection_id,
            ("apigateway", "CreateAuthorizer"): self._create_authorizer,
            ("apigateway", "GetAccount"): self._get_account,
            ("apigateway", "UpdateAccount"): self._get_account,
            ("apigateway", "GetApiKeys"): self._filter_api_keys,
        }
        for name in ("GetRestApi", "CreateRestApi", "UpdateRestApi", "PutRestApi", "ImportRestApi"):
            table[("apigateway", name)] = self._escape_one_policy
        table[("apigateway", "GetRestApis")] = self._escape_policies
        return table

    # Fields moto drops

    @staticmethod
    def _integration(call: Call, api_id: str, resource_id: str, verb: str) -> Any:
        """moto's Integration object of a method, or None."""
        api = moto_backends.apigateway(call.account_id, call.region).apis.get(api_id)
        resource = api.resources.get(resource_id) if api else None
        method = resource.resource_methods.get(verb) if resource else None
        return method.method_integration if method else None

    def _add_connection_id(self, call: Call, resource_id: str, verb: str, integration: dict[str, Any]) -> None:
        found = self._integration(call, str(call.param("restApiId")), resource_id, verb)
        connection_id = getattr(found, "connection_id", None)
        if connection_id:
            integration["connectionId"] = connection_id

    def _put_integration(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        connection_id = call.json_body().get("connectionId")
        if reply.ok and isinstance(data, dict) and connection_id:
            found = self._integration(call, str(call.param("restApiId")), str(call.param("resourceId")),
                                      str(call.param("httpMethod")))
            found.connection_id = connection_id  # moto's object: it goes when the integration goes
            data["connectionId"] = connection_id
            return reply.with_json(data)
        return reply

    def _with_connection_id(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if not reply.ok or not isinstance(data, dict):
            return reply
        integration = data.get("methodIntegration") if call.operation_name == "GetMethod" else data
        if isinstance(integration, dict):
            self._add_connection_id(call, str(call.param("resourceId")), str(call.param("httpMethod")), integration)
        return reply.with_json(data)

    def _create_authorizer(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        expression = call.json_body().get("identityValidationExpression")
        if reply.ok and isinstance(data, dict) and expression:
            api = moto_backends.apigateway(call.account_id, call.region).apis[str(call.param("restApiId"))]
            api.authorizers[data["id"]].identity_validation_expression = expression  # moto's to_json shows it
            data["identityValidationExpression"] = expression
            return reply.with_json(data)
        return reply

    # Account

    def _get_account(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict):
            return reply.with_json({k: v for k, v in data.items() if v not in (None, "")})
        return reply

    # API keys: the customerId filter

    def _filter_api_keys(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        customer = call.param("customerId")
        if not customer or not reply.ok or not isinstance(data, dict):
            return reply
        data["item"] = [key for key in data.get("item") or [] if key.get("customerId") == customer]
        return reply.with_json(data)

    # Resources: methods only with embed=methods

    @staticmethod
    def _strip_methods(resource: dict[str, Any]) -> dict[str, Any]:
        if "resourceMethods" in resource:
            resource["resourceMethods"] = {verb: {} for verb in resource["resourceMethods"]}
        return resource

    def _embeds_methods(self, call: Call) -> bool:
        return "methods" in (call.param("embed") or [])

    def _shape_resource(self, call: Call, resource: dict[str, Any]) -> dict[str, Any]:
        if not self._embeds_methods(call):
            return self._strip_methods(resource)
        for verb, method in (resource.get("resourceMethods") or {}).items():
            if isinstance(method.get("methodIntegration"), dict):
                self._add_connection_id(call, str(resource.get("id")), verb, method["methodIntegration"])
        return resource

    def _get_resources(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if not reply.ok or not isinstance(data, dict):
            return reply
        data["item"] = [self._shape_resource(call, r) for r in data.get("item") or []]
        return reply.with_json(data)

    def _get_resource(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if not reply.ok or not isinstance(data, dict):
            return reply
        return reply.with_json(self._shape_resource(call, data))

    # Policies

    def _escape_one_policy(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict) and data.get("policy"):
            data["policy"] = escape_policy(data["policy"])
            return reply.with_json(data)
        return reply

    def _escape_policies(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict):
            for api in data.get("item") or []:
                if api.get("policy"):
                    api["policy"] = escape_policy(api["policy"])
            return reply.with_json(data)
        return reply
