"""CloudTrail management-event records for requests that reached the sandbox.

The shapes follow shared/reference/cloudtrail-records.md: API Gateway REST (v1) puts path and query
parameters at the top of requestParameters, adds "template": false, and nests the body under
`<operation>Input`; HTTP/WebSocket (v2) and other JSON services are flat and camelCase.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from botocore.model import Shape

from .aws_errors import read_error
from .exchange import Call, Reply
from .recorder import parse_event_time

SANDBOX_USER = "sandbox-auditor"
ROOT_ACCESS_KEY_ID = "ROOTACCESSKEY"  # requests signed with this key id are recorded as the root user
EVENT_VERSION = "1.09"
_READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "BatchGet")


# Calls CloudTrail counts as data events, which a trail logs only when asked (never by default): the
# sandbox records management events only, as a default trail does. Without this, every PutLogEvents of the
# seeded access logs (each carrying its log lines) would be a CloudTrail record.
DATA_EVENTS = frozenset({("logs", "PutLogEvents"), ("logs", "GetLogEvents"), ("logs", "FilterLogEvents")})


def is_data_event(service: str, event_name: str) -> bool:
    """Whether a call is a CloudTrail data event (not logged by a default trail)."""
    return (service, event_name) in DATA_EVENTS


def is_read_only(event_name: str) -> bool:
    return event_name.startswith(_READ_ONLY_PREFIXES)


def format_event_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_identity(access_key_id: str, account_id: str) -> dict[str, Any]:
    if access_key_id == ROOT_ACCESS_KEY_ID:
        return {"type": "Root", "principalId": account_id, "arn": f"arn:aws:iam::{account_id}:root",
                "accountId": account_id, "accessKeyId": access_key_id}
    return {"type": "IAMUser", "principalId": "AIDASANDBOXAUDITOR0001",
            "arn": f"arn:aws:iam::{account_id}:user/{SANDBOX_USER}", "accountId": account_id,
            "accessKeyId": access_key_id, "userName": SANDBOX_USER}


def username_of(record: dict[str, Any]) -> str | None:
    """The Username that LookupEvents shows and filters on."""
    identity = record.get("userIdentity") or {}
    if identity.get("type") == "Root":
        return "root"
    if identity.get("userName"):
        return str(identity["userName"])
    arn = str(identity.get("arn") or "")
    return arn.rsplit("/", 1)[-1] if "/" in arn else None


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _camelize(value: Any, shape: Shape | None) -> Any:
    """Re-keys a JSON-protocol body the way CloudTrail writes it: member names camelCase, map keys kept."""
    if isinstance(value, dict):
        if shape is not None and shape.type_name == "map":
            return {k: _camelize(v, shape.value) for k, v in value.items()}
        members = shape.members if shape is not None and shape.type_name == "structure" else {}
        return {_lower_first(k): _camelize(v, members.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        item = shape.member if shape is not None and shape.type_name == "list" else None
        return [_camelize(v, item) for v in value]
    return value


def _json_dict(data: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def request_parameters(call: Call) -> dict[str, Any] | None:
    op = call.operation
    if op is None:
        return None
    body = _json_dict(call.body)
    located = {**op.uri_params, **op.query_params}
    if op.service == "apigateway":
        params: dict[str, Any] = {**located, "template": False}
        if body:
            params[_lower_first(op.name) + "Input"] = body
        return params
    if op.protocol == "rest-json":
        return {**{_lower_first(k): v for k, v in located.items()}, **(body or {})}
    if op.protocol == "json":
        return _camelize(body, op.model.input_shape if op.model else None) if body else None
    if op.protocol in ("query", "ec2"):
        form = parse_qs(call.body.decode("utf-8", "replace")) if call.body else call.query
        params = {_lower_first(k): v[-1] for k, v in form.items() if k not in ("Action", "Version")}
        return params or None
    # rest-xml (S3): CloudTrail names the bucket bucketName and keeps the sub-resource query keys.
    params = {("bucketName" if k == "Bucket" else _lower_first(k)): v for k, v in located.items()}
    params.update({k: v[-1] for k, v in call.query.items() if k not in ("X-Amz-Credential", "X-Amz-Signature")})
    params["Host"] = call.headers.get("host", "")
    return params


def response_elements(call: Call, reply: Reply, read_only: bool) -> dict[str, Any] | None:
    """What the call returned, for successful writes answered in JSON (reads are not logged with a body)."""
    op = call.operation
    if op is None or read_only or not reply.ok:
        return None
    data = _json_dict(reply.body)
    if not data:
        return None
    if op.protocol == "json":
        return _camelize(data, op.model.output_shape if op.model else None)
    return data


def build_record(call: Call, reply: Reply, source_ip: str, now: datetime | None = None) -> dict[str, Any]:
    """The CloudTrail record of one identified call and its reply."""
    assert call.operation is not None and call.credential is not None
    event_name = call.operation.name
    read_only = is_read_only(event_name)
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(call.credential.access_key_id, call.account_id),
        "eventTime": format_event_time(now or datetime.now(timezone.utc)),
        "eventSource": f"{call.credential.signing_name}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": call.region,
        "sourceIPAddress": source_ip,
        "userAgent": call.headers.get("user-agent", ""),
        "requestParameters": request_parameters(call),
        "responseElements": response_elements(call, reply, read_only),
        "requestID": call.request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": call.account_id,
        "eventCategory": "Management",
    }
    if reply.status >= 400:
        record["errorCode"], record["errorMessage"] = read_error(reply)
    return record


def complete_record(partial: dict[str, Any], region: str, account_id: str) -> dict[str, Any]:
    """A planted (synthetic) record with every field LookupEvents needs filled by a default."""
    record = dict(partial)
    record["awsRegion"] = region
    record.setdefault("eventVersion", EVENT_VERSION)
    record.setdefault("eventID", str(uuid.uuid4()))
    record["eventTime"] = format_event_time(parse_event_time(record.get("eventTime") or datetime.now(timezone.utc)))
    record.setdefault("eventSource", "apigateway.amazonaws.com")
    record.setdefault("eventName", "UpdateStage")
    record.setdefault("readOnly", is_read_only(record["eventName"]))
    record.setdefault("userIdentity", user_identity("AKIASANDBOXPLANTED01", account_id))
    record.setdefault("sourceIPAddress", "127.0.0.1")
    record.setdefault("userAgent", "apigw-sql-sandbox/planted")
    record.setdefault("requestParameters", None)
    record.setdefault("responseElements", None)
    record.setdefault("requestID", str(uuid.uuid4()))
    record.setdefault("eventType", "AwsApiCall")
    record.setdefault("managementEvent", True)
    record.setdefault("recipientAccountId", account_id)
    record.setdefault("eventCategory", "Management")
    return record


# Parameters that name the resource a call acts on, and the CloudFormation-style type LookupEvents shows.
_RESOURCE_PARAMS: dict[str, dict[str, str]] = {
    "apigateway.amazonaws.com": {
        "restApiId": "AWS::ApiGateway::RestApi", "apiId": "AWS::ApiGatewayV2::Api",
        "stageName": "AWS::ApiGateway::Stage", "domainName": "AWS::ApiGateway::DomainName",
        "apiKey": "AWS::ApiGateway::ApiKey", "usagePlanId": "AWS::ApiGateway::UsagePlan",
        "clientCertificateId": "AWS::ApiGateway::ClientCertificate", "authorizerId": "AWS::ApiGateway::Authorizer",
        "vpcLinkId": "AWS::ApiGateway::VpcLink",
    },
    "cloudtrail.amazonaws.com": {"name": "AWS::CloudTrail::Trail", "trailName": "AWS::CloudTrail::Trail"},
    "wafv2.amazonaws.com": {"webACLArn": "AWS::WAFv2::WebACL", "resourceArn": "AWS::ApiGateway::Stage"},
    "s3.amazonaws.com": {"bucketName": "AWS::S3::Bucket"},
}


def lookup_resources(record: dict[str, Any]) -> list[dict[str, str]]:
    """The Resources list of a LookupEvents event: from the record's own `resources`, else its parameters."""
    if record.get("resources"):
        return [{"ResourceType": str(r.get("type", "")), "ResourceName": str(r.get("ARN") or r.get("name", ""))}
                for r in record["resources"] if isinstance(r, dict)]
    found: list[dict[str, str]] = []
    kinds = _RESOURCE_PARAMS.get(str(record.get("eventSource")), {})
    sources = [record.get("requestParameters") or {}, record.get("responseElements") or {}]
    if record.get("eventSource") == "apigateway.amazonaws.com" and record.get("eventName") in ("CreateRestApi",
                                                                                                "CreateApi"):
        new_id = (record.get("responseElements") or {}).get("id") or (record.get("responseElements") or {}).get("apiId")
        if new_id:
            sources.insert(0, {"restApiId" if record["eventName"] == "CreateRestApi" else "apiId": new_id})
    seen: set[tuple[str, str]] = set()
    for params in sources:
        if not isinstance(params, dict):
            continue
        for key, kind in kinds.items():
            value = params.get(key)
            if isinstance(value, str) and value and (kind, value) not in seen:
                if kind == "AWS::ApiGateway::Stage" and "apiId" in params:
                    kind = "AWS::ApiGatewayV2::Stage"
                seen.add((kind, value))
                found.append({"ResourceType": kind, "ResourceName": value})
        if found:
            break
    return found
