"""The linked-service tables against the sandbox: WAFv2 web ACLs, ACM certificates, CloudTrail's S3 buckets.

A module-scoped builder creates, in TEST_REGION, two web ACLs (one with the Known Bad Inputs group,
associated with a REST stage), a requested and an imported certificate, and a trail bucket with a public
ACL, a policy, versioning with MFA delete, access logging and object lock, named by two trails, plus a
trail whose bucket was deleted. Each test reads a table back and asserts its columns and what it cost.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any, Iterator

import pytest

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

R = TEST_REGION
ACCOUNT = "123456789012"
KBI = "AWSManagedRulesKnownBadInputsRuleSet"
VISIBILITY = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True}
BUCKET = f"lnk-trail-logs-{ACCOUNT}"
LOGS_BUCKET = f"lnk-access-logs-{ACCOUNT}"
GONE_BUCKET = f"lnk-deleted-bucket-{ACCOUNT}"
DEMO_BUCKET = f"shop-cloudtrail-{ACCOUNT}"  # the demo's multi-region trail (shop-org-trail) writes here
BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*",
     "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}},
    {"Sid": "OrgRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": f"arn:aws:s3:::{BUCKET}/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
    {"Sid": "Oops", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:ListBucket",
     "Resource": f"arn:aws:s3:::{BUCKET}"},
]}
S3_READS = ("GetBucketLocation", "GetBucketAcl", "GetBucketPolicy", "GetPublicAccessBlock", "GetBucketLogging",
            "GetBucketVersioning", "GetObjectLockConfiguration")


def managed(group: str) -> dict[str, Any]:
    return {"Name": group, "Priority": 0, "OverrideAction": {"None": {}},
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
            "VisibilityConfig": {**VISIBILITY, "MetricName": group}}


def imported_certificate(acm: Any, domain: str, days: int) -> str:
    """Imports a self-signed EC certificate for `domain` that expires in `days` days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(key, hashes.SHA256()))
    return str(acm.import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))["CertificateArn"])


def empty_and_delete(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents") or []:
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def linked(sandbox) -> Iterator[dict[str, Any]]:
    """The web ACLs, certificates, buckets and trails of this module in TEST_REGION; removed afterwards."""
    ag, waf, acm = sandbox.client("apigateway", R), sandbox.client("wafv2", R), sandbox.client("acm", R)
    s3, trails = sandbox.client("s3", R), sandbox.client("cloudtrail", R)
    ids: dict[str, Any] = {}
    undo: list[Any] = []  # TEST_REGION is shared with other modules: leave it as it was found
    try:
        api = ag.create_rest_api(name="lnk-api", endpointConfiguration={"types": ["REGIONAL"]})
        undo.append(lambda: ag.delete_rest_api(restApiId=api["id"]))
        ag.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                      authorizationType="NONE")
        ag.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET", type="MOCK")
        ag.create_deployment(restApiId=api["id"], stageName="prod")
        ids["api"], ids["stage_arn"] = api["id"], f"arn:aws:apigateway:{R}::/restapis/{api['id']}/stages/prod"

        rate = {"Name": "rate", "Priority": 2, "Action": {"Block": {}},
                "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}},
                "VisibilityConfig": {**VISIBILITY, "MetricName": "rate"}}
        ids["guarded_rules"] = [managed("AWSManagedRulesCommonRuleSet"), {**managed(KBI), "Priority": 1}, rate]
        for name, default, rules in (("lnk-guarded", {"Block": {}}, ids["guarded_rules"]),
                                     ("lnk-open", {"Allow": {}}, [managed("AWSManagedRulesAmazonIpReputationList")])):
            summary = waf.create_web_acl(Name=name, Scope="REGIONAL", DefaultAction=default, Rules=rules,
                                         Description=f"{name} acl",
                                         VisibilityConfig={**VISIBILITY, "MetricName": name})["Summary"]
            ids[name] = summary
            undo.append(lambda s=summary: waf.delete_web_acl(Name=s["Name"], Scope="REGIONAL", Id=s["Id"],
                                                            LockToken=waf.get_web_acl(
                                                                Name=s["Name"], Scope="REGIONAL",
                                                                Id=s["Id"])["LockToken"]))
        waf.associate_web_acl(WebACLArn=ids["lnk-guarded"]["ARN"], ResourceArn=ids["stage_arn"])
        undo.append(lambda: waf.disassociate_web_acl(ResourceArn=ids["stage_arn"]))

        ids["requested_cert"] = acm.request_certificate(
            DomainName="lnk.example.com", SubjectAlternativeNames=["lnk.example.com", "www.lnk.example.com"],
            ValidationMethod="DNS")["CertificateArn"]
        ids["imported_cert"] = imported_certificate(acm, "old.lnk.example.com", days=10)
        for arn in (ids["requested_cert"], ids["imported_cert"]):
            undo.append(lambda a=arn: acm.delete_certificate(CertificateArn=a))

        where = {"CreateBucketConfiguration": {"LocationConstraint": R}}
        s3.create_bucket(Bucket=LOGS_BUCKET, **where)
        s3.put_bucket_acl(Bucket=LOGS_BUCKET, ACL="log-delivery-write")
        undo.append(lambda: empty_and_delete(s3, LOGS_BUCKET))  # the sandbox delivers access logs into it
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True, **where)
        undo.append(lambda: s3.delete_bucket(Bucket=BUCKET))
        s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(BUCKET_POLICY))
        s3.put_bucket_versioning(Bucket=BUCKET, MFA="arn:aws:iam::123456789012:mfa/root 123456",
                                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
        s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": LOGS_BUCKET, "TargetPrefix": "trail-bucket/"}})
        s3.create_bucket(Bucket=GONE_BUCKET, **where)
        for name, bucket in (("lnk-trail-b", BUCKET), ("lnk-trail-a", BUCKET), ("lnk-trail-gone", GONE_BUCKET)):
            ids[name] = trails.create_trail(Name=name, S3BucketName=bucket)["TrailARN"]
            undo.append(lambda n=name: trails.delete_trail(Name=n))
        s3.delete_bucket(Bucket=GONE_BUCKET)  # the trail now names a bucket that does not exist
        yield ids
    finally:
        for step in reversed(undo):
            step()


def calls(con, table: str, region: str | None = None, text: str = "") -> Counter:
    """Operations this connection sent for `table`, counted; only those in `region` and with `text` in params."""
    return Counter(c.operation for c in con.fetch_log
                   if c.table == table and (region is None or c.region == region) and text in c.params)


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}


# ---- aws_wafv2_web_acl --------------------------------------------------------------------------

def test_web_acl_columns(connect, linked):
    con = connect()
    result = con.sql(f"SELECT * FROM aws_wafv2_web_acl WHERE region = '{R}'")
    assert not result.errors
    acls = by(result.dicts(), "name")
    guarded, opened = acls["lnk-guarded"], acls["lnk-open"]
    arn = linked["lnk-guarded"]["ARN"]
    assert guarded["id"] == linked["lnk-guarded"]["Id"] and guarded["arn"] == arn
    assert (guarded["account_id"], guarded["region"], guarded["partition"]) == (ACCOUNT, R, "aws")
    assert guarded["scope"] == "REGIONAL" and guarded["description"] == "lnk-guarded acl"
    assert guarded["title"] == "lnk-guarded" and json.loads(guarded["akas"]) == [arn]
    assert isinstance(guarded["capacity"], int)
    assert json.loads(guarded["default_action"]) == {"Block": {}} and guarded["default_action_type"] == "BLOCK"
    assert json.loads(guarded["rules"]) == linked["guarded_rules"]
    assert guarded["managed_rule_groups"] == ["AWS:AWSManagedRulesCommonRuleSet", f"AWS:{KBI}"]
    assert guarded["has_known_bad_inputs"] is True
    assert json.loads(guarded["visibility_config"]) == {**VISIBILITY, "MetricName": "lnk-guarded"}
    assert guarded["associated_resources"] == [linked["stage_arn"]]
    assert guarded["managed_by_firewall_manager"] is False

    assert json.loads(opened["default_action"]) == {"Allow": {}} and opened["default_action_type"] == "ALLOW"
    assert opened["managed_rule_groups"] == ["AWS:AWSManagedRulesAmazonIpReputationList"]
    assert opened["has_known_bad_inputs"] is False and opened["associated_resources"] == []

    # One list call per region, then one GetWebACL and one ListResourcesForWebACL per web ACL.
    assert calls(con, "aws_wafv2_web_acl", R)["ListWebACLs"] == 1
    for summary in (linked["lnk-guarded"], linked["lnk-open"]):  # the Id is in both calls' parameters
        assert calls(con, "aws_wafv2_web_acl", R, summary["Id"]) == Counter(GetWebACL=1, ListResourcesForWebACL=1)


def test_web_acl_joins_the_stage_it_protects(connect, linked):
    con = connect(regions=[R])
    rows = con.sql("SELECT s.name, w.name AS acl, w.has_known_bad_inputs FROM aws_api_gateway_stage s "
                   f"JOIN aws_wafv2_web_acl w ON w.arn = s.web_acl_arn WHERE s.rest_api_id = '{linked['api']}'").rows
    assert rows == [("prod", "lnk-guarded", True)]


def test_web_acl_arn_filter_gets_one_acl_without_listing(connect, linked):
    con = connect()
    arn = linked["lnk-open"]["ARN"]
    result = con.sql(f"SELECT name FROM aws_wafv2_web_acl WHERE arn = '{arn}'")
    assert result.rows == [("lnk-open",)] and not result.errors
    assert calls(con, "aws_wafv2_web_acl") == Counter(GetWebACL=1, ListResourcesForWebACL=1)


# ---- aws_acm_certificate ------------------------------------------------------------------------

def test_certificate_columns(connect, linked):
    con = connect()
    result = con.sql(f"SELECT * FROM aws_acm_certificate WHERE region = '{R}'")
    assert not result.errors
    certs = by(result.dicts(), "certificate_arn")
    requested, imported = certs[linked["requested_cert"]], certs[linked["imported_cert"]]
    assert requested["arn"] == linked["requested_cert"] and json.loads(requested["akas"]) == [requested["arn"]]
    assert requested["domain_name"] == requested["title"] == "lnk.example.com"
    assert sorted(requested["subject_alternative_names"]) == ["lnk.example.com", "www.lnk.example.com"]
    assert (requested["status"], requested["type"], requested["key_algorithm"]) == (
        "PENDING_VALIDATION", "AMAZON_ISSUED", "RSA_2048")
    assert requested["issuer"] == "Amazon" and requested["renewal_eligibility"] == "INELIGIBLE"
    assert requested["in_use_by"] == [] and requested["failure_reason"] is None
    assert requested["created_at"] is not None and requested["imported_at"] is None
    assert requested["not_before"] < requested["not_after"]
    assert json.loads(requested["domain_validation_options"])[0]["ValidationMethod"] == "DNS"

    assert (imported["status"], imported["type"], imported["key_algorithm"]) == ("ISSUED", "IMPORTED", "EC_prime256v1")
    assert imported["issued_at"] is None and imported["imported_at"] is not None
    days_left = imported["not_after"] - dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert dt.timedelta(days=9) < days_left <= dt.timedelta(days=10)
    # Neither the certificate body nor its chain is ever fetched or kept.
    assert not {"certificate", "certificate_chain", "private_key"} & set(result.columns)
    assert not any(c.operation in ("GetCertificate", "ExportCertificate") for c in con.fetch_log)

    # ListCertificates asks for every key type and status (AWS lists only RSA_1024/2048 otherwise).
    (listing,) = [json.loads(c.params) for c in con.fetch_log if c.operation == "ListCertificates" and c.region == R]
    assert "EC_prime256v1" in listing["Includes"]["keyTypes"] and "EXPIRED" in listing["CertificateStatuses"]
    assert calls(con, "aws_acm_certificate", R)["DescribeCertificate"] == len(certs)

    expiring = con.sql(f"SELECT certificate_arn FROM aws_acm_certificate WHERE region = '{R}' "
                       "AND not_after < now() + INTERVAL 30 DAY AND status = 'ISSUED'").rows
    assert expiring == [(linked["imported_cert"],)]


def test_certificate_arn_filter_describes_one_certificate(connect, linked):
    con = connect()
    arn = linked["imported_cert"]
    missing = arn[:-12] + "000000000000"
    result = con.sql(f"SELECT domain_name FROM aws_acm_certificate WHERE certificate_arn IN ('{arn}', '{missing}')")
    assert result.rows == [("old.lnk.example.com",)] and not result.errors  # an unknown ARN is no row, no warning
    assert calls(con, "aws_acm_certificate") == Counter(DescribeCertificate=2)


# ---- aws_s3_bucket ------------------------------------------------------------------------------

def test_trail_bucket_columns(connect, linked):
    con = connect(regions=[R])
    result = con.sql("SELECT * FROM aws_s3_bucket")
    assert not result.errors, [e.line() for e in result.errors]
    buckets = by(result.dicts(), "name")
    assert Counter(row["name"] for row in result.dicts())[BUCKET] == 1  # two trails name it: one row
    row = buckets[BUCKET]
    assert (row["account_id"], row["region"], row["bucket_region"]) == (ACCOUNT, R, R)
    assert row["arn"] == f"arn:aws:s3:::{BUCKET}" and json.loads(row["akas"]) == [row["arn"]]
    assert row["title"] == BUCKET
    assert row["trail_arns"] == sorted([linked["lnk-trail-a"], linked["lnk-trail-b"]])
    assert row["bucket_in_other_account"] is False and row["error"] is None
    acl = json.loads(row["acl"])
    assert {"Owner", "Grants"} <= set(acl) and len(acl["Grants"]) == 2
    assert row["acl_public_grants"] == ["AllUsers:READ"]
    assert json.loads(row["policy"]) == BUCKET_POLICY and row["policy_is_public"] is True
    assert [row[k] for k in ("block_public_acls", "ignore_public_acls", "block_public_policy",
                             "restrict_public_buckets")] == [False] * 4  # no public access block
    assert json.loads(row["logging"]) == {"TargetBucket": LOGS_BUCKET, "TargetPrefix": "trail-bucket/"}
    assert row["logging_target_bucket"] == LOGS_BUCKET
    assert (row["versioning_status"], row["mfa_delete"]) == ("Enabled", "Enabled")
    assert row["object_lock_enabled"] is True
    assert json.loads(row["object_lock_configuration"]) == {"ObjectLockEnabled": "Enabled"}

    gone = buckets[GONE_BUCKET]
    assert gone["trail_arns"] == [linked["lnk-trail-gone"]] and gone["bucket_in_other_account"] is False
    assert gone["error"].startswith("GetBucketLocation: NoSuchBucket")
    assert gone["acl"] is None and gone["policy_is_public"] is None and gone["object_lock_enabled"] is None

    # Every setting read once, in the bucket's region; "not configured" answers are values, not failures.
    assert calls(con, "aws_s3_bucket", text=f'"{BUCKET}"') == Counter(S3_READS)
    assert calls(con, "aws_s3_bucket", text=f'"{GONE_BUCKET}"') == Counter(GetBucketLocation=1)
    again = con.sql("SELECT name FROM aws_s3_bucket")
    assert again.calls == 0 and not again.errors  # expected errors are cached like answers


def test_bucket_this_account_cannot_read(connect, sandbox, linked):
    fault = sandbox.add_fault(service="s3", region=R, operation="GetBucketLocation", code="AccessDenied")
    try:
        con = connect(regions=[R])
        result = con.sql(f"SELECT * FROM aws_s3_bucket WHERE name = '{BUCKET}'")
    finally:
        sandbox.remove_fault(fault)
    assert not result.errors  # a bucket in another account is a row that says so, not a warning
    (row,) = result.dicts()
    assert row["bucket_in_other_account"] is True and row["error"].startswith("GetBucketLocation: AccessDenied")
    assert row["trail_arns"] == sorted([linked["lnk-trail-a"], linked["lnk-trail-b"]])
    assert all(row[k] is None for k in ("bucket_region", "acl", "acl_public_grants", "policy", "policy_is_public",
                                        "block_public_acls", "logging", "versioning_status", "mfa_delete",
                                        "object_lock_enabled"))
    assert calls(con, "aws_s3_bucket") == Counter(GetBucketLocation=1)  # the WHERE on name: no other bucket


def test_multi_region_trail_bucket_is_read_once(connect, linked):
    con = connect()  # the demo regions and TEST_REGION: shop-org-trail appears in all three
    copies = con.sql("SELECT region FROM aws_cloudtrail_trail WHERE name = 'shop-org-trail'").rows
    assert len(copies) == 3
    result = con.sql(f"SELECT * FROM aws_s3_bucket WHERE name = '{DEMO_BUCKET}'")
    assert not result.errors
    (row,) = result.dicts()
    assert (row["region"], row["bucket_region"]) == ("us-east-1", "us-east-1")
    assert row["trail_arns"] == [f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/shop-org-trail"]
    assert [row[k] for k in ("block_public_acls", "ignore_public_acls", "block_public_policy",
                             "restrict_public_buckets")] == [True] * 4
    assert row["policy"] is None and row["policy_is_public"] is False
    assert (row["versioning_status"], row["mfa_delete"], row["object_lock_enabled"]) == ("Enabled", "Disabled", True)
    reads = [c for c in con.fetch_log if c.table == "aws_s3_bucket" and f'"{DEMO_BUCKET}"' in c.params]
    assert Counter(c.operation for c in reads) == Counter(S3_READS)  # once, not once per region
    assert {c.region for c in reads} == {"us-east-1"}
