"""aws_cloudtrail_trail and aws_cloudtrail_event_data_store against the sandbox's demo estate.

The estate has shop-org-trail (multi-region, home us-east-1, logging, validation, KMS, CloudWatch Logs,
insights, tagged), legacy-audit-trail (us-east-1, stopped, a planted delivery error) and eu-apps-trail
(eu-west-1, write-only selectors). Read from us-east-1, eu-west-1 and TEST_REGION, shop-org-trail
appears three times; its status and selectors must still be read once, in us-east-1.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

US, EU = "us-east-1", "eu-west-1"
ACCOUNT = "123456789012"
REGIONS = [US, EU, TEST_REGION]
LAKE_REGION = "ca-central-1"  # no other test reads it: the stores made here stay out of their way
PER_TRAIL = ("GetTrailStatus", "GetEventSelectors", "GetInsightSelectors", "ListTags")
DEFAULT_SELECTOR = {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                    "ExcludeManagementEventSources": []}


@pytest.fixture(scope="module")
def trails(connect) -> tuple[Any, list[dict[str, Any]]]:
    con = connect(regions=REGIONS)
    result = con.sql("SELECT * FROM aws_cloudtrail_trail WHERE name IN ('shop-org-trail', 'legacy-audit-trail', "
                     "'eu-apps-trail') ORDER BY name, region")
    assert not result.errors, [e.line() for e in result.errors]
    return con, result.dicts()


@pytest.fixture(scope="module")
def connect(module_connect):  # one read serves every test of this module
    return module_connect


def one(rows: list[dict[str, Any]], name: str, region: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["name"] == name and r["region"] == region]
    return row


def test_one_row_per_trail_per_region_it_appears_in(trails, sandbox):
    _, rows = trails
    found = {(r["name"], r["region"], r["home_region"], r["is_shadow"]) for r in rows}
    assert found == {("shop-org-trail", US, US, False), ("shop-org-trail", EU, US, True),
                     ("shop-org-trail", TEST_REGION, US, True), ("legacy-audit-trail", US, US, False),
                     ("eu-apps-trail", EU, EU, False)}
    arn = sandbox.estate[US]["trails"]["shop-org-trail"]
    copies = [r for r in rows if r["name"] == "shop-org-trail"]
    assert {r["arn"] for r in copies} == {arn} and all(json.loads(r["akas"]) == [arn] for r in copies)
    keys = ("is_logging", "kms_key_id", "event_selectors", "insight_selectors", "tags", "latest_delivery_time")
    assert all({k: r[k] for k in keys} == {k: copies[0][k] for k in keys} for r in copies)  # a shadow is the trail


def test_per_trail_calls_are_made_once_in_the_home_region(trails):
    con, rows = trails
    sent = [(c.operation, c.region, json.loads(c.params)) for c in con.fetch_log if c.table == "aws_cloudtrail_trail"]
    assert Counter(region for op, region, _ in sent if op == "DescribeTrails") == Counter(REGIONS)
    homes = {r["arn"]: r["home_region"] for r in rows}
    for operation in PER_TRAIL:
        made = [(region, params) for op, region, params in sent if op == operation]
        targets = [p.get("Name") or p.get("TrailName") or p["ResourceIdList"][0] for _, p in made]
        assert sorted(targets) == sorted(homes), operation  # one call per trail, by ARN, never per copy
        assert all(region == homes[target] for (region, _), target in zip(made, targets)), operation


def test_the_multi_region_trail(trails, sandbox):
    _, rows = trails
    org = one(rows, "shop-org-trail", US)
    assert org["is_multi_region_trail"] and org["include_global_service_events"] and not org["is_organization_trail"]
    assert org["log_file_validation_enabled"] and org["kms_key_id"].startswith("arn:aws:kms:us-east-1:")
    assert org["s3_bucket_name"] == f"shop-cloudtrail-{ACCOUNT}" and org["s3_key_prefix"] is None
    assert org["sns_topic_arn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:shop-cloudtrail-notify"
    assert org["cloud_watch_logs_log_group_arn"].endswith(":log-group:/aws/cloudtrail/shop-org-trail:*")
    assert org["cloud_watch_logs_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-to-cloudwatch"
    assert org["is_logging"] and org["start_logging_time"] is not None and org["stop_logging_time"] is None
    assert org["latest_delivery_time"] is not None and org["latest_delivery_error"] is None
    assert org["latest_cloudwatch_logs_delivery_time"] is not None and org["latest_digest_delivery_time"] is not None
    assert json.loads(org["event_selectors"]) == [DEFAULT_SELECTOR]  # never set: AWS's default
    assert org["advanced_event_selectors"] is None and not org["has_custom_event_selectors"]
    assert json.loads(org["insight_selectors"]) == [{"InsightType": "ApiCallRateInsight"}]
    assert org["has_insight_selectors"] and json.loads(org["tags"]) == {"owner": "security"}
    assert org["status_unavailable_reason"] is None and org["title"] == "shop-org-trail"
    assert (org["account_id"], org["partition"]) == (ACCOUNT, "aws")


def test_the_stopped_trail(trails):
    _, rows = trails
    legacy = one(rows, "legacy-audit-trail", US)
    assert legacy["is_logging"] is False and legacy["stop_logging_time"] is not None
    assert legacy["stop_logging_time"] >= legacy["start_logging_time"]
    assert legacy["latest_delivery_error"] == "AccessDenied"
    assert not legacy["is_multi_region_trail"] and not legacy["log_file_validation_enabled"]
    assert legacy["kms_key_id"] is None and legacy["latest_digest_delivery_time"] is None
    assert json.loads(legacy["insight_selectors"]) == [] and json.loads(legacy["tags"]) == {"owner": "ops"}


def test_custom_selectors_and_no_insights(trails):
    con, rows = trails
    eu = one(rows, "eu-apps-trail", EU)
    assert json.loads(eu["event_selectors"]) == [{**DEFAULT_SELECTOR, "ReadWriteType": "WriteOnly"}]
    assert eu["has_custom_event_selectors"] and not eu["include_global_service_events"]
    assert json.loads(eu["insight_selectors"]) == [] and json.loads(eu["tags"]) == {}
    # InsightNotEnabledException means "no insight selectors": in the fetch log, never a warning
    answers = [c.error_code for c in con.fetch_log if c.operation == "GetInsightSelectors"]
    assert answers.count("InsightNotEnabledException") == 2


def test_name_filter_reads_only_that_trail(connect):
    con = connect()
    result = con.sql("SELECT region, is_logging FROM aws_cloudtrail_trail WHERE name = 'eu-apps-trail'")
    assert result.rows == [(EU, True)]
    status = [json.loads(c.params)["Name"] for c in con.fetch_log if c.operation == "GetTrailStatus"]
    assert len(status) == 1 and status[0].endswith(":trail/eu-apps-trail")


def test_trails_of_another_account_say_why_their_status_is_missing(connect):
    con = connect(regions=[US])
    target = con.fetcher.targets()[0]
    # Seen from a member account, the management account's trails are another account's.
    con.fetcher._targets = [dataclasses.replace(target, account_id="210987654321")]
    result = con.sql("SELECT name, is_logging, event_selectors, tags, status_unavailable_reason "
                     "FROM aws_cloudtrail_trail WHERE name = 'shop-org-trail'")
    assert not result.errors
    [(name, logging, selectors, tags, reason)] = result.rows
    assert (logging, selectors, tags) == (None, None, None)
    assert reason.startswith(f"trail owned by account {ACCOUNT}: ")
    assert not [c for c in con.fetch_log if c.operation in PER_TRAIL]


def test_a_failed_status_call_keeps_the_trail(connect, sandbox):
    fault = sandbox.add_fault(service="cloudtrail", region=EU, operation="GetTrailStatus")
    try:
        con = connect(regions=[EU])
        result = con.sql("SELECT name, is_logging, event_selectors IS NOT NULL, status_unavailable_reason "
                         "FROM aws_cloudtrail_trail WHERE name = 'eu-apps-trail'")
    finally:
        sandbox.remove_fault(fault)
    [(name, logging, selectors, reason)] = result.rows
    assert logging is None and selectors and reason.startswith("GetTrailStatus failed (AccessDeniedException)")
    assert [e.operation for e in result.errors] == ["GetTrailStatus"]


def test_event_data_stores(connect, sandbox):
    lake = sandbox.client("cloudtrail", LAKE_REGION)
    key = f"arn:aws:kms:{LAKE_REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    cmk = lake.create_event_data_store(Name="ct-audit-store", KmsKeyId=key, RetentionPeriod=400,
                                       TagsList=[{"Key": "team", "Value": "security"}])["EventDataStoreArn"]
    plain = lake.create_event_data_store(Name="ct-plain-store", TerminationProtectionEnabled=False)[
        "EventDataStoreArn"]
    con = connect(regions=[LAKE_REGION])
    result = con.sql("SELECT * FROM aws_cloudtrail_event_data_store ORDER BY name")
    assert not result.errors, [e.line() for e in result.errors]
    audit, other = result.dicts()
    assert (audit["arn"], audit["kms_key_id"], audit["retention_period"]) == (cmk, key, 400)
    assert audit["status"] == "ENABLED" and audit["multi_region_enabled"] and audit["termination_protection_enabled"]
    assert json.loads(audit["tags"]) == {"team": "security"} and json.loads(audit["akas"]) == [cmk]
    assert json.loads(audit["advanced_event_selectors"])[0]["FieldSelectors"][0]["Equals"] == ["Management"]
    assert other["arn"] == plain and other["kms_key_id"] is None and json.loads(other["tags"]) == {}

    narrowed = connect(regions=[LAKE_REGION])
    assert narrowed.sql(f"SELECT name FROM aws_cloudtrail_event_data_store WHERE arn = '{plain}'").rows == [
        ("ct-plain-store",)]
    gets = [json.loads(c.params)["EventDataStore"] for c in narrowed.fetch_log if c.operation == "GetEventDataStore"]
    assert gets == [plain]
