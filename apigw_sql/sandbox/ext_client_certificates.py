"""REST API client certificates, and the stage's clientCertificateId, which moto lacks.

moto has no client certificate calls and drops `clientCertificateId` from CreateStage and UpdateStage;
the sandbox keeps certificates and the stage links here and adds the id to GetStage and GetStages.
"""
from __future__ import annotations

import base64
import os
import random
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .aws_errors import AwsError
from .exchange import Call, Reply, json_reply
from .extension import Forward, HandlerTable

VALIDITY_SECONDS = 365 * 24 * 3600
DEFAULT_PAGE = 25
MAX_PAGE = 500


def _dummy_pem() -> str:
    # Not a parseable certificate: auditors read its dates, never its key material.
    blob = base64.b64encode(b"apigw-sql sandbox client certificate " + os.urandom(480)).decode()
    lines = [blob[i:i + 64] for i in range(0, len(blob), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


@dataclass
class ClientCertificate:
    id: str
    description: str
    tags: dict[str, str]
    created: float = field(default_factory=time.time)
    pem: str = field(default_factory=_dummy_pem)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"clientCertificateId": self.id, "pemEncodedCertificate": self.pem,
                                "createdDate": int(self.created),
                                "expirationDate": int(self.created + VALIDITY_SECONDS)}
        if self.description:
            data["description"] = self.description
        if self.tags:
            data["tags"] = self.tags
        return data


def _not_found(what: str) -> AwsError:
    return AwsError("NotFoundException", f"Invalid {what} identifier specified", 404)


class ClientCertificates:
    """Client certificates per account and region, and which stage uses which."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._certs: dict[tuple[str, str], dict[str, ClientCertificate]] = {}
        self._stage_certs: dict[tuple[str, str, str, str], str] = {}  # (account, region, api, stage) -> cert id

    def clear(self) -> None:
        with self._lock:
            self._certs.clear()
            self._stage_certs.clear()

    def certificates(self, account: str, region: str) -> dict[str, ClientCertificate]:
        with self._lock:
            return self._certs.setdefault((account, region), {})

    def get(self, account: str, region: str, cert_id: str) -> ClientCertificate:
        cert = self.certificates(account, region).get(cert_id)
        if cert is None:
            raise _not_found("Client Certificate")
        return cert

    def backdate(self, account: str, region: str, cert_id: str, days: float) -> None:
        """Moves a certificate's creation (and so its expiry) `days` into the past, for expiry controls."""
        self.get(account, region, cert_id).created -= days * 24 * 3600

    def handlers(self) -> HandlerTable:
        return {
            ("apigateway", "GenerateClientCertificate"): self._generate,
            ("apigateway", "GetClientCertificate"): self._get_one,
            ("apigateway", "GetClientCertificates"): self._get_all,
            ("apigateway", "UpdateClientCertificate"): self._update,
            ("apigateway", "DeleteClientCertificate"): self._delete,
            ("apigateway", "CreateStage"): self._create_stage,
            ("apigateway", "UpdateStage"): self._update_stage,
            ("apigateway", "GetStage"): self._get_stage,
            ("apigateway", "GetStages"): self._get_stages,
            ("apigateway", "DeleteStage"): self._delete_stage,
        }

    def _generate(self, call: Call, forward: Forward) -> Reply:
        body = call.json_body()
        cert_id = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
        cert = ClientCertificate(cert_id, str(body.get("description") or ""), dict(body.get("tags") or {}))
        self.certificates(call.account_id, call.region)[cert_id] = cert
        return json_reply(201, cert.to_json(), call.request_id)

    def _get_one(self, call: Call, forward: Forward) -> Reply:
        return json_reply(200, self.get(call.account_id, call.region, call.param("clientCertificateId")).to_json(),
                          call.request_id)

    def _get_all(self, call: Call, forward: Forward) -> Reply:
        certs = sorted(self.certificates(call.account_id, call.region).values(), key=lambda c: (c.created, c.id))
        position = str(call.param("position") or "0")
        start = int(position) if position.isdigit() else 0  # positions are offsets the sandbox handed out
        limit = min(int(call.param("limit") or DEFAULT_PAGE), MAX_PAGE)
        page = certs[start:start + limit]
        data: dict[str, Any] = {"item": [c.to_json() for c in page]}
        if start + limit < len(certs):
            data["position"] = str(start + limit)
        return json_reply(200, data, call.request_id)

    def _update(self, call: Call, forward: Forward) -> Reply:
        cert = self.get(call.account_id, call.region, call.param("clientCertificateId"))
        for op in call.json_body().get("patchOperations") or []:
            if op.get("path") == "/description" and op.get("op") in ("replace", "add"):
                cert.description = str(op.get("value") or "")
            elif op.get("path") == "/description" and op.get("op") == "remove":
                cert.description = ""
            else:
                raise AwsError("BadRequestException", f"Invalid patch path {op.get('path')}")
        return json_reply(200, cert.to_json(), call.request_id)

    def _delete(self, call: Call, forward: Forward) -> Reply:
        cert_id = call.param("clientCertificateId")
        certs = self.certificates(call.account_id, call.region)
        if certs.pop(cert_id, None) is None:
            raise _not_found("Client Certificate")
        return json_reply(202, None, call.request_id)

    # Stages: moto accepts clientCertificateId and drops it; keep it beside moto's stage.

    def _stage_key(self, call: Call, stage: str | None = None) -> tuple[str, str, str, str]:
        return (call.account_id, call.region, str(call.param("restApiId")), str(stage or call.param("stageName")))

    def _with_cert(self, call: Call, stage: dict[str, Any]) -> dict[str, Any]:
        cert_id = self._stage_certs.get(self._stage_key(call, stage.get("stageName")))
        if cert_id:
            stage["clientCertificateId"] = cert_id
        return stage

    def _check_cert(self, call: Call, cert_id: str) -> None:
        if cert_id and cert_id not in self.certificates(call.account_id, call.region):
            raise AwsError("BadRequestException", f"Invalid client certificate identifier: {cert_id}")

    def _create_stage(self, call: Call, forward: Forward) -> Reply:
        cert_id = str(call.json_body().get("clientCertificateId") or "")
        self._check_cert(call, cert_id)
        reply = forward()
        data = reply.json()
        if reply.ok and cert_id and isinstance(data, dict):
            self._stage_certs[self._stage_key(call, call.json_body().get("stageName"))] = cert_id
            return reply.with_json(self._with_cert(call, data))
        return reply

    def _update_stage(self, call: Call, forward: Forward) -> Reply:
        change: tuple[str, str] | None = None
        for op in call.json_body().get("patchOperations") or []:
            if op.get("path") == "/clientCertificateId":
                value = str(op.get("value") or "") if op.get("op") in ("replace", "add") else ""
                self._check_cert(call, value)
                change = (op.get("op", ""), value)
        reply = forward()
        data = reply.json()
        if not reply.ok or not isinstance(data, dict):
            return reply
        if change is not None:
            if change[1]:
                self._stage_certs[self._stage_key(call)] = change[1]
            else:
                self._stage_certs.pop(self._stage_key(call), None)
        return reply.with_json(self._with_cert(call, data))

    def _get_stage(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        return reply.with_json(self._with_cert(call, data)) if reply.ok and isinstance(data, dict) else reply

    def _get_stages(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        data = reply.json()
        if reply.ok and isinstance(data, dict):
            data["item"] = [self._with_cert(call, s) for s in data.get("item") or []]
            return reply.with_json(data)
        return reply

    def _delete_stage(self, call: Call, forward: Forward) -> Reply:
        reply = forward()
        if reply.ok:
            self._stage_certs.pop(self._stage_key(call), None)
        return reply
