"""Every CloudTrail activity control judged on planted records: CloudTrail log files written in the S3
delivery layout into a temporary folder (Connection(cloudtrail_logs=[folder])), and, for two controls, the
sandbox's LookupEvents (sandbox.record_events).

Each planted record is named and says which control must alarm on it (None: a look-alike that no control may
alarm on, such as an UpdateStage that only moves the deployment, or a WAF AssociateWebACL). For a burst or a
day of enumeration the row names the first event, so the plant that names the control is that first event.
"""
from __future__ import annotations

import collections
import itertools
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

import apigw_sql
from apigw_sql.cloudtrail.layout import log_file_key
from apigw_sql.cloudtrail.synthetic import write_log_file
from apigw_sql.controls import load_controls, run_controls

ACCOUNT = "111122223333"
US, EU = "us-east-1", "eu-west-1"
LOOKUP_REGION = "ap-south-1"  # no other test reads or writes it: LookupEvents there holds only what is planted here
DAY = (datetime.now(timezone.utc) - timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
ACTIVITY = [c.id for c in load_controls() if c.home == "cloudtrail_activity"]
EXTRA_COLUMNS = ("event_id", "event_time", "event_name", "user_arn", "source_ip_address", "user_agent")


def user(name: str) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": f"AIDA{name.upper():0<17}", "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "accountId": ACCOUNT, "accessKeyId": f"AKIA{name.upper():0<16}", "userName": name}


def role(name: str, session: str) -> dict[str, Any]:
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLE:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}", "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLE000000001",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                                                 "accountId": ACCOUNT, "userName": name}}}


ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT,
        "accessKeyId": "ASIAROOTSESSION00001"}
ALICE, BOB, CAROL, DAVE, EVE, MALLORY = (user(n) for n in ("alice", "bob", "carol", "dave", "eve", "mallory"))
RECON, AUDIT, SLOW = role("recon", "s1"), role("auditor", "s2"), role("batch", "s3")
KNOWN_DISCOVERY = [
    "DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeRegions", "DescribeVolumes",
    "DescribeImages", "DescribeKeyPairs", "DescribeFlowLogs", "DescribeDhcpOptions", "DescribeAvailabilityZones",
    "DescribeLogGroups", "DescribeLogStreams", "DescribeOrganization", "DescribeAccountAttributes", "DescribeCluster",
    "GetCallerIdentity", "GetAccountAuthorizationDetails", "GetBucketAcl", "GetBucketPolicy", "GetBucketLogging",
    "ListUsers", "ListRoles", "ListAccessKeys", "ListAllMyBuckets", "ListTopics", "ListHostedZones", "ListDetectors",
    "ListInstanceProfiles", "ListAttachedUserPolicies", "GetUserPolicy",
]


class Plants:
    """Records with names, and the control each must make alarm (or None)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.expected: dict[str, str | None] = {}   # event id -> control id or None
        self.ids: dict[str, str] = {}               # plant name -> event id

    def add(self, name: str, control: str | None, event_name: str, who: dict[str, Any], when: datetime,
            params: Any = None, source: str = "apigateway.amazonaws.com", region: str = US,
            read_only: bool | None = None, **fields: Any) -> dict[str, Any]:
        event_id = str(uuid.uuid4())
        record = {"eventVersion": "1.09", "userIdentity": who, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "eventSource": source, "eventName": event_name, "awsRegion": region,
                  "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15.30 ctl-test",
                  "requestParameters": params, "responseElements": None, "requestID": str(uuid.uuid4()),
                  "eventID": event_id, "readOnly": read_only if read_only is not None else
                  event_name.startswith(("Get", "List", "Describe")),
                  "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
                  "eventCategory": "Management", **fields}
        self.records.append(record)
        self.ids[name] = event_id
        self.expected[event_id] = control
        return record

    def alarming(self, control: str) -> set[str]:
        return {i for i, c in self.expected.items() if c == control}


def at(minutes: float, day: datetime = DAY) -> datetime:
    return day + timedelta(minutes=minutes)


def stage_patch(*ops: tuple[str, str, Any]) -> dict[str, Any]:
    operations = [{"op": op, "path": path, **({"value": value} if value is not None else {})}
                  for op, path, value in ops]
    return {"restApiId": "a1b2c3d4e5", "stageName": "prod", "template": False,
            "updateStageInput": {"patchOperations": operations}}


def plant_everything() -> Plants:
    p = Plants()
    tamper, protect = "cloudtrail_event_logging_tampered", "apigateway_event_protection_removed"
    keys, root, burst, enum = ("apigateway_event_api_key_value_read", "apigateway_event_root_activity",
                               "apigateway_event_access_denied_burst", "cloudtrail_event_enumeration_detected")
    ct = "cloudtrail.amazonaws.com"
    trail = f"arn:aws:cloudtrail:{US}:{ACCOUNT}:trail/org-trail"
    store = f"arn:aws:cloudtrail:{US}:{ACCOUNT}:eventdatastore/0b5c1e2d-aaaa-bbbb-cccc-123456789012"

    # CloudTrail tampering
    p.add("stop-by-name", tamper, "StopLogging", ALICE, at(1), {"name": "org-trail"}, ct)
    p.add("delete-by-arn", tamper, "DeleteTrail", ALICE, at(2), {"name": trail}, ct)
    p.add("update-trail", tamper, "UpdateTrail", ALICE, at(3), {"name": "org-trail", "isMultiRegionTrail": False}, ct)
    p.add("put-selectors", tamper, "PutEventSelectors", ALICE, at(4), {"trailName": trail, "eventSelectors": [
        {"readWriteType": "WriteOnly", "includeManagementEvents": True}]}, ct)
    p.add("put-insights", tamper, "PutInsightSelectors", ALICE, at(5), {"trailName": trail, "insightSelectors": []}, ct)
    p.add("delete-store", tamper, "DeleteEventDataStore", ALICE, at(6), {"eventDataStore": store}, ct)
    p.add("stop-ingestion", tamper, "StopEventDataStoreIngestion", ALICE, at(7),
          {"eventDataStore": "0b5c1e2d-aaaa-bbbb-cccc-123456789012"}, ct)
    p.add("stop-denied", None, "StopLogging", MALLORY, at(8), {"name": "org-trail"}, ct, errorCode="AccessDenied",
          errorMessage="not authorized")
    p.add("start-logging", None, "StartLogging", ALICE, at(9), {"name": "org-trail"}, ct)
    p.add("describe-trails", None, "DescribeTrails", ALICE, at(10), {"includeShadowTrails": True}, ct)
    p.add("stop-long-ago", None, "StopLogging", ALICE, DAY - timedelta(days=120), {"name": "org-trail"}, ct)

    # API Gateway protections removed, REST (v1) patch operations
    p.add("loglevel-off", protect, "UpdateStage", ALICE, at(20),
          stage_patch(("replace", "/*/*/logging/loglevel", "OFF")))
    p.add("method-loglevel-off", protect, "UpdateStage", ALICE, at(21), stage_patch(
        ("replace", "/~1orders~1{orderId}/GET/logging/loglevel", "OFF"), ("replace", "/*/*/metrics/enabled", "true")))
    p.add("tracing-off", protect, "UpdateStage", ALICE, at(22), stage_patch(("replace", "/tracingEnabled", "false")))
    p.add("client-cert-removed", protect, "UpdateStage", ALICE, at(23),
          stage_patch(("remove", "/clientCertificateId", None)))
    p.add("cache-unencrypted", protect, "UpdateStage", ALICE, at(24),
          stage_patch(("replace", "/*/*/caching/dataEncrypted", "false")))
    p.add("access-log-removed", protect, "UpdateStage", ALICE, at(25),
          stage_patch(("remove", "/accessLogSettings", None)))
    p.add("authorizer-deleted", protect, "DeleteAuthorizer", ALICE, at(26),
          {"restApiId": "a1b2c3d4e5", "authorizerId": "auth01", "template": False})
    p.add("method-open", protect, "UpdateMethod", ALICE, at(27), {
        "restApiId": "a1b2c3d4e5", "resourceId": "res123", "httpMethod": "GET", "template": False,
        "updateMethodInput": {"patchOperations": [{"op": "replace", "path": "/authorizationType", "value": "NONE"}]}})
    p.add("policy-replaced", protect, "UpdateRestApi", ALICE, at(28), {
        "restApiId": "a1b2c3d4e5", "template": False, "updateRestApiInput": {"patchOperations": [
            {"op": "replace", "path": "/policy", "value": '{"Version":"2012-10-17","Statement":[]}'}]}})
    p.add("waf-removed", protect, "DisassociateWebACL", ALICE, at(29),
          {"resourceArn": f"arn:aws:apigateway:{US}::/restapis/a1b2c3d4e5/stages/prod"}, "wafv2.amazonaws.com")
    p.add("cloudwatch-role-cleared", protect, "UpdateAccount", ALICE, at(30), {"updateAccountInput": {
        "patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}]}})
    # ... HTTP and WebSocket (v2) shapes
    p.add("v2-default-logging-off", protect, "UpdateStage", ALICE, at(31), {
        "apiId": "ws0123abcd", "stageName": "live", "defaultRouteSettings": {"loggingLevel": "OFF"}})
    p.add("v2-route-logging-off", protect, "UpdateStage", ALICE, at(32), {
        "apiId": "ws0123abcd", "stageName": "live", "routeSettings": {"$connect": {"loggingLevel": "OFF"}}})
    p.add("v2-access-logs-deleted", protect, "DeleteAccessLogSettings", ALICE, at(33),
          {"apiId": "ht0123abcd", "stageName": "$default"})
    p.add("v2-authorizer-deleted", protect, "DeleteAuthorizer", ALICE, at(34),
          {"apiId": "ht0123abcd", "authorizerId": "jwt1"})
    p.add("v2-route-open", protect, "UpdateRoute", ALICE, at(35),
          {"apiId": "ht0123abcd", "routeId": "r0ute01", "authorizationType": "NONE"})
    # ... and look-alikes
    p.add("deployment-moved", None, "UpdateStage", ALICE, at(40), stage_patch(("replace", "/deploymentId", "yocj2y")))
    p.add("loglevel-info", None, "UpdateStage", ALICE, at(41),
          stage_patch(("replace", "/*/*/logging/loglevel", "INFO")))
    p.add("data-trace-on", None, "UpdateStage", ALICE, at(42),   # not counted: see the control's description
          stage_patch(("replace", "/*/*/logging/dataTrace", "true")))
    p.add("tracing-on", None, "UpdateStage", ALICE, at(43), stage_patch(("replace", "/tracingEnabled", "true")))
    p.add("client-cert-set", None, "UpdateStage", ALICE, at(44),
          stage_patch(("replace", "/clientCertificateId", "cc01")))
    p.add("waf-associated", None, "AssociateWebACL", ALICE, at(45), {
        "webACLArn": f"arn:aws:wafv2:{US}:{ACCOUNT}:regional/webacl/shop/1",
        "resourceArn": f"arn:aws:apigateway:{US}::/restapis/a1b2c3d4e5/stages/prod"}, "wafv2.amazonaws.com")
    p.add("waf-removed-from-alb", None, "DisassociateWebACL", ALICE, at(46), {
        "resourceArn": f"arn:aws:elasticloadbalancing:{US}:{ACCOUNT}:loadbalancer/app/shop/50dc6c495c0c9188"},
        "wafv2.amazonaws.com")
    p.add("method-iam", None, "UpdateMethod", ALICE, at(47), {
        "restApiId": "a1b2c3d4e5", "resourceId": "res123", "httpMethod": "GET", "template": False,
        "updateMethodInput": {"patchOperations": [
            {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}]}})
    p.add("options-open", None, "UpdateMethod", ALICE, at(48), {
        "restApiId": "a1b2c3d4e5", "resourceId": "res123", "httpMethod": "OPTIONS", "template": False,
        "updateMethodInput": {"patchOperations": [{"op": "replace", "path": "/authorizationType", "value": "NONE"}]}})
    p.add("cloudwatch-role-set", None, "UpdateAccount", ALICE, at(49), {"updateAccountInput": {"patchOperations": [
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": f"arn:aws:iam::{ACCOUNT}:role/apigw-logs"}]}})
    p.add("rest-api-renamed", None, "UpdateRestApi", ALICE, at(50), {
        "restApiId": "a1b2c3d4e5", "template": False, "updateRestApiInput": {"patchOperations": [
            {"op": "replace", "path": "/name", "value": "shop"}]}})
    p.add("v2-logging-info", None, "UpdateStage", ALICE, at(51), {
        "apiId": "ws0123abcd", "stageName": "live", "defaultRouteSettings": {"loggingLevel": "INFO"}})
    p.add("loglevel-off-denied", None, "UpdateStage", MALLORY, at(52),
          stage_patch(("replace", "/*/*/logging/loglevel", "OFF")), errorCode="AccessDeniedException",
          errorMessage="not authorized")

    # API key values read
    p.add("key-value", keys, "GetApiKey", ALICE, at(60), {"apiKey": "k3y01", "includeValue": True})
    p.add("key-values-string", keys, "GetApiKeys", ALICE, at(61), {"includeValues": "true", "limit": 500})
    p.add("keys-without-values", None, "GetApiKeys", ALICE, at(62), {"includeValues": False, "limit": 500})
    p.add("key-without-value", None, "GetApiKey", ALICE, at(63), {"apiKey": "k3y01"})
    p.add("key-values-denied", None, "GetApiKeys", MALLORY, at(64), {"includeValues": True},
          errorCode="AccessDeniedException", errorMessage="not authorized")

    # Root activity
    p.add("root-create", root, "CreateRestApi", ROOT, at(70), {"template": False, "createRestApiInput": {"name": "x"}},
          responseElements={"id": "r00tapi001"})
    p.add("root-stage-failed", root, "DeleteStage", ROOT, at(71), {"restApiId": "a1b2c3d4e5", "stageName": "prod"},
          errorCode="BadRequestException", errorMessage="Stage not found")
    p.add("root-key", root, "CreateApiKey", ROOT, at(72), {"createApiKeyInput": {"name": "mobile", "enabled": True}},
          responseElements={"id": "k3yr00t"})
    p.add("root-read", None, "GetRestApis", ROOT, at(72), {"limit": 500})
    p.add("root-via-service", None, "CreateDeployment", {**ROOT, "invokedBy": "cloudformation.amazonaws.com"}, at(73),
          {"restApiId": "a1b2c3d4e5"})
    p.add("root-service-event", None, "UpdateStage", ROOT, at(74), stage_patch(("replace", "/deploymentId", "x")),
          eventType="AwsServiceEvent")
    p.add("user-create", None, "CreateRestApi", ALICE, at(75), {"template": False, "createRestApiInput": {"name": "y"}})

    # AccessDenied bursts: 12 in 30 minutes (one burst); two bursts three hours apart; and quieter principals
    denied = {"errorCode": "AccessDeniedException", "errorMessage": "is not authorized"}
    for i in range(12):
        p.add(f"mallory-{i}", burst if i == 0 else None, "GetRestApis", MALLORY, at(120 + 2.5 * i), **denied)
    for i, start in itertools.product(range(10), (180, 360)):
        p.add(f"eve-{start}-{i}", burst if i == 0 else None, "GetStages", EVE, at(start + 2 * i),
              {"restApiId": "a1b2c3d4e5"}, region=EU if i % 2 else US, **denied)
    for i in range(9):
        p.add(f"bob-{i}", None, "DeleteRestApi", BOB, at(120 + 5 * i), {"restApiId": "a1b2c3d4e5"}, **denied)
    for i in range(12):
        p.add(f"carol-{i}", None, "GetRestApis", CAROL, at(120 + 30 * i), **denied)   # 2 an hour
    for i in range(15):
        p.add(f"dave-{i}", None, "DescribeInstances", DAVE, at(120 + i), None, "ec2.amazonaws.com",
              errorCode="Client.UnauthorizedOperation", errorMessage="not authorized")   # not API Gateway

    # Enumeration: 30 of the known actions in one day, in two regions; 10 in a day; 30 over three days
    for i, action in enumerate(KNOWN_DISCOVERY):
        p.add(f"recon-{action}", enum if i == 0 else None, action, RECON, at(600 + i), None, "ec2.amazonaws.com",
              region=US if i < 20 else EU)
    p.add("recon-unlisted", None, "GetRestApis", RECON, at(700))
    for i, action in enumerate(KNOWN_DISCOVERY[:10]):
        p.add(f"audit-{action}", None, action, AUDIT, at(600 + i), None, "ec2.amazonaws.com")
    for i, action in enumerate(KNOWN_DISCOVERY):
        p.add(f"slow-{action}", None, action, SLOW, at(600 + i, DAY - timedelta(days=i % 3)), None, "ec2.amazonaws.com")
    return p


def write_logs(root: Path, records: list[dict[str, Any]]) -> int:
    """The records as CloudTrail log files, one per account, region and hour, in the S3 delivery layout."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = collections.defaultdict(list)
    for record in records:
        groups[(record["recipientAccountId"], record["awsRegion"], record["eventTime"][:13])].append(record)
    for (account, region, _), batch in groups.items():
        last = max(datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ") for r in batch).replace(tzinfo=timezone.utc)
        write_log_file(root / log_file_key(account, region, last + timedelta(minutes=5), uuid.uuid4().hex[:16].upper()),
                       sorted(batch, key=lambda r: r["eventTime"]))
    return len(groups)


@pytest.fixture(scope="module")
def plants() -> Plants:
    return plant_everything()


@pytest.fixture(scope="module")
def logs(tmp_path_factory, plants) -> Path:
    root = tmp_path_factory.mktemp("activity-logs")
    write_logs(root, plants.records)
    return root


def connect(sandbox: Any, logs: Path | None, regions: list[str] | None = None) -> apigw_sql.Connection:
    return apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=regions or [US], max_attempts=1,
                             rate_limit=False, cloudtrail_logs=[str(logs)] if logs else [])


@pytest.fixture(scope="module")
def run(sandbox, logs) -> Iterator[tuple[Any, apigw_sql.Connection]]:
    con = connect(sandbox, logs)
    report = run_controls(con, ["cloudtrail_activity"])
    yield report, con
    con.close()


def alarms(report: Any, control: str) -> dict[str, Any]:
    """The findings of a control by the event id they name."""
    return {f.dimensions["event_id"]: f for f in report.findings if f.control.id == control}


@pytest.mark.parametrize("control", ACTIVITY)
def test_control_alarms_on_its_events_and_no_look_alike(run, plants, control):
    report, _ = run
    [result] = [r for r in report.results if r.control.id == control]
    assert result.error is None, result.error
    found = alarms(report, control)
    assert set(found) == plants.alarming(control), sorted(f.reason for f in found.values())
    assert {f.status for f in found.values()} == {"alarm"}


def test_every_activity_control_has_an_alarm_and_look_alikes(plants):
    assert sorted(set(plants.expected.values()) - {None}) == sorted(ACTIVITY)
    assert sum(1 for c in plants.expected.values() if c is None) >= 40


def test_rows_carry_the_event_and_the_affected_resource(run, plants):
    report, _ = run
    for f in report.findings:
        assert set(EXTRA_COLUMNS) <= set(f.dimensions), f.control.id
        assert f.reason.endswith(".") and f.reason[0].isupper(), f.reason
        assert f.account_id == ACCOUNT and f.region in (US, EU)
    by_plant = {name: alarms(report, control)[plants.ids[name]] for name, control in (
        ("stop-by-name", "cloudtrail_event_logging_tampered"), ("delete-store", "cloudtrail_event_logging_tampered"),
        ("stop-ingestion", "cloudtrail_event_logging_tampered"),
        ("loglevel-off", "apigateway_event_protection_removed"), ("method-open", "apigateway_event_protection_removed"),
        ("waf-removed", "apigateway_event_protection_removed"),
        ("v2-route-open", "apigateway_event_protection_removed"),
        ("cloudwatch-role-cleared", "apigateway_event_protection_removed"),
        ("key-value", "apigateway_event_api_key_value_read"), ("root-create", "apigateway_event_root_activity"),
        ("root-key", "apigateway_event_root_activity"),
        ("mallory-0", "apigateway_event_access_denied_burst"),
        ("recon-DescribeInstances", "cloudtrail_event_enumeration_detected"))}
    assert {k: f.resource for k, f in by_plant.items()} == {
        "stop-by-name": f"arn:aws:cloudtrail:{US}:{ACCOUNT}:trail/org-trail",
        "delete-store": f"arn:aws:cloudtrail:{US}:{ACCOUNT}:eventdatastore/0b5c1e2d-aaaa-bbbb-cccc-123456789012",
        "stop-ingestion": f"arn:aws:cloudtrail:{US}:{ACCOUNT}:eventdatastore/0b5c1e2d-aaaa-bbbb-cccc-123456789012",
        "loglevel-off": f"arn:aws:apigateway:{US}::/restapis/a1b2c3d4e5/stages/prod",
        "method-open": f"arn:aws:apigateway:{US}::/restapis/a1b2c3d4e5/resources/res123/methods/GET",
        "waf-removed": f"arn:aws:apigateway:{US}::/restapis/a1b2c3d4e5/stages/prod",
        "v2-route-open": f"arn:aws:apigateway:{US}::/apis/ht0123abcd/routes/r0ute01",
        "cloudwatch-role-cleared": f"arn:aws:apigateway:{US}::/account",
        "key-value": f"arn:aws:apigateway:{US}::/apikeys/k3y01",
        "root-create": f"arn:aws:apigateway:{US}::/restapis/r00tapi001",
        "root-key": f"arn:aws:apigateway:{US}::/apikeys/k3yr00t",
        "mallory-0": MALLORY["arn"],
        "recon-DescribeInstances": RECON["arn"],
    }
    stop = by_plant["stop-by-name"]
    assert stop.dimensions["event_name"] == "StopLogging" and stop.dimensions["user_arn"] == ALICE["arn"]
    assert stop.dimensions["source_ip_address"] == "203.0.113.7" and "ctl-test" in stop.dimensions["user_agent"]
    assert "Logging of trail org-trail was stopped (StopLogging) by " + ALICE["arn"] in stop.reason
    assert "turned execution logging off (/*/*/logging/loglevel)" in by_plant["loglevel-off"].reason
    assert "denied 12 API Gateway calls" in by_plant["mallory-0"].reason
    recon = by_plant["recon-DescribeInstances"]
    assert "called 30 of the 87 known discovery actions" in recon.reason and "eu-west-1, us-east-1" in recon.reason
    assert recon.dimensions["discovery_actions"] == 30


def test_eve_makes_two_bursts_in_two_regions(run, plants):
    report, _ = run
    found = alarms(report, "apigateway_event_access_denied_burst")
    eve = [f for f in found.values() if f.resource == EVE["arn"]]
    assert len(eve) == 2 and all("denied 10 API Gateway calls" in f.reason for f in eve)
    assert all("eu-west-1, us-east-1" in f.reason for f in eve)


def test_parameters_change_the_verdict(sandbox, logs, plants):
    con = connect(sandbox, logs)
    try:
        report = run_controls(con, ["cloudtrail_event_logging_tampered", "apigateway_event_access_denied_burst",
                                    "cloudtrail_event_enumeration_detected"],
                              {"window_days": "200", "threshold": "5", "share": "0.1"})
    finally:
        con.close()
    assert plants.ids["stop-long-ago"] in alarms(report, "cloudtrail_event_logging_tampered")
    assert plants.ids["bob-0"] in alarms(report, "apigateway_event_access_denied_burst")       # 9 >= 5
    assert plants.ids["carol-0"] not in alarms(report, "apigateway_event_access_denied_burst")  # 2 an hour
    assert plants.ids["audit-DescribeInstances"] in alarms(report, "cloudtrail_event_enumeration_detected")  # 10/87


def test_the_window_and_the_event_names_reach_the_log_files(sandbox, logs, plants):
    """Run as a plain query, each control reads only the day folders of its window: not the file of 120 days ago."""
    total = len({(r["awsRegion"], r["eventTime"][:13]) for r in plants.records})
    for control in load_controls():
        if control.home != "cloudtrail_activity":
            continue
        con = connect(sandbox, logs)
        try:
            use = con.uses(control.sql)["aws_cloudtrail_event"]
            assert use.bounds["event_time"].low is not None, control.id
            assert {"event_name", "event_source"} & set(use.constraints), control.id
            con.sql(control.sql)
            [read] = [c.items for c in con.fetch_log if c.operation == "ReadLogFiles"]
            assert read == total - 1, control.id
        finally:
            con.close()


def test_the_whole_benchmark_reads_the_log_files_once_within_its_window(run, plants):
    """Every activity control asks for the same window (whole days), so the runner's merged plan keeps it: one
    read, without the file of 120 days ago."""
    _, con = run
    total = len({(r["awsRegion"], r["eventTime"][:13]) for r in plants.records})
    reads = [(c.items, json.loads(c.params)) for c in con.fetch_log if c.operation == "ReadLogFiles"]
    assert len(reads) == 1 and reads[0][0] == total - 1 and reads[0][1]["from"] is not None


def test_the_known_discovery_actions_are_counted_right():
    import re

    [control] = [c for c in load_controls() if c.id == "cloudtrail_event_enumeration_detected"]
    listed = re.search(r"event_name IN \((.*?)\)\n\)", control.sql, re.S).group(1)
    names = re.findall(r"'(\w+)'", listed)
    assert len(names) == len(set(names)) == 87
    assert set(KNOWN_DISCOVERY) <= set(names) and "GetRestApis" not in names
    assert control.sql.count("87") >= 3 and "85" not in control.sql


def test_each_file_runs_as_is_with_the_header_defaults(sandbox, logs, run):
    report, _ = run
    con = connect(sandbox, logs)
    try:
        for result in report.results:
            rows = con.sql(result.control.sql).dicts()
            assert sorted((r["event_id"], r["status"]) for r in rows) == \
                sorted((f.dimensions["event_id"], f.status) for f in result.findings), result.control.id
    finally:
        con.close()


def test_no_event_no_row(sandbox, tmp_path):
    """With nothing to report a control returns no row: the runner counts no finding, and no error."""
    quiet = Plants()
    quiet.add("describe", None, "DescribeTrails", ALICE, at(1), {"includeShadowTrails": True}, "cloudtrail.amazonaws.com")
    write_logs(tmp_path, quiet.records)
    con = connect(sandbox, tmp_path)
    try:
        report = run_controls(con, ["cloudtrail_activity"])
    finally:
        con.close()
    assert report.findings == [] and all(r.error is None for r in report.results)


def test_lookup_events_serve_the_same_controls(sandbox):
    """Without log files the controls read LookupEvents, with the window and the event names pushed down."""
    now = datetime.now(timezone.utc) - timedelta(hours=2)
    p = Plants()
    p.add("stop", "cloudtrail_event_logging_tampered", "StopLogging", ALICE, now, {"name": "lookup-trail"},
          "cloudtrail.amazonaws.com", region=LOOKUP_REGION)
    p.add("start", None, "StartLogging", ALICE, now + timedelta(minutes=1), {"name": "lookup-trail"},
          "cloudtrail.amazonaws.com", region=LOOKUP_REGION)
    p.add("off", "apigateway_event_protection_removed", "UpdateStage", ALICE, now + timedelta(minutes=2),
          stage_patch(("replace", "/*/*/logging/loglevel", "OFF")), region=LOOKUP_REGION)
    p.add("moved", None, "UpdateStage", ALICE, now + timedelta(minutes=3),
          stage_patch(("replace", "/deploymentId", "abc123")), region=LOOKUP_REGION)
    sandbox.record_events(LOOKUP_REGION, p.records)
    con = connect(sandbox, None, regions=[LOOKUP_REGION])
    try:
        report = run_controls(con, ["cloudtrail_event_logging_tampered", "apigateway_event_protection_removed"])
        sent = [json.loads(c.params) for c in con.fetch_log if c.operation == "LookupEvents"]
    finally:
        con.close()
    for control in ("cloudtrail_event_logging_tampered", "apigateway_event_protection_removed"):
        assert set(alarms(report, control)) == p.alarming(control)
    [stop] = alarms(report, "cloudtrail_event_logging_tampered").values()
    assert stop.resource == f"arn:aws:cloudtrail:{LOOKUP_REGION}:123456789012:trail/lookup-trail"
    assert stop.account_id == "123456789012" and stop.region == LOOKUP_REGION
    assert sent and all("StartTime" in s for s in sent)   # the window reached every lookup
    # The merged plan names several event sources and names: the window is read once, not once per value.
    assert not [s for s in sent if s.get("LookupAttributes")]
