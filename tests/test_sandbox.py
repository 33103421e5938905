"""The sandbox: a real server on loopback (moto plus apigw-sql's extensions), driven with plain boto3.

The module has its own seeded sandbox rather than conftest's shared one: several tests here change state
(tags, planted trail status, faults), which other modules must not see.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from apigw_sql.sandbox import DEMO_ACCOUNT_ID, DEMO_REGIONS, Sandbox

US, EU = DEMO_REGIONS


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=True) as sandbox:  # child-process mode, the default
        yield sandbox


def _rest_id(sb: Sandbox, name: str, region: str = US) -> str:
    return str(sb.estate[region]["rest_apis"][name])


def _v2_id(sb: Sandbox, name: str, region: str = US) -> str:
    found = {**sb.estate[region]["http_apis"], **sb.estate[region]["websocket_apis"]}
    return str(found[name])


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _lookup_all(sb: Sandbox, region: str, **kwargs: Any) -> list[dict[str, Any]]:
    client = sb.client("cloudtrail", region)
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.lookup_events(**kwargs, **({"NextToken": token} if token else {}))
        events += page["Events"]
        token = page.get("NextToken")
        if not token:
            return events


def _records(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(e["CloudTrailEvent"]) for e in events]


# What the engine calls: every listed call answers in both regions.

def test_every_listed_call_answers_in_both_regions(sb: Sandbox) -> None:
    for region in DEMO_REGIONS:
        ag, v2 = sb.client("apigateway", region), sb.client("apigatewayv2", region)
        for api in ag.get_rest_apis()["items"]:
            ag.get_resources(restApiId=api["id"], embed=["methods"])
            for call in ("get_stages", "get_authorizers", "get_request_validators", "get_deployments",
                         "get_gateway_responses"):
                getattr(ag, call)(restApiId=api["id"])
        for call in ("get_api_keys", "get_usage_plans", "get_client_certificates", "get_vpc_links", "get_account"):
            getattr(ag, call)()
        for plan in ag.get_usage_plans()["items"]:
            ag.get_usage_plan_keys(usagePlanId=plan["id"])
        for domain in ag.get_domain_names()["items"]:
            ag.get_base_path_mappings(domainName=domain["domainName"])
        for api in v2.get_apis()["Items"]:
            for call in ("get_stages", "get_routes", "get_integrations", "get_authorizers"):
                getattr(v2, call)(ApiId=api["ApiId"])
        for domain in v2.get_domain_names()["Items"]:
            v2.get_api_mappings(DomainName=domain["DomainName"])
        v2.get_vpc_links()
        sb.client("ec2", region).describe_regions()
        assert sb.client("sts", region).get_caller_identity()["Account"] == DEMO_ACCOUNT_ID


def test_caller_identity_is_the_recorded_user(sb: Sandbox) -> None:
    assert sb.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{DEMO_ACCOUNT_ID}:user/sandbox-auditor"
    assert sb.client("sts", access_key_id="ROOTACCESSKEY").get_caller_identity()["Arn"].endswith(":root")


# Extensions

def test_v2_get_authorizers_lists_and_pages(sb: Sandbox) -> None:
    v2 = sb.client("apigatewayv2")
    storefront = v2.get_authorizers(ApiId=_v2_id(sb, "storefront-http"))["Items"]
    assert [(a["Name"], a["JwtConfiguration"]["Audience"]) for a in storefront] == [("storefront-jwt", [])]
    checkout = _v2_id(sb, "checkout-http")
    first = v2.get_authorizers(ApiId=checkout, MaxResults="1")
    second = v2.get_authorizers(ApiId=checkout, MaxResults="1", NextToken=first["NextToken"])
    assert {first["Items"][0]["Name"], second["Items"][0]["Name"]} == {"checkout-jwt", "checkout-lambda"}
    assert "NextToken" not in second
    partner = sb.client("apigatewayv2", EU).get_authorizers(ApiId=_v2_id(sb, "partner-events-http", EU))["Items"]
    assert partner[0]["JwtConfiguration"]["Issuer"].startswith("http://")
    with pytest.raises(ClientError) as missing:
        v2.get_authorizers(ApiId="nosuchapi")
    assert _error_code(missing) == "NotFoundException"


def test_get_tags_for_apis_stages_and_certificates(sb: Sandbox) -> None:
    ag = sb.client("apigateway")
    orders = _rest_id(sb, "orders-api")
    assert ag.get_tags(resourceArn=f"arn:aws:apigateway:{US}::/restapis/{orders}")["tags"] == {
        "team": "orders", "env": "prod"}
    assert ag.get_tags(resourceArn=f"arn:aws:apigateway:{US}::/restapis/{orders}/stages/prod")["tags"] == {
        "env": "prod"}
    cert = sb.estate[US]["client_certificates"]["orders-prod-backend"]
    arn = f"arn:aws:apigateway:{US}::/clientcertificates/{cert}"
    ag.tag_resource(resourceArn=arn, tags={"rotation": "yearly"})
    assert ag.get_tags(resourceArn=arn)["tags"] == {"app": "shop", "rotation": "yearly"}
    ag.untag_resource(resourceArn=arn, tagKeys=["rotation"])
    assert ag.get_tags(resourceArn=arn)["tags"] == {"app": "shop"}
    with pytest.raises(ClientError) as missing:
        ag.get_tags(resourceArn=f"arn:aws:apigateway:{US}::/restapis/nosuchapi")
    assert _error_code(missing) == "NotFoundException"


def test_client_certificates_and_the_stage_link(sb: Sandbox) -> None:
    ag = sb.client("apigateway")
    cert = ag.generate_client_certificate(description="test-cert", tags={"t": "1"})
    cert_id = cert["clientCertificateId"]
    assert cert["pemEncodedCertificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert cert["expirationDate"] - cert["createdDate"] == timedelta(days=365)
    ag.update_client_certificate(clientCertificateId=cert_id,
                                 patchOperations=[{"op": "replace", "path": "/description", "value": "renamed"}])
    assert ag.get_client_certificate(clientCertificateId=cert_id)["description"] == "renamed"

    pages, position = [], None
    while True:
        page = ag.get_client_certificates(limit=1, **({"position": position} if position else {}))
        pages.append([c["clientCertificateId"] for c in page["items"]])
        position = page.get("position")
        if not position:
            break
    assert len(pages) == 3 and all(len(p) == 1 for p in pages) and [cert_id] in pages

    reports = _rest_id(sb, "legacy-reports")
    ag.update_stage(restApiId=reports, stageName="v1",
                    patchOperations=[{"op": "replace", "path": "/clientCertificateId", "value": cert_id}])
    assert ag.get_stage(restApiId=reports, stageName="v1")["clientCertificateId"] == cert_id
    assert ag.get_stages(restApiId=reports)["item"][0]["clientCertificateId"] == cert_id
    ag.update_stage(restApiId=reports, stageName="v1",
                    patchOperations=[{"op": "remove", "path": "/clientCertificateId"}])
    assert "clientCertificateId" not in ag.get_stage(restApiId=reports, stageName="v1")
    ag.delete_client_certificate(clientCertificateId=cert_id)
    with pytest.raises(ClientError) as gone:
        ag.get_client_certificate(clientCertificateId=cert_id)
    assert _error_code(gone) == "NotFoundException"

    # The seeded estate: a backdated certificate in eu-west-1 that expires within 30 days.
    legacy = sb.client("apigateway", EU).get_client_certificates()["items"][0]
    assert legacy["description"] == "partner-gateway-legacy"
    assert legacy["expirationDate"] - datetime.now(timezone.utc) < timedelta(days=30)


def test_resources_embed_methods_only_when_asked(sb: Sandbox) -> None:
    ag = sb.client("apigateway")
    orders = _rest_id(sb, "orders-api")
    bare = {r["path"]: r.get("resourceMethods") for r in ag.get_resources(restApiId=orders)["items"]}
    assert bare["/orders"] == {"GET": {}, "POST": {}, "OPTIONS": {}}
    full = {r["path"]: r for r in ag.get_resources(restApiId=orders, embed=["methods"])["items"]}
    method = full["/orders/{orderId}"]["resourceMethods"]["GET"]
    assert method["authorizationType"] == "CUSTOM" and method["requestValidatorId"]
    assert method["methodIntegration"]["uri"].startswith("https://")


def test_fields_moto_drops_are_kept(sb: Sandbox) -> None:
    ag = sb.client("apigateway")
    inventory = _rest_id(sb, "internal-inventory")
    link = ag.get_vpc_links()["items"][0]["id"]
    items = next(r for r in ag.get_resources(restApiId=inventory, embed=["methods"])["items"] if r["path"] == "/items")
    assert items["resourceMethods"]["GET"]["methodIntegration"]["connectionId"] == link
    assert ag.get_integration(restApiId=inventory, resourceId=items["id"], httpMethod="GET")["connectionId"] == link
    assert ag.get_method(restApiId=inventory, resourceId=items["id"], httpMethod="GET")["methodIntegration"][
        "connectionType"] == "VPC_LINK"
    token = next(a for a in ag.get_authorizers(restApiId=_rest_id(sb, "orders-api"))["items"]
                 if a["type"] == "TOKEN")
    assert token["identityValidationExpression"].startswith("^Bearer ")


def test_rest_api_policy_is_escaped_as_aws_returns_it(sb: Sandbox) -> None:
    api = sb.client("apigateway").get_rest_api(restApiId=_rest_id(sb, "payments-api"))
    assert api["policy"].startswith('{\\"Version\\"') and "\\/" in api["policy"]
    statement = json.loads(api["policy"].replace("\\", ""))["Statement"][0]
    assert statement["Principal"] == "*" and "Condition" not in statement


def test_domain_names_keep_mutual_tls(sb: Sandbox) -> None:
    ag, v2 = sb.client("apigateway"), sb.client("apigatewayv2")
    rest = ag.get_domain_name(domainName="api.shop.example")["mutualTlsAuthentication"]
    assert rest == {"truststoreUri": "s3://shop-mtls-truststore/orders/truststore.pem", "truststoreVersion": "1"}
    sb.set_truststore_warnings("api.shop.example", ["truststore.pem: certificate 2 expired"])
    listed = {d["domainName"]: d for d in ag.get_domain_names()["items"]}
    assert listed["api.shop.example"]["mutualTlsAuthentication"]["truststoreWarnings"] == [
        "truststore.pem: certificate 2 expired"]
    assert "mutualTlsAuthentication" not in listed["pay.shop.example"]
    sb.set_truststore_warnings("api.shop.example", [])
    assert "truststoreWarnings" not in ag.get_domain_name(domainName="api.shop.example")["mutualTlsAuthentication"]
    http = {d["DomainName"]: d for d in v2.get_domain_names()["Items"]}
    assert http["checkout.shop.example"]["MutualTlsAuthentication"]["TruststoreWarnings"]
    assert "MutualTlsAuthentication" not in http["www-api.shop.example"]


def test_trail_status_fields(sb: Sandbox) -> None:
    ct = sb.client("cloudtrail")
    trails = sb.estate[US]["trails"]
    main = ct.get_trail_status(Name=trails["shop-org-trail"])
    assert main["IsLogging"] and main["LatestCloudWatchLogsDeliveryTime"] and main["LatestDigestDeliveryTime"]
    assert "LatestDeliveryError" not in main
    legacy = ct.get_trail_status(Name="legacy-audit-trail")
    assert not legacy["IsLogging"] and legacy["LatestDeliveryError"] == "AccessDenied"
    assert "LatestCloudWatchLogsDeliveryTime" not in legacy
    old = datetime.now(timezone.utc) - timedelta(days=3)
    sb.set_trail_status("shop-org-trail", LatestCloudWatchLogsDeliveryTime=old.isoformat(),
                        LatestCloudWatchLogsDeliveryError="AccessDeniedException")
    planted = ct.get_trail_status(Name="shop-org-trail")
    assert abs(planted["LatestCloudWatchLogsDeliveryTime"] - old) < timedelta(seconds=1)
    assert planted["LatestCloudWatchLogsDeliveryError"] == "AccessDeniedException"
    sb.set_trail_status(trails["shop-org-trail"], LatestCloudWatchLogsDeliveryTime=None,
                        LatestCloudWatchLogsDeliveryError=None)
    assert "LatestCloudWatchLogsDeliveryError" not in ct.get_trail_status(Name="shop-org-trail")


def test_shadow_trails_are_read_by_arn_from_another_region(sb: Sandbox) -> None:
    eu = sb.client("cloudtrail", EU)
    arn = sb.estate[US]["trails"]["shop-org-trail"]
    shadow = next(t for t in eu.describe_trails()["trailList"] if t["TrailARN"] == arn)
    assert shadow["HomeRegion"] == US
    assert eu.get_trail_status(Name=arn)["IsLogging"]
    assert eu.get_event_selectors(TrailName=arn)["TrailARN"] == arn
    with pytest.raises(ClientError) as by_name:
        eu.get_trail_status(Name="shop-org-trail")  # a shadow trail is found by ARN only
    assert _error_code(by_name) == "TrailNotFoundException"
    with pytest.raises(ClientError) as elsewhere:
        eu.stop_logging(Name=arn)
    assert _error_code(elsewhere) == "InvalidHomeRegionException"
    legacy = sb.estate[US]["trails"]["legacy-audit-trail"]
    us = sb.client("cloudtrail")
    us.start_logging(Name=legacy)
    assert us.get_trail_status(Name=legacy)["IsLogging"]
    us.stop_logging(Name=legacy)
    assert not us.get_trail_status(Name=legacy)["IsLogging"]


def test_event_selectors_default_and_custom(sb: Sandbox) -> None:
    us, eu = sb.client("cloudtrail"), sb.client("cloudtrail", EU)
    assert us.get_event_selectors(TrailName="shop-org-trail")["EventSelectors"] == [
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
         "ExcludeManagementEventSources": []}]
    assert eu.get_event_selectors(TrailName="eu-apps-trail")["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    flags = {t["Name"]: (t["HasCustomEventSelectors"], t["HasInsightSelectors"])
             for t in eu.describe_trails()["trailList"]}
    assert flags == {"shop-org-trail": (False, True), "eu-apps-trail": (True, False)}
    assert us.get_insight_selectors(TrailName="shop-org-trail")["InsightSelectors"]
    with pytest.raises(ClientError) as no_insights:
        us.get_insight_selectors(TrailName="legacy-audit-trail")
    assert _error_code(no_insights) == "InsightNotEnabledException"


# CloudTrail LookupEvents over the recorded requests

@pytest.mark.parametrize("key, value, region, check", [
    ("EventName", "UpdateStage", US, lambda e, r: e["EventName"] == "UpdateStage"),
    ("ReadOnly", "true", US, lambda e, r: r["readOnly"] is True),
    ("ReadOnly", "false", US, lambda e, r: r["readOnly"] is False),
    ("Username", "root", US, lambda e, r: r["userIdentity"]["type"] == "Root"),
    ("ResourceType", "AWS::CloudTrail::Trail", US,
     lambda e, r: any(x["ResourceType"] == "AWS::CloudTrail::Trail" for x in e["Resources"])),
    ("EventSource", "cloudtrail.amazonaws.com", EU, lambda e, r: e["EventSource"] == "cloudtrail.amazonaws.com"),
    ("AccessKeyId", "AKIASANDBOXPROBE0001", EU, lambda e, r: e["AccessKeyId"] == "AKIASANDBOXPROBE0001"),
])
def test_lookup_events_by_attribute(sb: Sandbox, key: str, value: str, region: str, check: Any) -> None:
    events = _lookup_all(sb, region, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
    assert events and all(check(e, json.loads(e["CloudTrailEvent"])) for e in events)


def test_lookup_events_by_event_id_resource_name_and_username(sb: Sandbox) -> None:
    some = sb.client("cloudtrail").lookup_events(MaxResults=5)["Events"][3]
    by_id = _lookup_all(sb, US, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": some["EventId"]}])
    assert [e["EventId"] for e in by_id] == [some["EventId"]]
    orders = _rest_id(sb, "orders-api")
    by_name = _lookup_all(sb, US, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": orders}])
    names = {e["EventName"] for e in by_name}
    assert {"CreateRestApi", "CreateStage", "UpdateStage", "PutMethod"} <= names
    user = sb.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "sandbox-auditor"}], MaxResults=10)
    assert {e["Username"] for e in user["Events"]} == {"sandbox-auditor"}


def test_lookup_events_records_api_gateway_calls_as_cloudtrail_does(sb: Sandbox) -> None:
    stage_updates = _records(_lookup_all(sb, US, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "UpdateStage"}]))
    off = [r for r in stage_updates if r["requestParameters"]["stageName"] == "prod"
           and any(op.get("value") == "OFF" for op in r["requestParameters"]["updateStageInput"]["patchOperations"])]
    assert len(off) == 1
    record = off[0]
    assert record["requestParameters"]["restApiId"] == _rest_id(sb, "payments-api")
    assert record["requestParameters"]["template"] is False
    assert record["eventSource"] == "apigateway.amazonaws.com" and record["awsRegion"] == US
    assert record["userIdentity"]["arn"] == f"arn:aws:iam::{DEMO_ACCOUNT_ID}:user/sandbox-auditor"
    assert record["sourceIPAddress"] == "127.0.0.1" and record["userAgent"].startswith("Boto3/")
    assert record["eventType"] == "AwsApiCall" and record["managementEvent"] is True
    assert record["recipientAccountId"] == DEMO_ACCOUNT_ID and record["requestID"] and record["eventID"]

    created = _records(_lookup_all(sb, US, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "CreateRestApi"}]))
    assert {r["responseElements"]["id"] for r in created} == set(sb.estate[US]["rest_apis"].values())
    routes = _records(_lookup_all(sb, EU, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "CreateRoute"}]))
    connect = [r for r in routes if r["requestParameters"].get("routeKey") == "$connect"]
    assert {r["requestParameters"]["apiId"] for r in connect} == set(sb.estate[EU]["websocket_apis"].values())
    assert all("template" not in r["requestParameters"] for r in routes)
    selectors = _records(_lookup_all(sb, EU, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutEventSelectors"}]))
    assert selectors[0]["requestParameters"]["eventSelectors"][0]["readWriteType"] == "WriteOnly"
    keys = _records(_lookup_all(sb, US, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GetApiKeys"}]))
    assert any(r["requestParameters"].get("includeValues") is True for r in keys)


def test_errors_and_root_calls_are_recorded(sb: Sandbox) -> None:
    denied = _records(_lookup_all(sb, EU, LookupAttributes=[
        {"AttributeKey": "AccessKeyId", "AttributeValue": "AKIASANDBOXPROBE0001"}]))
    assert len(denied) == 12 and {r["errorCode"] for r in denied} == {"AccessDeniedException"}
    with pytest.raises(ClientError):
        sb.client("apigateway", EU).get_rest_api(restApiId="nosuchapi")
    missing = _records(sb.client("cloudtrail", EU).lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GetRestApi"}], MaxResults=1)["Events"])[0]
    assert missing["errorCode"] == "NotFoundException" and missing["errorMessage"]

    root = sb.client("apigateway", access_key_id="ROOTACCESSKEY")
    root.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                          "value": f"arn:aws:iam::{DEMO_ACCOUNT_ID}:role/apigateway-cloudwatch-logs"}])
    events = sb.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": "root"}])["Events"]
    names = [e["EventName"] for e in events]
    assert names[0] == "UpdateAccount" and "CreateApiKey" in names
    identity = json.loads(events[0]["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "Root" and identity["arn"] == f"arn:aws:iam::{DEMO_ACCOUNT_ID}:root"


def test_lookup_events_time_window_and_planted_records(sb: Sandbox) -> None:
    now = datetime.now(timezone.utc)
    planted = sb.record_events(EU, [
        {"eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com",
         "eventTime": (now - timedelta(days=days)).isoformat(), "requestParameters": {"name": "eu-apps-trail"}}
        for days in (5, 10, 100)])
    window = sb.client("cloudtrail", EU).lookup_events(StartTime=now - timedelta(days=11),
                                                        EndTime=now - timedelta(days=4))["Events"]
    assert [e["EventId"] for e in window] == planted[:2]  # newest first; day 100 is past AWS's 90 days
    assert window[0]["Resources"] == [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "eu-apps-trail"}]
    old = sb.client("cloudtrail", EU).lookup_events(StartTime=now - timedelta(days=120),
                                                     EndTime=now - timedelta(days=95))
    assert not old["Events"]


def test_lookup_events_pages_newest_first_without_overlap(sb: Sandbox) -> None:
    single = sb.client("cloudtrail", EU).lookup_events(MaxResults=50, EndTime=datetime.now(timezone.utc))
    paged = _lookup_all(sb, EU, MaxResults=7, EndTime=single["Events"][0]["EventTime"])
    ids = [e["EventId"] for e in paged]
    assert len(ids) == len(set(ids)) > 50
    assert {e["EventId"] for e in single["Events"]} <= set(ids)
    times = [e["EventTime"] for e in paged]
    assert times == sorted(times, reverse=True)


def test_lookup_events_enforces_aws_limits(sb: Sandbox) -> None:
    ct = sb.client("cloudtrail")
    attribute = {"AttributeKey": "EventName", "AttributeValue": "UpdateStage"}
    for kwargs, code in (({"LookupAttributes": [attribute, attribute]}, "InvalidLookupAttributesException"),
                         ({"MaxResults": 51}, "InvalidMaxResultsException"),
                         ({"StartTime": datetime(2026, 2, 1), "EndTime": datetime(2026, 1, 1)},
                          "InvalidTimeRangeException"),
                         ({"NextToken": "not-a-token"}, "InvalidNextTokenException")):
        with pytest.raises(ClientError) as error:
            ct.lookup_events(**kwargs)
        assert _error_code(error) == code


# Faults and delays

def test_access_denied_fault_in_one_region(sb: Sandbox) -> None:
    sb.add_fault(service="apigateway", region=EU)
    try:
        with pytest.raises(ClientError) as rest:
            sb.client("apigateway", EU).get_rest_apis()
        assert _error_code(rest) == "AccessDeniedException" and rest.value.response["ResponseMetadata"][
            "HTTPStatusCode"] == 403
        with pytest.raises(ClientError) as http:
            sb.client("apigatewayv2", EU).get_apis()  # one IAM prefix for both API generations
        assert _error_code(http) == "AccessDeniedException"
        assert sb.client("apigateway", US).get_rest_apis()["items"]
        assert sb.client("cloudtrail", EU).describe_trails()["trailList"]
    finally:
        sb.clear_faults()
    assert sb.client("apigateway", EU).get_rest_apis()["items"]
    recorded = sb.client("cloudtrail", EU).lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GetApis"}], MaxResults=1)["Events"]
    assert json.loads(recorded[0]["CloudTrailEvent"])["errorCode"] == "AccessDeniedException"


def test_faults_speak_each_protocol(sb: Sandbox) -> None:
    sb.add_fault(service="cloudtrail", operation="describe_trails", code="ThrottlingException", status=400, count=1)
    sb.add_fault(service="sts", code="AccessDenied", count=1)
    sb.add_fault(service="s3", operation="ListBuckets", code="AccessDenied", count=1)
    for client, call, code in ((sb.client("cloudtrail"), "describe_trails", "ThrottlingException"),
                               (sb.client("sts"), "get_caller_identity", "AccessDenied"),
                               (sb.client("s3"), "list_buckets", "AccessDenied")):
        with pytest.raises(ClientError) as error:
            getattr(client, call)()
        assert _error_code(error) == code
        getattr(client, call)()  # count=1: the next one goes through


def test_count_limited_throttle_is_retried_by_standard_mode(sb: Sandbox) -> None:
    sb.add_fault(service="apigateway", operation="GetRestApis", code="TooManyRequestsException", status=429,
                 count=2)
    with pytest.raises(ClientError) as error:
        sb.client("apigateway").get_rest_apis()
    assert _error_code(error) == "TooManyRequestsException"
    import boto3

    retrying = boto3.client("apigateway", endpoint_url=sb.endpoint_url, region_name=US,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    result = retrying.get_rest_apis()  # the second throttle, then success
    assert result["items"] and result["ResponseMetadata"]["RetryAttempts"] == 1


def test_delay_slows_matching_calls_only(sb: Sandbox) -> None:
    sb.set_delay(0.6, service="apigateway", operation="GetAccount")
    try:
        started = time.monotonic()
        sb.client("apigateway").get_account()
        assert time.monotonic() - started >= 0.6
        started = time.monotonic()
        sb.client("apigateway").get_usage_plans()
        assert time.monotonic() - started < 0.5
    finally:
        sb.set_delay(0, service="apigateway", operation="GetAccount")


# The seeded estate is what seed.py's docstring says

def test_estate_rest_apis(sb: Sandbox) -> None:
    ag = sb.client("apigateway")
    apis = {a["name"]: a for a in ag.get_rest_apis()["items"]}
    assert {n: a["endpointConfiguration"]["types"][0] for n, a in apis.items()} == {
        "orders-api": "REGIONAL", "payments-api": "EDGE", "internal-inventory": "PRIVATE",
        "legacy-reports": "PRIVATE"}
    assert "aws:SourceVpce" in apis["internal-inventory"]["policy"] and "policy" not in apis["legacy-reports"]
    assert apis["orders-api"]["disableExecuteApiEndpoint"] and not apis["payments-api"]["disableExecuteApiEndpoint"]

    prod, dev = (ag.get_stage(restApiId=apis["orders-api"]["id"], stageName=s) for s in ("prod", "dev"))
    assert prod["tracingEnabled"] and prod["clientCertificateId"]
    assert prod["webAclArn"] == sb.estate[US]["web_acls"]["shop-prod-acl"]
    assert prod["methodSettings"]["*/*"]["loggingLevel"] == "INFO" and "$context.identity.sourceIp" in prod[
        "accessLogSettings"]["format"]
    assert dev["methodSettings"]["~1orders~1{orderId}/GET"]["loggingLevel"] == "OFF"
    assert dev["methodSettings"]["*/*"]["dataTraceEnabled"] and not dev["methodSettings"]["*/*"]["cacheDataEncrypted"]
    assert "db_password" in dev["variables"] and not dev.get("accessLogSettings") and "webAclArn" not in dev

    payments = {r["path"]: r.get("resourceMethods", {}) for r in
                ag.get_resources(restApiId=apis["payments-api"]["id"], embed=["methods"])["items"]}
    post = payments["/payments"]["POST"]
    assert post["authorizationType"] == "NONE" and post["apiKeyRequired"]
    assert post["methodIntegration"]["uri"].startswith("http://")
    assert payments["/refunds"]["POST"]["requestParameters"] and "requestValidatorId" not in payments["/refunds"][
        "POST"]
    assert ag.get_stage(restApiId=apis["payments-api"]["id"], stageName="prod")["variables"][
        "stripeAccessKeyId"].startswith("AKIA")


def test_estate_keys_plans_domains_and_accounts(sb: Sandbox) -> None:
    ag, eu = sb.client("apigateway"), sb.client("apigateway", EU)
    plans = {p["name"]: p for p in ag.get_usage_plans()["items"] + eu.get_usage_plans()["items"]}
    assert "throttle" not in plans["payments-free"] and "quota" not in plans["payments-free"]
    assert plans["partner-gold"]["throttle"] and plans["partner-gold"]["quota"]
    in_plans = {k["id"] for p in ag.get_usage_plans()["items"] for k in ag.get_usage_plan_keys(
        usagePlanId=p["id"])["items"]}
    mobile = sb.estate[US]["api_keys"]["mobile-app-key"]
    assert mobile not in in_plans and ag.get_api_key(apiKey=mobile)["enabled"]
    legacy = eu.get_api_key(apiKey=sb.estate[EU]["api_keys"]["partner-legacy-key"])
    assert datetime.now(timezone.utc) - legacy["createdDate"] > timedelta(days=365)
    domains = {d["domainName"]: d["securityPolicy"] for d in ag.get_domain_names()["items"] + eu.get_domain_names()[
        "items"]}
    assert domains == {"api.shop.example": "TLS_1_2", "pay.shop.example": "TLS_1_0",
                       "partners.shop.example": "TLS_1_0"}
    assert ag.get_base_path_mappings(domainName="pay.shop.example")["items"][0]["restApiId"] == _rest_id(
        sb, "payments-api")
    assert ag.get_account()["cloudwatchRoleArn"] and "cloudwatchRoleArn" not in eu.get_account()


def test_estate_http_websocket_and_trails(sb: Sandbox) -> None:
    v2, v2eu = sb.client("apigatewayv2"), sb.client("apigatewayv2", EU)
    apis = {a["Name"]: a for a in v2.get_apis()["Items"] + v2eu.get_apis()["Items"]}
    assert apis["storefront-http"]["CorsConfiguration"]["AllowOrigins"] == ["*"]
    assert apis["storefront-http"]["CorsConfiguration"]["AllowCredentials"]
    assert apis["checkout-http"]["DisableExecuteApiEndpoint"] and apis["chat"]["ProtocolType"] == "WEBSOCKET"
    connect = {name: next(r for r in v2eu.get_routes(ApiId=apis[name]["ApiId"])["Items"]
                          if r["RouteKey"] == "$connect")["AuthorizationType"] for name in ("chat", "support-chat")}
    assert connect == {"chat": "NONE", "support-chat": "CUSTOM"}
    private = {name: [i.get("TlsConfig") for i in v2.get_integrations(ApiId=apis[name]["ApiId"])["Items"]
                      if i.get("ConnectionType") == "VPC_LINK"] for name in ("storefront-http", "checkout-http")}
    assert private["storefront-http"] == [None]
    assert private["checkout-http"][0]["ServerNameToVerify"] == "checkout.internal.shop.example"
    storefront_stage = v2.get_stages(ApiId=apis["storefront-http"]["ApiId"])["Items"][0]
    assert "AccessLogSettings" not in storefront_stage

    trails = {t["Name"]: t for t in sb.client("cloudtrail").describe_trails()["trailList"]}
    main = trails["shop-org-trail"]
    assert main["IsMultiRegionTrail"] and main["LogFileValidationEnabled"] and main["KmsKeyId"]
    assert not trails["legacy-audit-trail"]["IsMultiRegionTrail"]
    eu_trail = next(t for t in sb.client("cloudtrail", EU).describe_trails()["trailList"]
                    if t["Name"] == "eu-apps-trail")
    assert not eu_trail["LogFileValidationEnabled"] and not eu_trail.get("KmsKeyId")
    s3 = sb.client("s3")
    for trail in (main, eu_trail):
        s3.head_bucket(Bucket=trail["S3BucketName"])


# Modes and the foreground command

def test_in_process_sandbox_empty_with_faults_and_regions() -> None:
    with Sandbox(seed=False, in_process=True) as sandbox:
        assert sandbox.server_pid is None and sandbox.estate == {}
        assert set(sandbox.env()) == {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                      "AWS_DEFAULT_REGION"}
        ag = sandbox.client("apigateway", EU)
        assert ag.get_rest_apis()["items"] == []
        sandbox.add_fault(service="apigateway", operation="get_rest_apis", code="TooManyRequestsException",
                          status=429, count=1)
        with pytest.raises(ClientError):
            ag.get_rest_apis()
        assert ag.get_rest_apis()["items"] == []
        events = sandbox.client("cloudtrail", EU).lookup_events()["Events"]
        assert [e["EventName"] for e in events] == ["GetRestApis"] * 3
        assert "errorCode" in json.loads(events[1]["CloudTrailEvent"])
        ec2 = sandbox.client("ec2")
        enabled = {r["RegionName"] for r in ec2.describe_regions()["Regions"]}
        assert {US, EU} <= enabled and "af-south-1" not in enabled
        assert len(ec2.describe_regions(AllRegions=True)["Regions"]) > len(enabled)
        port = sandbox.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_child_server_dies_with_its_parent() -> None:
    script = textwrap.dedent("""
        import sys, time
        from apigw_sql.sandbox import Sandbox
        sb = Sandbox(seed=False).start()
        print(sb.server_pid, sb.port, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        server_pid, port = map(int, parent.stdout.readline().split())
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        parent.kill()  # no cleanup code runs in the parent
        parent.wait(timeout=5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(server_pid):
            time.sleep(0.1)
        assert not _alive(server_pid)
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, only not yet reaped
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_serve_prints_the_environment_and_stops_cleanly_on_ctrl_c() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "apigw_sql.sandbox", "--empty"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C" in line:
            break
    endpoint = next(line.split("=", 1)[1].strip() for line in lines if "AWS_ENDPOINT_URL=" in line)
    assert endpoint.startswith("http://127.0.0.1:")
    assert any("export AWS_ACCESS_KEY_ID=testing" in line for line in lines)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err and "stopped" in out


def test_cloudwatch_logs_data_events_are_not_recorded_as_management_events(sb: Sandbox) -> None:
    """A default trail logs management events only: PutLogEvents (which carries the log lines) is not one."""
    region = "ap-southeast-2"
    logs = sb.client("logs", region)
    logs.create_log_group(logGroupName="/sandbox/data-events")
    logs.create_log_stream(logGroupName="/sandbox/data-events", logStreamName="s")
    logs.put_log_events(logGroupName="/sandbox/data-events", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "x" * 1000}])
    logs.filter_log_events(logGroupName="/sandbox/data-events")
    trail = sb.client("cloudtrail", region)

    def recorded(name: str) -> list[Any]:
        return trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]

    assert recorded("CreateLogGroup") and recorded("CreateLogStream")
    assert recorded("PutLogEvents") == [] and recorded("FilterLogEvents") == []
