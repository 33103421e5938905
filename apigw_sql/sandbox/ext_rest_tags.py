"""API Gateway REST GetTags, TagResource and UntagResource for every taggable resource.

moto answers them only for stages (and 404s on a REST API's ARN, whose "/" botocore sends as %2F);
the tags live on moto's objects, and on the sandbox's client certificates.
"""
from __future__ import annotations

import re
from typing import Any

from . import moto_backends
from .aws_errors import AwsError
from .exchange import Call, Reply, json_reply
from .ext_client_certificates import ClientCertificates
from .extension import Forward, HandlerTable

_ARN_RE = re.compile(r"arn:[^:]+:apigateway:([^:]*)::(/.*)")


class RestTags:
    def __init__(self, client_certificates: ClientCertificates) -> None:
        self._certs = client_certificates

    def handlers(self) -> HandlerTable:
        return {
            ("apigateway", "GetTags"): self._get_tags,
            ("apigateway", "TagResource"): self._tag,
            ("apigateway", "UntagResource"): self._untag,
        }

    def _tagged(self, call: Call) -> Any:
        """The object holding the tags of the resource ARN in the call (something with a `tags` attribute)."""
        arn = str(call.param("resourceArn") or "")
        found = _ARN_RE.fullmatch(arn)
        if not found:
            raise AwsError("BadRequestException", f"Invalid resource ARN: {arn}")
        region = found.group(1) or call.region
        parts = found.group(2).strip("/").split("/")
        backend = moto_backends.apigateway(call.account_id, region)
        kind, ident = parts[0], parts[1] if len(parts) > 1 else ""
        target: Any = None
        if kind == "restapis" and len(parts) == 2:
            target = backend.apis.get(ident)
        elif kind == "restapis" and len(parts) == 4 and parts[2] == "stages":
            api = backend.apis.get(ident)
            target = api.stages.get(parts[3]) if api else None
        elif kind == "domainnames":
            target = backend.domain_names.get(ident)
        elif kind == "apikeys":
            target = backend.keys.get(ident)
        elif kind == "usageplans":
            target = backend.usage_plans.get(ident)
        elif kind == "vpclinks":
            target = backend.vpc_links.get(ident)
        elif kind == "clientcertificates":
            target = self._certs.certificates(call.account_id, region).get(ident)
        if target is None:
            raise AwsError("NotFoundException", f"Invalid resource identifier specified: {arn}", 404)
        return target

    @staticmethod
    def _tags_of(target: Any) -> dict[str, str]:
        tags = getattr(target, "tags", None) or {}
        if isinstance(tags, list):  # some moto objects keep the TagList form
            tags = {t.get("key", t.get("Key")): t.get("value", t.get("Value")) for t in tags}
        return dict(tags)

    def _get_tags(self, call: Call, forward: Forward) -> Reply:
        return json_reply(200, {"tags": self._tags_of(self._tagged(call))}, call.request_id)

    def _tag(self, call: Call, forward: Forward) -> Reply:
        target = self._tagged(call)
        target.tags = {**self._tags_of(target), **(call.json_body().get("tags") or {})}
        return json_reply(204, None, call.request_id)

    def _untag(self, call: Call, forward: Forward) -> Reply:
        target = self._tagged(call)
        drop = set(call.param("tagKeys") or [])
        target.tags = {k: v for k, v in self._tags_of(target).items() if k not in drop}
        return json_reply(204, None, call.request_id)
