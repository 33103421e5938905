"""Every CloudTrail configuration control judged on trails, buckets and event data stores built in accounts of
their own: an alarm and an ok case for each (skip and info where the control defines them), the result
contract, parameters, and the shadow copies of multi-region trails judged once.

Account-level controls need accounts whose state no other test touches (the demo estate's account has a good
multi-region trail, which covers every region), so each account below is reached with STS AssumeRole, which
the sandbox answers with credentials of the role's account:

- GOOD: one multi-region trail that follows every practice (advanced selectors for management and S3 data
  events), a hardened bucket, a CMK-encrypted event data store.
- WEAK: a logging single-region trail with nothing set and a delivery error, a stopped multi-region trail, a
  stopped trail in REGION_2 whose bucket the account cannot read (a fault makes GetBucketLocation AccessDenied
  there, as for a central log archive), a public bucket, a plain and a deleted event data store.
- PARTIAL: multi-region trails that each miss something: write-only management events (and stale deliveries),
  an excluded event source, reads only (advanced selectors); S3 data events for writes only; three trails with
  global service events (duplicates).
- EMPTY: no trail at all.
- ORG: GOOD's trails seen from a member account (the connection's account is replaced, as for an organization
  trail of the management account): nothing about them can be judged there.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

import apigw_sql
from apigw_sql.controls import load_controls, run_controls
from apigw_sql.sandbox.sandbox import control_request

REGION_1, REGION_2 = "ca-central-1", "eu-north-1"
GOOD, WEAK, PARTIAL, EMPTY = "135792468013", "246813579024", "975318642086", "864297531086"
ORG_MEMBER = "112233445566"
ALL_BUCKETS_S3_WRITES = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}


def trail_arn(account: str, name: str, region: str = REGION_1) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def account_arn(account: str) -> str:
    return f"arn:aws:::{account}"


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


class Account:
    """An account of the sandbox other than the demo's, reached through an assumed role."""

    def __init__(self, sandbox: Any, account_id: str):
        import boto3

        self.sandbox, self.id = sandbox, account_id
        credentials = sandbox.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/ctl-auditor",
                                                        RoleSessionName="ctl")["Credentials"]
        self.env = {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": credentials["SessionToken"]}
        self.session = boto3.Session(aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                                     aws_session_token=self.env["AWS_SESSION_TOKEN"])
        self.undo: list[Any] = []

    def client(self, service: str, region: str = REGION_1) -> Any:
        from botocore.config import Config

        return self.session.client(service, endpoint_url=self.sandbox.endpoint_url, region_name=region,
                                   config=Config(retries={"mode": "standard", "total_max_attempts": 1}))

    @contextlib.contextmanager
    def credentials(self) -> Iterator[None]:
        """The process environment holds this account's credentials (a Connection reads them from there)."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def connect(self, regions: list[str]) -> apigw_sql.Connection:
        return apigw_sql.connect(endpoint_url=self.sandbox.endpoint_url, regions=regions, max_attempts=1,
                                 rate_limit=False)

    def bucket(self, name: str, region: str = REGION_1, **kwargs: Any) -> str:
        s3 = self.client("s3", region)
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}, **kwargs)
        self.undo.append(lambda: empty_and_delete(s3, name))
        return name

    def trail(self, name: str, bucket: str, region: str = REGION_1, start: bool = True, **kwargs: Any) -> str:
        trails = self.client("cloudtrail", region)
        arn = trails.create_trail(Name=name, S3BucketName=bucket, **kwargs)["TrailARN"]
        self.undo.append(lambda: trails.delete_trail(Name=name))
        if start:
            trails.start_logging(Name=name)
        return str(arn)

    def trail_status(self, arn: str, **fields: Any) -> None:
        control_request(self.sandbox.endpoint_url, "POST", "trail-status",
                        {"trail": arn, "region": arn.split(":")[3], "fields": fields, "account": self.id})

    def event_data_store(self, name: str, **kwargs: Any) -> str:
        lake = self.client("cloudtrail")
        arn = lake.create_event_data_store(Name=name, TerminationProtectionEnabled=False, **kwargs)["EventDataStoreArn"]
        self.undo.append(lambda: lake.delete_event_data_store(EventDataStore=arn))
        return str(arn)

    def cleanup(self) -> None:
        import botocore.exceptions

        for step in reversed(self.undo):
            try:
                step()
            except botocore.exceptions.ClientError:
                pass


def empty_and_delete(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in (page.get("Versions") or []) + (page.get("DeleteMarkers") or []):
            s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def build_good(account: Account) -> dict[str, str]:
    logs = account.bucket(f"ctlct-access-logs-{account.id}")
    account.client("s3").put_bucket_acl(Bucket=logs, ACL="log-delivery-write")
    bucket = account.bucket(f"ctlct-good-{account.id}", ObjectLockEnabledForBucket=True)
    s3 = account.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, MFA=f"arn:aws:iam::{account.id}:mfa/root 123456",
                             VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs,
                                                                                  "TargetPrefix": "trail/"}})
    key = account.client("kms").create_key(Description="ctl trail key")["KeyMetadata"]["Arn"]
    account.client("sns").create_topic(Name="ctl-trail-notify")
    trail = account.trail("good-trail", bucket, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True,
                          EnableLogFileValidation=True, KmsKeyId=key, SnsTopicName="ctl-trail-notify",
                          CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION_1}:{account.id}:log-group:ctl-trail:*",
                          CloudWatchLogsRoleArn=f"arn:aws:iam::{account.id}:role/ctl-trail-to-logs",
                          TagsList=[{"Key": "owner", "Value": "security"}])
    trails = account.client("cloudtrail")
    trails.put_insight_selectors(TrailName="good-trail", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    # Advanced selectors only: they count as much as classic ones.
    trails.put_event_selectors(TrailName="good-trail", AdvancedEventSelectors=[
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "s3 objects", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                  {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}])
    store = account.event_data_store("ctl-cmk-store", KmsKeyId=key)
    return {"trail": trail, "bucket": bucket_arn(bucket), "store": store}


def build_weak(account: Account) -> dict[str, str]:
    bucket = account.bucket(f"ctlct-weak-{account.id}")
    account.client("s3").put_bucket_acl(Bucket=bucket, ACL="public-read")
    trail = account.trail("weak-trail", bucket, IncludeGlobalServiceEvents=False)
    account.trail_status(trail, LatestDeliveryError="AccessDenied")
    stopped = account.trail("weak-stopped", bucket, IsMultiRegionTrail=True, start=False)
    archive = account.bucket(f"ctlct-archive-{account.id}", region=REGION_2)
    account.trail("weak-archive", archive, region=REGION_2, start=False, IncludeGlobalServiceEvents=False)
    plain = account.event_data_store("ctl-plain-store")
    deleted = account.event_data_store("ctl-deleted-store")
    account.client("cloudtrail").delete_event_data_store(EventDataStore=deleted)
    return {"trail": trail, "stopped": stopped, "bucket": bucket_arn(bucket), "archive": bucket_arn(archive),
            "store": plain, "deleted_store": deleted}


def build_partial(account: Account) -> dict[str, str]:
    bucket = account.bucket(f"ctlct-partial-{account.id}")
    write_only = account.trail("partial-write-only", bucket, IsMultiRegionTrail=True,
                               CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION_1}:{account.id}:log-group:ctl-p:*",
                               CloudWatchLogsRoleArn=f"arn:aws:iam::{account.id}:role/ctl-trail-to-logs")
    trails = account.client("cloudtrail")
    trails.put_event_selectors(TrailName="partial-write-only", EventSelectors=[
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": [ALL_BUCKETS_S3_WRITES]}])
    three_days_ago = (datetime.now(timezone.utc) - timedelta(days=3)).isoformat()
    account.trail_status(write_only, LatestDeliveryTime=three_days_ago, StartLoggingTime=three_days_ago,
                         LatestCloudWatchLogsDeliveryTime=three_days_ago)
    account.trail("partial-excluded", bucket, region=REGION_2, IsMultiRegionTrail=True)
    account.client("cloudtrail", REGION_2).put_event_selectors(TrailName="partial-excluded", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True,
         "ExcludeManagementEventSources": ["kms.amazonaws.com"],
         "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/"]}]}])
    account.trail("partial-reads", bucket, IsMultiRegionTrail=True)
    trails.put_event_selectors(TrailName="partial-reads", AdvancedEventSelectors=[
        {"Name": "reads", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                             {"Field": "readOnly", "Equals": ["true"]}]},
        {"Name": "s3 writes", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                 {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                                 {"Field": "readOnly", "Equals": ["false"]}]}])
    return {"write_only": write_only, "bucket": bucket_arn(bucket)}


@dataclasses.dataclass
class Run:
    account: Account
    report: Any
    con: apigw_sql.Connection
    findings: dict[tuple[str, str, str | None], Any]


def run_config_controls(account: Account, regions: list[str], as_account: str | None = None,
                        variables: dict[str, str] | None = None, selection: list[str] | None = None) -> Run:
    """Every configuration control over the account, with its credentials; `as_account` relabels the
    connection's account (a member account looking at the management account's trails)."""
    with account.credentials():
        con = account.connect(regions)
        if as_account is not None:
            con.fetcher._targets = [dataclasses.replace(con.fetcher.targets()[0], account_id=as_account)]
        report = run_controls(con, selection or CONFIG_CONTROLS, variables)
    findings = {(f.control.id, f.resource, f.region): f for f in report.findings}
    return Run(account, report, con, findings)


CONFIG_CONTROLS = [c.id for c in load_controls() if c.home == "cloudtrail"]


@pytest.fixture(scope="module")
def estate(sandbox) -> Iterator[dict[str, Any]]:
    accounts = {key: Account(sandbox, number) for key, number in
                (("GOOD", GOOD), ("WEAK", WEAK), ("PARTIAL", PARTIAL), ("EMPTY", EMPTY))}
    try:
        built = {"GOOD": build_good(accounts["GOOD"]), "WEAK": build_weak(accounts["WEAK"]),
                 "PARTIAL": build_partial(accounts["PARTIAL"]), "EMPTY": {}}
        yield {"accounts": accounts, "built": built}
    finally:
        for account in accounts.values():  # trails first: the sandbox writes their log files into the buckets
            account.cleanup()
        sandbox.flush_logs()


@pytest.fixture(scope="module")
def runs(sandbox, estate) -> Iterator[dict[str, Run]]:
    accounts = estate["accounts"]
    regions = [REGION_1, REGION_2]
    # GOOD and WEAK run every control (the result contract is checked over all of them); the other runs only
    # the controls their cases name.
    done = {"GOOD": run_config_controls(accounts["GOOD"], regions),
            "PARTIAL": run_config_controls(accounts["PARTIAL"], regions, selection=cases_of("PARTIAL")),
            "EMPTY": run_config_controls(accounts["EMPTY"], regions, selection=cases_of("EMPTY")),
            "ORG": run_config_controls(accounts["GOOD"], regions, as_account=ORG_MEMBER, selection=cases_of("ORG"))}
    # WEAK's REGION_2 bucket stands for a central log archive: this account may not read it.
    fault = sandbox.add_fault(service="s3", region=REGION_2, operation="GetBucketLocation", code="AccessDenied")
    try:
        done["WEAK"] = run_config_controls(accounts["WEAK"], regions)
    finally:
        sandbox.remove_fault(fault)
    yield done
    for run in done.values():
        run.con.close()


def cases_of(run: str) -> list[str]:
    return sorted({control_id for key, control_id, *_ in CASES if key == run})


def resource_of(estate: dict[str, Any], run: str, key: str) -> str:
    """A case's resource: 'account', or a key of what the run's account was built with."""
    owner = "GOOD" if run == "ORG" else run
    if key == "account":
        return account_arn(ORG_MEMBER if run == "ORG" else estate["accounts"][owner].id)
    return estate["built"][owner][key]


# (run, control, resource key, region of the row, expected status)
CASES = [
    ("GOOD", "cloudtrail_multi_region_trail_enabled", "account", None, "ok"),       # advanced selectors count
    ("WEAK", "cloudtrail_multi_region_trail_enabled", "account", None, "alarm"),    # not logging
    ("PARTIAL", "cloudtrail_multi_region_trail_enabled", "account", None, "alarm"), # write-only, excluded, reads
    ("EMPTY", "cloudtrail_multi_region_trail_enabled", "account", None, "alarm"),
    ("ORG", "cloudtrail_multi_region_trail_enabled", "account", None, "info"),
    ("GOOD", "cloudtrail_trail_enabled", "account", REGION_1, "ok"),
    ("GOOD", "cloudtrail_trail_enabled", "account", REGION_2, "ok"),                # the multi-region trail covers it
    ("WEAK", "cloudtrail_trail_enabled", "account", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_enabled", "account", REGION_2, "alarm"),             # only stopped trails
    ("EMPTY", "cloudtrail_trail_enabled", "account", REGION_1, "alarm"),            # no trail at all
    ("ORG", "cloudtrail_trail_enabled", "account", REGION_2, "info"),
    ("GOOD", "cloudtrail_trail_logs_encrypted_with_kms_cmk", "trail", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_logs_encrypted_with_kms_cmk", "trail", REGION_1, "alarm"),
    ("ORG", "cloudtrail_trail_logs_encrypted_with_kms_cmk", "trail", REGION_1, "info"),
    ("GOOD", "cloudtrail_trail_log_file_validation_enabled", "trail", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_log_file_validation_enabled", "trail", REGION_1, "alarm"),
    ("ORG", "cloudtrail_trail_log_file_validation_enabled", "trail", REGION_1, "info"),
    ("GOOD", "cloudtrail_trail_cloudwatch_logs_integrated", "trail", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_cloudwatch_logs_integrated", "trail", REGION_1, "alarm"),         # no log group
    ("PARTIAL", "cloudtrail_trail_cloudwatch_logs_integrated", "write_only", REGION_1, "alarm"), # 72 hours old
    ("ORG", "cloudtrail_trail_cloudwatch_logs_integrated", "trail", REGION_1, "info"),
    ("GOOD", "cloudtrail_trail_delivery_healthy", "trail", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_delivery_healthy", "trail", REGION_1, "alarm"),                  # AccessDenied
    ("PARTIAL", "cloudtrail_trail_delivery_healthy", "write_only", REGION_1, "alarm"),          # 72 hours old
    ("WEAK", "cloudtrail_trail_delivery_healthy", "stopped", REGION_1, "skip"),
    ("ORG", "cloudtrail_trail_delivery_healthy", "trail", REGION_1, "info"),
    ("GOOD", "cloudtrail_trail_tagged", "trail", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_tagged", "trail", REGION_1, "alarm"),
    ("ORG", "cloudtrail_trail_tagged", "trail", REGION_1, "info"),
    ("GOOD", "cloudtrail_trail_insights_enabled", "trail", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_insights_enabled", "trail", REGION_1, "alarm"),
    ("ORG", "cloudtrail_trail_insights_enabled", "trail", REGION_1, "info"),
    ("GOOD", "cloudtrail_trail_sns_notification_configured", "trail", REGION_1, "ok"),
    ("WEAK", "cloudtrail_trail_sns_notification_configured", "trail", REGION_1, "alarm"),
    ("ORG", "cloudtrail_trail_sns_notification_configured", "trail", REGION_1, "info"),
    ("GOOD", "cloudtrail_global_service_events_logged", "account", None, "ok"),
    ("WEAK", "cloudtrail_global_service_events_logged", "account", None, "alarm"),   # the one with them is stopped
    ("PARTIAL", "cloudtrail_global_service_events_logged", "account", None, "info"), # three trails: duplicates
    ("EMPTY", "cloudtrail_global_service_events_logged", "account", None, "alarm"),
    ("ORG", "cloudtrail_global_service_events_logged", "account", None, "info"),
    ("GOOD", "cloudtrail_security_trail_enabled", "account", None, "ok"),
    ("PARTIAL", "cloudtrail_security_trail_enabled", "account", None, "alarm"),
    ("EMPTY", "cloudtrail_security_trail_enabled", "account", None, "alarm"),
    ("ORG", "cloudtrail_security_trail_enabled", "account", None, "info"),
    ("GOOD", "cloudtrail_s3_data_events_write_enabled", "account", None, "ok"),      # advanced, reads and writes
    ("PARTIAL", "cloudtrail_s3_data_events_write_enabled", "account", None, "ok"),   # classic, arn:aws:s3, WriteOnly
    ("WEAK", "cloudtrail_s3_data_events_write_enabled", "account", None, "alarm"),
    ("EMPTY", "cloudtrail_s3_data_events_write_enabled", "account", None, "alarm"),
    ("GOOD", "cloudtrail_s3_data_events_read_enabled", "account", None, "ok"),
    ("PARTIAL", "cloudtrail_s3_data_events_read_enabled", "account", None, "alarm"), # writes only, or one bucket
    ("EMPTY", "cloudtrail_s3_data_events_read_enabled", "account", None, "alarm"),
    ("GOOD", "cloudtrail_event_data_store_cmk_encrypted", "store", REGION_1, "ok"),
    ("WEAK", "cloudtrail_event_data_store_cmk_encrypted", "store", REGION_1, "alarm"),
    ("WEAK", "cloudtrail_event_data_store_cmk_encrypted", "deleted_store", REGION_1, "skip"),
    ("GOOD", "cloudtrail_bucket_not_public", "bucket", REGION_1, "ok"),
    ("WEAK", "cloudtrail_bucket_not_public", "bucket", REGION_1, "alarm"),           # public-read ACL
    ("PARTIAL", "cloudtrail_bucket_not_public", "bucket", REGION_1, "alarm"),        # no public access block
    ("WEAK", "cloudtrail_bucket_not_public", "archive", REGION_2, "skip"),
    ("GOOD", "cloudtrail_bucket_access_logging_enabled", "bucket", REGION_1, "ok"),
    ("WEAK", "cloudtrail_bucket_access_logging_enabled", "bucket", REGION_1, "alarm"),
    ("WEAK", "cloudtrail_bucket_access_logging_enabled", "archive", REGION_2, "skip"),
    ("GOOD", "cloudtrail_bucket_mfa_delete_enabled", "bucket", REGION_1, "ok"),
    ("WEAK", "cloudtrail_bucket_mfa_delete_enabled", "bucket", REGION_1, "alarm"),
    ("WEAK", "cloudtrail_bucket_mfa_delete_enabled", "archive", REGION_2, "skip"),
    ("GOOD", "cloudtrail_bucket_object_lock_enabled", "bucket", REGION_1, "ok"),
    ("WEAK", "cloudtrail_bucket_object_lock_enabled", "bucket", REGION_1, "alarm"),
    ("WEAK", "cloudtrail_bucket_object_lock_enabled", "archive", REGION_2, "skip"),
]


@pytest.mark.parametrize("run_key, control_id, key, region, expected", CASES,
                         ids=[f"{c}-{r}-{k}-{s}" for r, c, k, _, s in CASES])
def test_control_judges_resource(runs, estate, run_key, control_id, key, region, expected):
    run = runs[run_key]
    resource = resource_of(estate, run_key, key)
    finding = run.findings.get((control_id, resource, region))
    rows = sorted((f.resource, f.region, f.status) for f in run.report.findings if f.control.id == control_id)
    assert finding is not None, f"{control_id} returned no row for {resource} in {region}: {rows}"
    assert finding.status == expected, finding.reason


def test_every_configuration_control_has_an_alarm_and_an_ok_case():
    covered = collections.defaultdict(set)
    for _, control_id, _, _, status in CASES:
        covered[control_id].add(status)
    assert set(covered) == set(CONFIG_CONTROLS)
    assert [c for c in CONFIG_CONTROLS if not {"alarm", "ok"} <= covered[c]] == []


def test_result_contract(runs):
    for key, run in runs.items():
        for result in run.report.results:
            assert result.error is None, f"{key} {result.control.id}: {result.error}"
            for f in result.findings:
                assert f.status in ("ok", "alarm", "info", "skip"), (key, f.control.id, f.status, f.reason)
                assert f.reason.endswith(".") and f.reason[0].isupper(), f.reason
                name = f.resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
                assert name in f.reason, f"{f.control.id}: the reason does not name {name}: {f.reason}"
                assert f.account_id == (ORG_MEMBER if key == "ORG" else run.account.id)
                assert f.resource.startswith(("arn:aws:cloudtrail:", "arn:aws:s3:::", "arn:aws:::"))


def test_a_multi_region_trail_is_judged_once(runs, estate):
    """good-trail appears in both regions read (a shadow copy in REGION_2): every per-trail control judges it
    once, in its home region; read from REGION_2 alone, the shadow copy stands in for it."""
    trail = estate["built"]["GOOD"]["trail"]
    shadow_only = run_config_controls(runs["GOOD"].account, [REGION_2],
                                      selection=["cloudtrail_trail_log_file_validation_enabled"])
    try:
        for run in (runs["GOOD"], shadow_only):
            rows = [f for f in run.report.findings if f.resource == trail]
            assert rows and set(collections.Counter(f.control.id for f in rows).values()) == {1}
            assert {(f.region, f.status) for f in rows} == {(REGION_1, "ok")}
    finally:
        shadow_only.con.close()


def test_reasons_say_what_falls_short(runs):
    partial = runs["PARTIAL"].findings
    reason = partial[("cloudtrail_multi_region_trail_enabled", account_arn(PARTIAL), None)].reason
    assert "partial-write-only (ca-central-1): records write management events only" in reason
    assert "partial-excluded (eu-north-1): excludes management events (kms.amazonaws.com)" in reason
    assert "partial-reads (ca-central-1): records read management events only" in reason
    reason = partial[("cloudtrail_global_service_events_logged", account_arn(PARTIAL), None)].reason
    assert "in 3 trails" in reason
    weak = runs["WEAK"].findings
    assert "weak-stopped (ca-central-1) stopped logging" in weak[("cloudtrail_trail_enabled", account_arn(WEAK),
                                                                  REGION_2)].reason
    empty = runs["EMPTY"].findings
    assert "no trail at all" in empty[("cloudtrail_trail_enabled", account_arn(EMPTY), REGION_2)].reason


def test_parameters_change_the_verdict(estate):
    controls = ["cloudtrail_trail_delivery_healthy", "cloudtrail_trail_cloudwatch_logs_integrated"]
    run = run_config_controls(estate["accounts"]["PARTIAL"], [REGION_1, REGION_2], variables={"hours": "100"},
                              selection=controls)
    try:
        trail = estate["built"]["PARTIAL"]["write_only"]
        for control_id in controls:
            assert run.findings[(control_id, trail, REGION_1)].status == "ok"
        assert run.con.duck.execute("SELECT getvariable('hours')").fetchone() == (None,)
    finally:
        run.con.close()


def test_one_call_per_operation_and_parameters(runs):
    for key, run in runs.items():
        calls = collections.Counter((r.service, r.operation, r.region, r.params) for r in run.con.fetch_log)
        assert [k for k, n in calls.items() if n > 1] == []
        if key != "ORG":  # ORG resolved its account before the run, to relabel it
            assert run.report.api_calls == len(run.con.fetch_log)


def test_each_file_runs_as_is_with_the_header_defaults(runs):
    """`apigw-sql query -f FILE` runs the file with no variable set: coalesce() supplies the header default, and
    the account-level controls find the accounts and regions read in the fetch log of that very query."""
    run = runs["GOOD"]
    with run.account.credentials():
        for result in run.report.results:
            if not result.control.parameters and "apigw_sql_fetch_log" not in result.control.sql:
                continue
            with run.account.connect([REGION_1, REGION_2]) as con:
                rows = con.sql(result.control.sql).dicts()
            assert sorted((r["resource"], r["region"] or "", r["status"]) for r in rows) == \
                sorted((f.resource, f.region or "", f.status) for f in result.findings), result.control.id

