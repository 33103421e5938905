"""Realistic synthetic CloudTrail log files, for tests and benchmarks.

The records follow shared/reference/cloudtrail-records.md: many principals (IAM users, assumed roles
with session context, the root user, AWS services acting for a user), API Gateway v1 and v2 calls
with their distinct requestParameters shapes, CloudTrail, WAF, S3, IAM, STS, EC2, KMS, Lambda and
CloudWatch Logs calls, the access-denied codes that differ by service, throttling and not-found errors,
TLS details and additional event data. Files land in the delivery layout (layout.log_file_key), each
record before its file's delivery minute; digest files are written beside them, as CloudTrail does,
so that readers can prove they skip them. Everything is a function of the seed.

>>> records = synthetic_records(random.Random(7), "111122223333", "eu-west-1",
...                             datetime(2024, 3, 5, tzinfo=timezone.utc), timedelta(minutes=5), 1000)
>>> len(records), len({r["eventID"] for r in records})
(1000, 1000)
>>> sorted({r["userIdentity"]["type"] for r in records}) == ["AWSService", "AssumedRole", "IAMUser", "Root"]
True
>>> any(r.get("errorCode", "").startswith("AccessDenied") for r in records)
True
"""
from __future__ import annotations

import gzip
import json
import os
import random
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from .layout import log_file_key

DEFAULT_ACCOUNTS = ("111122223333", "444455556666")
DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
GLOBAL_SOURCES = ("iam.amazonaws.com",)  # recorded in us-east-1 only, so only in its folders

_USER_AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off command/{cmd}",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.210 md/arch#x86_64 lang/python#3.11.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.69",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.21.8",
    "console.amazonaws.com",
    "aws-sdk-java/2.25.11 Linux/5.10.213 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc.",
    "Prowler/5.4.0",
    "aws-internal/3 aws-sdk-java/1.12.669 Linux/5.10.213 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402",
)
_CIPHERS = (("TLSv1.3", "TLS_AES_128_GCM_SHA256"), ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
            ("TLSv1.3", "TLS_AES_256_GCM_SHA384"))
_STAGES = ("prod", "dev", "staging", "v1", "live")
_ROLES = ("OrganizationAccountAccessRole", "ci-deployer", "SecurityAudit", "developer", "lambda-orders-exec",
          "AWSReservedSSO_AdministratorAccess_0123456789abcdef", "incident-responder", "data-pipeline")
_USERS = ("alice", "bob", "carol", "dave", "build-bot", "legacy-batch", "erin", "mallory")
_SERVICES = ("cloudtrail.amazonaws.com", "apigateway.amazonaws.com", "lambda.amazonaws.com",
             "config.amazonaws.com", "access-analyzer.amazonaws.com")
_DENIED = {"ec2.amazonaws.com": "Client.UnauthorizedOperation", "s3.amazonaws.com": "AccessDenied",
           "iam.amazonaws.com": "AccessDenied", "sts.amazonaws.com": "AccessDenied"}


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _alnum(rng: random.Random, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class _Principal:
    identity: dict[str, Any]
    source_ip: str
    user_agent: str
    deny_rate: float  # the share of its calls that are refused
    weight: float


def _principals(rng: random.Random, account: str) -> list[_Principal]:
    found: list[_Principal] = []

    def ip() -> str:
        return f"{rng.choice((3, 18, 34, 52, 54, 81, 92, 185, 203))}.{rng.randrange(256)}.{rng.randrange(256)}." \
               f"{rng.randrange(1, 255)}"

    for name in _USERS:
        key = "AKIA" + _alnum(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        found.append(_Principal(
            {"type": "IAMUser", "principalId": "AIDA" + _alnum(rng, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
             "arn": f"arn:aws:iam::{account}:user/{name}", "accountId": account, "accessKeyId": key, "userName": name},
            ip(), rng.choice(_USER_AGENTS), 0.35 if name == "mallory" else 0.02, 3.0 if name == "build-bot" else 1.0))
    for role in _ROLES:
        role_id = "AROA" + _alnum(rng, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        for session in ("botocore-session-" + str(rng.randrange(10**9, 10**10)), f"{rng.choice(_USERS)}@example.com"):
            key = "ASIA" + _alnum(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            found.append(_Principal(
                {"type": "AssumedRole", "principalId": f"{role_id}:{session}",
                 "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}", "accountId": account,
                 "accessKeyId": key,
                 "sessionContext": {
                     "sessionIssuer": {"type": "Role", "principalId": role_id,
                                       "arn": f"arn:aws:iam::{account}:role/{role}", "accountId": account,
                                       "userName": role},
                     "attributes": {"creationDate": "2024-01-01T00:00:00Z", "mfaAuthenticated": "false"}}},
                ip(), rng.choice(_USER_AGENTS), 0.01, 4.0 if role in ("ci-deployer", "SecurityAudit") else 1.0))
    found.append(_Principal(
        {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account,
         "accessKeyId": "ASIA" + _alnum(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")},
        ip(), "console.amazonaws.com", 0.0, 0.3))
    for service in _SERVICES:
        found.append(_Principal({"type": "AWSService", "invokedBy": service}, service, service, 0.0, 1.5))
    return found


# ---- operations ---------------------------------------------------------------------------------
# Each returns (eventName, readOnly, requestParameters, responseElements, resources).
Op = Callable[[random.Random, str, str], tuple[str, bool, Any, Any, list[dict[str, str]] | None]]


def _api_id(rng: random.Random) -> str:
    return _alnum(rng, 10)


def _apigw_read(rng: random.Random, account: str, region: str) -> Any:
    api = _api_id(rng)
    name, params = rng.choice((
        ("GetRestApis", {"limit": 500}),
        ("GetStages", {"restApiId": api}),
        ("GetResources", {"restApiId": api, "embed": ["methods"], "limit": 500}),
        ("GetAuthorizers", {"restApiId": api}),
        ("GetStage", {"restApiId": api, "stageName": rng.choice(_STAGES)}),
        ("GetApiKeys", {"includeValues": rng.random() < 0.05, "limit": 500}),
        ("GetDomainNames", {}),
        ("GetAccount", {}),
    ))
    return name, True, {**params, "template": False}, None, None


def _apigw_v2_read(rng: random.Random, account: str, region: str) -> Any:
    api = _api_id(rng)
    name, params = rng.choice((("GetApis", {}), ("GetRoutes", {"apiId": api}), ("GetStages", {"apiId": api}),
                               ("GetIntegrations", {"apiId": api}), ("GetApiMappings", {"domainName": "api.example.com"})))
    return name, True, params or None, None, None


_PATCHES = (
    [{"op": "replace", "path": "/deploymentId", "value": "yocj2y"}],
    [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}],
    [{"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"}],
    [{"op": "replace", "path": "/tracingEnabled", "value": "false"}],
    [{"op": "remove", "path": "/clientCertificateId"}],
    [{"op": "replace", "path": "/*/*/caching/dataEncrypted", "value": "false"}],
    [{"op": "replace", "path": "/~1orders~1{orderId}/GET/logging/loglevel", "value": "ERROR"},
     {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}],
    [{"op": "replace", "path": "/variables/featureFlag", "value": "on"}],
)


def _apigw_write(rng: random.Random, account: str, region: str) -> Any:
    api, stage = _api_id(rng), rng.choice(_STAGES)
    kind = rng.random()
    if kind < 0.4:
        params = {"restApiId": api, "stageName": stage, "template": False,
                  "updateStageInput": {"patchOperations": rng.choice(_PATCHES)}}
        return "UpdateStage", False, params, {"stageName": stage, "deploymentId": _alnum(rng, 6)}, None
    if kind < 0.6:
        params = {"restApiId": api, "template": False, "createDeploymentInput": {"stageName": stage,
                                                                                 "description": "ci"}}
        return "CreateDeployment", False, params, {"id": _alnum(rng, 6), "createdDate": "Mar 5, 2024 10:00:00 AM"}, None
    if kind < 0.7:
        params = {"restApiId": api, "resourceId": _alnum(rng, 6), "httpMethod": rng.choice(("GET", "POST")),
                  "template": False, "updateMethodInput": {"patchOperations": [
                      {"op": "replace", "path": "/authorizationType", "value": rng.choice(("NONE", "AWS_IAM"))}]}}
        return "UpdateMethod", False, params, None, None
    if kind < 0.8:
        body = {"name": f"svc-{_alnum(rng, 4)}", "endpointConfiguration": {"types": ["REGIONAL"]}}
        return ("CreateRestApi", False, {"template": False, "createRestApiInput": body},
                {"id": api, "name": body["name"], "createdDate": "Mar 5, 2024 10:00:00 AM"}, None)
    if kind < 0.9:
        params = {"apiId": api, "routeKey": rng.choice(("GET /items", "POST /cart", "$connect")),
                  "authorizationType": rng.choice(("NONE", "JWT", "CUSTOM"))}
        return "CreateRoute", False, params, {"routeId": _alnum(rng, 7), **params}, None
    params = {"apiId": api, "corsConfiguration": {"allowOrigins": ["*"], "allowCredentials": rng.random() < 0.3}}
    return "UpdateApi", False, params, {"apiId": api, "protocolType": "HTTP"}, None


def _cloudtrail(rng: random.Random, account: str, region: str) -> Any:
    trail = f"arn:aws:cloudtrail:us-east-1:{account}:trail/org-trail"
    if rng.random() < 0.02:
        name = rng.choice(("StopLogging", "PutEventSelectors", "UpdateTrail", "DeleteTrail"))
        params: dict[str, Any] = {"name": trail} if name != "PutEventSelectors" else {
            "trailName": trail, "eventSelectors": [{"readWriteType": "WriteOnly", "includeManagementEvents": True}]}
        return name, False, params, None, [{"accountId": account, "type": "AWS::CloudTrail::Trail", "ARN": trail}]
    name, params = rng.choice((("DescribeTrails", {"includeShadowTrails": True}), ("GetTrailStatus", {"name": trail}),
                               ("GetEventSelectors", {"trailName": trail}), ("ListTrails", None),
                               ("LookupEvents", {"maxResults": 50, "lookupAttributes": [
                                   {"attributeKey": "EventSource", "attributeValue": "apigateway.amazonaws.com"}]})))
    return name, True, params, None, None


def _wafv2(rng: random.Random, account: str, region: str) -> Any:
    acl = f"arn:aws:wafv2:{region}:{account}:regional/webacl/shop-acl/{_uuid(rng)}"
    stage = f"arn:aws:apigateway:{region}::/restapis/{_api_id(rng)}/stages/{rng.choice(_STAGES)}"
    if rng.random() < 0.15:
        name = rng.choice(("AssociateWebACL", "DisassociateWebACL"))
        params = {"webACLArn": acl, "resourceArn": stage} if name == "AssociateWebACL" else {"resourceArn": stage}
        return name, False, params, None, None
    return "GetWebACL", True, {"name": "shop-acl", "scope": "REGIONAL", "id": acl.rsplit("/", 1)[1]}, None, None


def _s3(rng: random.Random, account: str, region: str) -> Any:
    bucket = rng.choice(("shop-cloudtrail-", "shop-assets-", "shop-backups-")) + account
    name = rng.choice(("ListBuckets", "GetBucketAcl", "GetBucketPolicy", "GetBucketLogging", "GetBucketVersioning",
                       "GetPublicAccessBlock", "PutBucketPolicy"))
    host = f"{bucket}.s3.{region}.amazonaws.com"
    params: dict[str, Any] = {"Host": "s3.amazonaws.com"} if name == "ListBuckets" else {
        "bucketName": bucket, "Host": host, name[3:].lower().replace("bucket", ""): ""}
    resources = None if name == "ListBuckets" else [{"accountId": account, "type": "AWS::S3::Bucket",
                                                     "ARN": f"arn:aws:s3:::{bucket}"}]
    return name, name.startswith(("Get", "List")), params, None, resources


def _iam(rng: random.Random, account: str, region: str) -> Any:
    name = rng.choice(("ListRoles", "GetUser", "ListAccessKeys", "GetAccountAuthorizationDetails", "CreateAccessKey",
                       "AttachRolePolicy", "ListPolicies"))
    user = rng.choice(_USERS)
    params: Any = {"userName": user} if name in ("GetUser", "ListAccessKeys", "CreateAccessKey") else None
    if name == "AttachRolePolicy":
        params = {"roleName": rng.choice(_ROLES), "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    response = None
    if name == "CreateAccessKey":
        response = {"accessKey": {"userName": user, "accessKeyId": "AKIA" + _alnum(rng, 16, "ABCDEFGHIJKLMNOP234567"),
                                  "status": "Active", "createDate": "Mar 5, 2024 10:00:00 AM"}}
    return name, not name.startswith(("Create", "Attach")), params, response, None


def _sts(rng: random.Random, account: str, region: str) -> Any:
    if rng.random() < 0.5:
        return "GetCallerIdentity", True, None, None, None
    role = rng.choice(_ROLES)
    params = {"roleArn": f"arn:aws:iam::{account}:role/{role}", "roleSessionName": f"session-{_alnum(rng, 8)}",
              "durationSeconds": 3600}
    response = {"credentials": {"accessKeyId": "ASIA" + _alnum(rng, 16, "ABCDEFGHIJKLMNOP234567"),
                                "sessionToken": "IQoJb3JpZ2luX2VjE" + _alnum(rng, 120),
                                "expiration": "Mar 5, 2024 11:00:00 AM"},
                "assumedRoleUser": {"assumedRoleId": "AROA" + _alnum(rng, 17, "ABCDEFGHIJKLMNOP234567") + ":s",
                                    "arn": f"arn:aws:sts::{account}:assumed-role/{role}/s"}}
    return "AssumeRole", True, params, response, [{"accountId": account, "type": "AWS::IAM::Role",
                                                   "ARN": f"arn:aws:iam::{account}:role/{role}"}]


def _ec2(rng: random.Random, account: str, region: str) -> Any:
    name = rng.choice(("DescribeInstances", "DescribeSecurityGroups", "DescribeVpcEndpoints", "DescribeRegions",
                       "DescribeSubnets"))
    params: dict[str, Any] = {"maxResults": 1000} if name != "DescribeRegions" else {"allRegions": False}
    if name == "DescribeInstances":
        params = {"instancesSet": {}, "filterSet": {"items": [{"name": "instance-state-name",
                                                               "valueSet": {"items": [{"value": "running"}]}}]}}
    return name, True, params, None, None


def _kms(rng: random.Random, account: str, region: str) -> Any:
    key = f"arn:aws:kms:{region}:{account}:key/{_uuid(rng)}"
    name = rng.choice(("Decrypt", "GenerateDataKey", "DescribeKey"))
    params = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
              "encryptionContext": {"aws:cloudtrail:arn": f"arn:aws:cloudtrail:us-east-1:{account}:trail/org-trail",
                                    "aws:s3:arn": f"arn:aws:s3:::shop-cloudtrail-{account}/AWSLogs/{account}/x"}}
    if name == "DescribeKey":
        params = {"keyId": key}
    return name, True, params, None, [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key}]


def _lambda(rng: random.Random, account: str, region: str) -> Any:
    name = rng.choice(("ListFunctions20150331", "GetFunction20150331v2", "GetPolicy20150331v2"))
    params = None if name.startswith("List") else {"functionName": f"orders-{_alnum(rng, 5)}"}
    return name, True, params, None, None


def _logs(rng: random.Random, account: str, region: str) -> Any:
    if rng.random() < 0.5:
        stream = f"{account}_CloudTrail_{region}"
        return "CreateLogStream", False, {"logGroupName": "/aws/cloudtrail/org-trail", "logStreamName": stream}, None, None
    return "DescribeLogGroups", True, {"limit": 50}, None, None


# (eventSource, weight, operation)
_OPERATIONS: tuple[tuple[str, float, Op], ...] = (
    ("apigateway.amazonaws.com", 14, _apigw_read), ("apigateway.amazonaws.com", 6, _apigw_v2_read),
    ("apigateway.amazonaws.com", 3, _apigw_write), ("cloudtrail.amazonaws.com", 4, _cloudtrail),
    ("wafv2.amazonaws.com", 2, _wafv2), ("s3.amazonaws.com", 8, _s3), ("iam.amazonaws.com", 5, _iam),
    ("sts.amazonaws.com", 8, _sts), ("ec2.amazonaws.com", 10, _ec2), ("kms.amazonaws.com", 8, _kms),
    ("lambda.amazonaws.com", 4, _lambda), ("logs.amazonaws.com", 3, _logs),
)


def synthetic_records(rng: random.Random, account: str, region: str, start: datetime, span: timedelta,
                      count: int) -> list[dict[str, Any]]:
    """`count` records of `account` in `region`, at times in [start, start + span), oldest first."""
    principals = _principals(random.Random(f"{account}"), account)  # the same people every day
    weights = [p.weight for p in principals]
    op_weights = [w for _, w, _ in _OPERATIONS]
    seconds = max(span.total_seconds(), 1.0)
    times = sorted(start + timedelta(seconds=rng.random() * seconds) for _ in range(count))
    records = []
    for moment in times:
        principal = rng.choices(principals, weights)[0]
        source, _, operation = rng.choices(_OPERATIONS, op_weights)[0]
        while source in GLOBAL_SOURCES and region != "us-east-1":
            source, _, operation = rng.choices(_OPERATIONS, op_weights)[0]
        if principal.identity["type"] == "AWSService":
            source, operation = rng.choice((("kms.amazonaws.com", _kms), ("logs.amazonaws.com", _logs),
                                            ("sts.amazonaws.com", _sts), ("s3.amazonaws.com", _s3)))
        event_region = region
        name, read_only, params, response, resources = operation(rng, account, event_region)
        host = f"{source.split('.')[0]}.{event_region}.amazonaws.com"
        record: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": dict(principal.identity),
            "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source,
            "eventName": name,
            "awsRegion": event_region,
            "sourceIPAddress": principal.source_ip,
            "userAgent": principal.user_agent.replace("{cmd}", f"{source.split('.')[0]}.{name.lower()}"),
            "requestParameters": params,
            "responseElements": None,
            "requestID": _uuid(rng),
            "eventID": _uuid(rng),
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if principal.identity["type"] == "AWSService":
            record["eventType"] = rng.choice(("AwsApiCall", "AwsServiceEvent"))
            record["sharedEventID"] = _uuid(rng)
        roll = rng.random()
        if roll < principal.deny_rate:
            code = _DENIED.get(source, "AccessDeniedException")
            record["errorCode"] = code
            record["errorMessage"] = (f"User: {principal.identity.get('arn', 'unknown')} is not authorized to perform: "
                                      f"{source.split('.')[0]}:{name} on resource: * because no identity-based "
                                      "policy allows the action")
        elif roll < principal.deny_rate + 0.015:
            record["errorCode"] = rng.choice(("ThrottlingException", "TooManyRequestsException"))
            record["errorMessage"] = "Rate exceeded"
        elif roll < principal.deny_rate + 0.03:
            record["errorCode"] = "NotFoundException" if source == "apigateway.amazonaws.com" else "ResourceNotFoundException"
            record["errorMessage"] = "Invalid API identifier specified"
        elif not read_only:
            record["responseElements"] = response
        if resources:
            record["resources"] = resources
        if principal.identity["type"] != "AWSService":
            version, cipher = rng.choice(_CIPHERS)
            record["tlsDetails"] = {"tlsVersion": version, "cipherSuite": cipher, "clientProvidedHostHeader": host}
        if source == "s3.amazonaws.com":
            record["additionalEventData"] = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                             "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
                                             "x-amz-id-2": _alnum(rng, 56), "bytesTransferredOut": rng.randrange(2000)}
        elif principal.identity.get("userName") and principal.user_agent == "console.amazonaws.com":
            record["sessionCredentialFromConsole"] = "true"
        records.append(record)
    return records


def log_file_body(records: Iterable[dict[str, Any]]) -> bytes:
    """A log file's uncompressed content: one JSON object with the top-level Records array."""
    return json.dumps({"Records": list(records)}, separators=(",", ":")).encode()


def write_log_file(path: Path, records: list[dict[str, Any]], compresslevel: int = 6) -> int:
    """Writes one gzipped log file; returns its uncompressed size."""
    body = log_file_body(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=compresslevel) as fh:
        fh.write(body)
    return len(body)


@dataclass
class LogSet:
    """What generate_log_files wrote."""

    root: Path
    files: int = 0
    digests: int = 0
    records: int = 0
    uncompressed_bytes: int = 0
    compressed_bytes: int = 0
    by_folder: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (account, region, day) -> files

    def add(self, other: LogSet) -> None:
        self.files += other.files
        self.digests += other.digests
        self.records += other.records
        self.uncompressed_bytes += other.uncompressed_bytes
        self.compressed_bytes += other.compressed_bytes
        self.by_folder.update(other.by_folder)


def write_day(root: Path, account: str, region: str, day: date, files: int, records_per_file: int,
              seed: int = 0, org_id: str | None = None, digests: bool = True, compresslevel: int = 6) -> LogSet:
    """One day folder of one account and region: `files` files evenly over the day, and an hourly digest."""
    rng = random.Random(f"{seed}/{account}/{region}/{day.isoformat()}")
    out = LogSet(Path(root))
    midnight = datetime.combine(day, time(0), timezone.utc)
    step = timedelta(days=1) / max(files, 1)
    for i in range(files):
        window_start = midnight + step * i
        delivered = window_start + step - timedelta(seconds=1)
        records = synthetic_records(rng, account, region, window_start, step - timedelta(seconds=1), records_per_file)
        key = log_file_key(account, region, delivered, _alnum(rng, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), org_id)
        path = Path(root) / key
        out.uncompressed_bytes += write_log_file(path, records, compresslevel)
        out.compressed_bytes += path.stat().st_size
        out.files += 1
        out.records += len(records)
    if digests:
        for hour in range(0, 24, 6):
            moment = midnight + timedelta(hours=hour, minutes=59)
            org = f"{org_id}/" if org_id else ""
            digest = (Path(root) / f"AWSLogs/{org}{account}/CloudTrail-Digest/{region}/{day:%Y/%m/%d}" /
                      f"{account}_CloudTrail-Digest_{region}_org-trail_{region}_{moment:%Y%m%dT%H%M%SZ}.json.gz")
            digest.parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(digest, "wb") as fh:
                fh.write(json.dumps({"awsAccountId": account, "digestStartTime": midnight.isoformat(),
                                     "digestEndTime": moment.isoformat(), "logFiles": [],
                                     "digestSignatureAlgorithm": "SHA256withRSA"}).encode())
            out.digests += 1
    out.by_folder[(account, region, day.isoformat())] = files
    return out


def generate_log_files(root: Path | str, *, accounts: Iterable[str] = DEFAULT_ACCOUNTS,
                       regions: Iterable[str] = DEFAULT_REGIONS, start: date = date(2024, 3, 1), days: int = 3,
                       files_per_day: int = 4, records_per_file: int = 50, seed: int = 0, org_id: str | None = None,
                       digests: bool = True, workers: int = 1, compresslevel: int = 6) -> LogSet:
    """Writes a tree of synthetic log files under `root` (AWSLogs/...); returns what was written."""
    root = Path(root)
    jobs = [(root, account, region, start + timedelta(days=d), files_per_day, records_per_file, seed, org_id, digests,
             compresslevel)
            for account in accounts for region in regions for d in range(days)]
    total = LogSet(root)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for part in pool.map(_write_day_job, jobs):
                total.add(part)
    else:
        for job in jobs:
            total.add(write_day(*job))
    return total


def _write_day_job(args: tuple[Any, ...]) -> LogSet:
    return write_day(*args)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))
