"""API Gateway REST custom domains: mutual TLS, UpdateDomainName and base path mappings.

- mutualTlsAuthentication (moto drops it) is kept and returned by Get/GetDomainNames, with truststore
  warnings that tests plant through the control endpoint.
- UpdateDomainName (missing in moto) applies the common patch paths.
- GetBasePathMappings on a domain without mappings: moto fails with 500, AWS returns an empty list.
"""
from __future__ import annotations

import threading
from typing import Any

from . import moto_backends
from .aws_errors import AwsError
from .exchange import Call, Reply, json_reply
from .extension import Forward, HandlerTable


class RestDomains:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mtls: dict[tuple[str, str, str], dict[str, Any]] = {}  # (account, region, domain) -> mTLS settings

    def clear(self) -> None:
        with self._lock:
            self._mtls.clear()

    def handlers(self) -> HandlerTable:
        return {
            ("apigateway", "GetBasePathMappings"): self._get_base_path_mappings,
            ("apigateway", "CreateDomainName"): self._create_domain_name,
            ("apigateway", "GetDomainName"): self._get_domain_name,
            ("apigateway", "GetDomainNames"): self._get_domain_names,
            ("apigateway", "UpdateDomainName"): self._update_domain_name,
            ("apigateway", "DeleteDomainName"): self._delete_domain_name,
        }

    # Base path mappings

    def _get_base_path_mappings(self, call: Call, forward: Forward) -> Reply:
        backend = moto_backends.apigateway(call.account_id, call.region)
        domain = str(call.param("domainName"))
        if domain not in backend.domain_names:
            raise AwsError("NotFoundException", "Invalid domain name identifier specified", 404)
        if not backend.base_path_mappings.get(domain):
            return json_reply(200, {"item": []}, call.request_id)
        return forward()

    def set_truststore_warnings(self, account: str, region: str, domain: str, warnings: list[str]) -> None:
        with self._lock:
            settings = self._mtls.get((account, region, domain))
            if settings is None:
                raise KeyError(domain)
            if warnings:
                settings["truststoreWarnings"] = list(warnings)
            else:
                settings.pop("truststoreWarnings", None)

    def _with_mtls(self, call: Call, domain: dict[str, Any]) -> dict[str, Any]:
        settings = self._mtls.get((call.account_id, call.region, str(domain.get("domainName"))))
        if settings:
            domain["mutualTlsAuthentication"] = dict(settings)
        return domain

    def _create_domain_name(self, call: Call, forward: Forward) -> Reply:
        body = call.json_body()
        reply = forward()
        data = reply.json()
        mtls = body.get("mutualTlsAuthentication")
        if reply.ok and isinstance(data, dict) and isinstance(mtls, dict) and mtls.get("truststoreUri"):
            settings = {"truststoreUri": mtls["truststoreUri"]}
            if mtls.get("truststoreVersion"):
                settings["truststoreVersion"] = mtls["truststoreVersion"]
            with self._lock:
                self._mtls[(call.account_id, call.region, str(body.get("domainName")))] = settings
            return reply.with_json(self._with_mtls(call, data))
        return reply

    def _get_domain_name(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        return reply.with_json(self._with_mtls(call, data)) if reply.ok and isinstance(data, dict) else reply

    def _get_domain_names(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict):
            data["item"] = [self._with_mtls(call, d) for d in data.get("item") or []]
            return reply.with_json(data)
        return reply

    def _update_domain_name(self, call: Call, forward: Forward) -> Reply:
        backend = moto_backends.apigateway(call.account_id, call.region)
        name = str(call.param("domainName"))
        domain = backend.domain_names.get(name)
        if domain is None:
            raise AwsError("NotFoundException", "Invalid domain name identifier specified", 404)
        attributes = {"/securityPolicy": "security_policy", "/certificateArn": "certificate_arn",
                      "/regionalCertificateArn": "regional_certificate_arn",
                      "/certificateName": "certificate_name", "/regionalCertificateName": "regional_certificate_name"}
        for op in call.json_body().get("patchOperations") or []:
            path, value = op.get("path"), op.get("value")
            if path in attributes:
                setattr(domain, attributes[path], value if op.get("op") != "remove" else None)
            elif path in ("/mutualTlsAuthentication/truststoreUri", "/mutualTlsAuthentication/truststoreVersion"):
                with self._lock:
                    settings = self._mtls.setdefault((call.account_id, call.region, name), {})
                    settings[path.rsplit("/", 1)[-1]] = value
            else:
                raise AwsError("BadRequestException", f"Invalid patch path {path}")
        return json_reply(200, self._with_mtls(call, domain.to_json()), call.request_id)

    def _delete_domain_name(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        if reply.ok:
            with self._lock:
                self._mtls.pop((call.account_id, call.region, str(call.param("domainName"))), None)
        return reply
