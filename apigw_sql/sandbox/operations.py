"""Which AWS operation an HTTP request calls, read from botocore's service models.

The SigV4 credential scope names the signing service; the service model then tells the operation:
rest-json and rest-xml by HTTP method and requestUri template, json by X-Amz-Target, query and ec2
by the Action parameter. Matchers are built once per service, on first use, because loading every
botocore model up front would cost seconds at server start.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel, Shape

# Signing names that several botocore services share, or that differ from the service name.
# apigatewayv2 signs as "apigateway": both land on one signing name and the URI decides.
SERVICES_BY_SIGNING_NAME: dict[str, tuple[str, ...]] = {
    "apigateway": ("apigateway", "apigatewayv2"),
    "monitoring": ("cloudwatch",),
    "email": ("ses", "sesv2"),
    "states": ("stepfunctions",),
    "elasticmapreduce": ("emr",),
    "tagging": ("resourcegroupstaggingapi",),
    "es": ("es", "opensearch"),
    "events": ("events",),
}

_CREDENTIAL_RE = re.compile(r"Credential=([^/\s,]+)/(\d{8})/([^/\s,]+)/([^/\s,]+)/aws4_request")


@dataclass(frozen=True)
class Credential:
    """The SigV4 credential scope of a request."""

    access_key_id: str
    region: str
    signing_name: str


@dataclass(frozen=True)
class Operation:
    """An identified API call: the botocore service and operation, and its URI and query parameters."""

    service: str
    name: str
    protocol: str
    model: OperationModel | None = field(default=None, compare=False, repr=False)
    uri_params: dict[str, str] = field(default_factory=dict)
    query_params: dict[str, Any] = field(default_factory=dict)


def parse_credential(authorization: str | None, query: dict[str, list[str]]) -> Credential | None:
    """The credential scope from the Authorization header, or from a presigned URL's X-Amz-Credential."""
    if authorization:
        match = _CREDENTIAL_RE.search(authorization)
        if match:
            return Credential(match.group(1), match.group(3), match.group(4).lower())
    presigned = (query.get("X-Amz-Credential") or [None])[0]
    if presigned:
        parts = presigned.split("/")
        if len(parts) == 5:
            return Credential(parts[0], parts[2], parts[3].lower())
    return None


@dataclass
class _RestRoute:
    model: OperationModel
    pattern: re.Pattern[str]
    labels: list[str]  # URI label names in the order of the pattern's groups
    query_literals: dict[str, str | None]  # "?acl" -> {"acl": None}, "?list-type=2" -> {"list-type": "2"}
    required_headers: list[str]  # lower-case; tells S3's PutObject from CopyObject (x-amz-copy-source)
    required_query: list[str]  # tells S3's UploadPart (partNumber, uploadId) from PutObject
    specificity: tuple[int, int, int]


def _compile_route(model: OperationModel) -> _RestRoute:
    uri = model.http["requestUri"]
    path, _, query = uri.partition("?")
    literals: dict[str, str | None] = {}
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        literals[key] = value if sep else None
    labels: list[str] = []
    parts: list[str] = []
    literal_segments = 0
    greedy = 0
    for segment in filter(None, path.strip("/").split("/")):
        label = re.fullmatch(r"\{([^}+]+)(\+?)\}", segment)
        if label:
            labels.append(label.group(1))
            greedy += bool(label.group(2))
            parts.append("(.+)" if label.group(2) else "([^/]+)")
        else:
            literal_segments += 1
            parts.append(re.escape(segment))
    pattern = re.compile("/" + "/".join(parts) + "/?")
    required_headers: list[str] = []
    required_query: list[str] = []
    shape = model.input_shape
    if shape is not None:
        for member in shape.required_members:
            serialization = shape.members[member].serialization
            wire = serialization.get("name", member)
            if serialization.get("location") == "header":
                required_headers.append(wire.lower())
            elif serialization.get("location") == "querystring":
                required_query.append(wire)
    specificity = (literal_segments, len(literals) + len(required_query) + len(required_headers), -greedy)
    return _RestRoute(model, pattern, labels, literals, required_headers, required_query, specificity)


class _ServiceMatcher:
    """Identifies operations of one botocore service."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.protocol = model.protocol
        self.routes: dict[str, list[_RestRoute]] = {}
        if self.protocol in ("rest-json", "rest-xml"):
            for name in model.operation_names:
                op = model.operation_model(name)
                self.routes.setdefault(op.http["method"].upper(), []).append(_compile_route(op))
            for routes in self.routes.values():
                routes.sort(key=lambda r: r.specificity, reverse=True)

    def match(self, method: str, raw_path: str, query: dict[str, list[str]], headers: dict[str, str],
              form: dict[str, list[str]]) -> Operation | None:
        if self.protocol in ("rest-json", "rest-xml"):
            return self._match_rest(method, raw_path, query, headers)
        if self.protocol == "json":
            target = headers.get("x-amz-target", "")
            name = target.rsplit(".", 1)[-1] if target else ""
        else:  # query and ec2: the Action parameter, in the form body or the query string
            name = ((form.get("Action") or query.get("Action") or [""])[0])
        if name and name in self.model.operation_names:
            return Operation(self.model.service_name, name, self.protocol, self.model.operation_model(name))
        return None

    def _match_rest(self, method: str, raw_path: str, query: dict[str, list[str]],
                    headers: dict[str, str]) -> Operation | None:
        for route in self.routes.get(method.upper(), []):
            found = route.pattern.fullmatch(raw_path)
            if not found:
                continue
            if any(k not in query or (v is not None and v not in query[k]) for k, v in route.query_literals.items()):
                continue
            if any(h not in headers for h in route.required_headers):
                continue
            if any(q not in query for q in route.required_query):
                continue
            labels = {name: unquote(value) for name, value in zip(route.labels, found.groups())}
            uri_params, query_params = _located_params(route.model, labels, query)
            return Operation(self.model.service_name, route.model.name, self.protocol, route.model,
                             uri_params, query_params)
        return None


def _located_params(model: OperationModel, labels: dict[str, str],
                    query: dict[str, list[str]]) -> tuple[dict[str, str], dict[str, Any]]:
    """Maps URI labels and query-string keys to the input shape's member names, typed per the shape."""
    uri_params: dict[str, str] = {}
    query_params: dict[str, Any] = {}
    shape = model.input_shape
    if shape is None:
        return uri_params, query_params
    for member, member_shape in shape.members.items():
        location = member_shape.serialization.get("location")
        wire = member_shape.serialization.get("name", member)
        if location == "uri" and wire in labels:
            uri_params[member] = labels[wire]
        elif location == "querystring" and wire in query:
            query_params[member] = _typed(member_shape, query[wire])
    return uri_params, query_params


def _typed(shape: Shape, values: list[str]) -> Any:
    if shape.type_name == "list":
        return values
    value = values[-1]
    if shape.type_name == "boolean":
        return value.lower() == "true"
    if shape.type_name in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            return value
    return value


class OperationMatcher:
    """Identifies the botocore operation of a request; thread-safe, builds each service's matcher once."""

    def __init__(self) -> None:
        self._session = botocore.session.get_session()
        self._matchers: dict[str, _ServiceMatcher | None] = {}
        self._lock = threading.Lock()

    def service_model(self, service: str) -> ServiceModel | None:
        matcher = self._matcher(service)
        return matcher.model if matcher else None

    def _matcher(self, service: str) -> _ServiceMatcher | None:
        with self._lock:
            if service not in self._matchers:
                try:
                    self._matchers[service] = _ServiceMatcher(self._session.get_service_model(service))
                except UnknownServiceError:
                    self._matchers[service] = None
            return self._matchers[service]

    def identify(self, signing_name: str, method: str, raw_path: str, query: dict[str, list[str]],
                 headers: dict[str, str], body: bytes, content_type: str) -> Operation | None:
        """The operation of a request signed for `signing_name`, or None when no model matches."""
        form: dict[str, list[str]] = {}
        if content_type.startswith("application/x-www-form-urlencoded") and body:
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        for service in SERVICES_BY_SIGNING_NAME.get(signing_name, (signing_name,)):
            matcher = self._matcher(service)
            if matcher is None:
                continue
            found = matcher.match(method, raw_path, query, headers, form)
            if found is not None:
                return found
        return None
