"""aws_cloudtrail_log and aws_cloudtrail_event over CloudTrail log files: a folder, an S3 prefix, the sandbox.

A small synthetic tree (two accounts x two regions x three days x four files, digests beside them, and
an organization trail's folder) is read from a folder and from an S3 bucket of the sandbox. NARROWING
lists WHERE clauses with the number of files they may read (the fetch log's ReadLogFiles entry) and
each must return what the unnarrowed read returns. The last tests check the sandbox's own log files:
what a call or a planted record leaves in the trails' buckets, read back next to LookupEvents.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from apigw_sql.cloudtrail.synthetic import LogSet, generate_log_files

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

ACCOUNTS = ("111122223333", "444455556666")
ORG_ACCOUNT, ORG_ID = "555566667777", "o-abc123def4"
US, EU = "us-east-1", "eu-west-1"
SANDBOX_ACCOUNT = "123456789012"
BUCKET = f"ct-log-mirror-{SANDBOX_ACCOUNT}"


@pytest.fixture(scope="module")
def logset(tmp_path_factory) -> LogSet:
    root = tmp_path_factory.mktemp("cloudtrail-logs")
    logs = generate_log_files(root, accounts=ACCOUNTS, regions=(US, EU), start=date(2024, 3, 1), days=3,
                              files_per_day=4, records_per_file=25, seed=11)
    logs.add(generate_log_files(root, accounts=(ORG_ACCOUNT,), regions=(US,), start=date(2024, 3, 2), days=1,
                                files_per_day=2, records_per_file=25, seed=12, org_id=ORG_ID))
    assert (logs.files, logs.records) == (50, 1250)
    return logs


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, cache, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))


def files_read(con) -> list[int]:
    return [c.items for c in con.fetch_log if c.operation == "ReadLogFiles"]


def test_every_record_of_every_log_file_and_no_digest(connect, logset):
    con = connect(cloudtrail_logs=[str(logset.root)])
    result = con.sql("SELECT account_id, region, count(*) AS records, count(DISTINCT log_file) AS files "
                     "FROM aws_cloudtrail_log GROUP BY ALL ORDER BY ALL")
    assert not result.errors
    assert result.rows == [(ACCOUNTS[0], EU, 300, 12), (ACCOUNTS[0], US, 300, 12), (ACCOUNTS[1], EU, 300, 12),
                           (ACCOUNTS[1], US, 300, 12), (ORG_ACCOUNT, US, 50, 2)]
    assert files_read(con) == [50]  # the 50 digest files beside them are not read


def test_columns_follow_the_record(connect, logset):
    con = connect(cloudtrail_logs=[str(logset.root)])
    rows = con.sql("SELECT * FROM aws_cloudtrail_log").dicts()
    for row in rows[:200]:
        record = json.loads(row["record"])
        assert row["event_time"] == datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        assert (row["event_source"], row["event_name"], row["aws_region"], row["read_only"]) == (
            record["eventSource"], record["eventName"], record["awsRegion"], record["readOnly"])
        assert (row["error_code"], row["event_id"], row["recipient_account_id"]) == (
            record.get("errorCode"), record["eventID"], record["recipientAccountId"])
        assert json.loads(row["user_identity"]) == record["userIdentity"]
        assert (json.loads(row["request_parameters"]) if row["request_parameters"] else None) == \
            record["requestParameters"]
        assert row["region"] == record["awsRegion"] and row["account_id"] == record["recipientAccountId"]
        assert row["log_file"].startswith(str(logset.root)) and f"/CloudTrail/{row['region']}/" in row["log_file"]
    kinds = Counter(json.loads(r["user_identity"])["type"] for r in rows)
    assert {"IAMUser", "AssumedRole", "AWSService"} <= set(kinds)
    assert any(r["error_code"] == "AccessDeniedException" for r in rows)
    assert any(r["tls_details"] for r in rows) and any(r["additional_event_data"] for r in rows)


NARROWING = [  # (where, files read)
    ("region = 'eu-west-1'", 24),
    ("account_id = '111122223333'", 24),
    (f"account_id = '{ORG_ACCOUNT}'", 2),
    ("account_id IN ('111122223333', '444455556666') AND region = 'us-east-1'", 24),
    # day 2's 16 files and the org's 2; not day 3's first files (delivered at 05:59, past the 2-hour margin)
    ("event_time >= '2024-03-02' AND event_time < '2024-03-03'", 18),
    ("event_time BETWEEN '2024-03-02 10:00:00' AND '2024-03-02 11:00:00'", 5),
    ("event_time < '2024-03-01 12:00:00'", 8),
    ("event_time > '2024-03-03'", 16),
    ("region = 'eu-west-1' AND account_id = '444455556666' AND event_time >= TIMESTAMP '2024-03-03 06:00:00' "
     "AND event_time < TIMESTAMP '2024-03-03 06:00:00' + INTERVAL 6 HOUR", 1),  # not the one of 05:59
    ("event_time > '2025-01-01'", 0),
    ("event_time > '2024-03-03' AND event_time < '2024-03-02'", 0),
]


@pytest.mark.parametrize("where, files", NARROWING, ids=[n[0][:60] for n in NARROWING])
def test_filters_narrow_the_files_read(connect, logset, where, files):
    narrowed = connect(cloudtrail_logs=[str(logset.root)])
    whole = connect(cloudtrail_logs=[str(logset.root)], pushdown_enabled=False)
    query = f"SELECT event_id, account_id, region, event_time FROM aws_cloudtrail_log WHERE {where} ORDER BY event_id"
    got = narrowed.sql(query)
    assert not got.errors
    assert files_read(narrowed) == [files]
    assert got.rows == whole.sql(query).rows and files_read(whole) == [50]


def test_an_exact_event_time_reads_one_day(connect, logset):
    con = connect(cloudtrail_logs=[str(logset.root)])
    moment = con.sql("SELECT event_time FROM aws_cloudtrail_log WHERE region = 'us-east-1' "
                     "AND event_time BETWEEN '2024-03-02 12:30:00' AND '2024-03-02 17:00:00' LIMIT 1").rows[0][0]
    con.sql(f"SELECT * FROM aws_cloudtrail_log WHERE event_time = '{moment}'")
    assert files_read(con)[-1] <= 5  # the files delivered from that minute to two hours after


def test_s3_prefix_lists_downloads_once_and_narrows(connect, sandbox, logset, cache):
    s3 = sandbox.client("s3", TEST_REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": TEST_REGION})
    for path in Path(logset.root).rglob("*.json.gz"):
        s3.put_object(Bucket=BUCKET, Key=f"mirror/{path.relative_to(logset.root).as_posix()}", Body=path.read_bytes())
    source = f"s3://{BUCKET}/mirror"

    con = connect(cloudtrail_logs=[source])
    result = con.sql("SELECT count(*), count(DISTINCT log_file), min(log_file) FROM aws_cloudtrail_log")
    assert not result.errors, [e.line() for e in result.errors]
    count, files, first = result.rows[0]
    assert (count, files, files_read(con)) == (1250, 50, [50])
    assert first.startswith(f"s3://{BUCKET}/mirror/AWSLogs/")
    assert Counter(c.operation for c in con.fetch_log if c.table == "aws_cloudtrail_log")["GetObject"] == 50
    assert len(list(cache.rglob("*.json.gz"))) >= 50  # keyed by ETag: ETAG/BUCKET/KEY

    again = connect(cloudtrail_logs=[source])
    narrowed = again.sql("SELECT count(*) FROM aws_cloudtrail_log WHERE region = 'eu-west-1' "
                         "AND event_time >= '2024-03-02' AND event_time < '2024-03-03'")
    assert narrowed.rows == [(200,)] and files_read(again) == [8]
    listed = [json.loads(c.params) for c in again.fetch_log if c.operation == "ListObjectsV2"]
    days = sorted(p["Prefix"].split("/CloudTrail/")[1] for p in listed if "/CloudTrail/" in p["Prefix"]
                  and "Delimiter" not in p)
    assert days == ["eu-west-1/2024/03/02/", "eu-west-1/2024/03/02/", "eu-west-1/2024/03/03/",
                    "eu-west-1/2024/03/03/"]  # one listing per account and wanted day folder
    assert not [c for c in again.fetch_log if c.operation == "GetObject"]  # all from the cache


def test_event_table_reads_the_log_files(connect, logset):
    con = connect(cloudtrail_logs=[str(logset.root)])
    result = con.sql("SELECT * FROM aws_cloudtrail_event WHERE account_id = '111122223333' AND region = 'us-east-1' "
                     "AND event_time >= '2024-03-03' ORDER BY event_time")
    assert not result.errors
    rows = result.dicts()
    assert len(rows) == 100 and {r["origin"] for r in rows} == {"log"}
    assert files_read(con) == [4]
    for row in rows:
        record = json.loads(row["record"])
        identity = record["userIdentity"]
        assert (row["user_type"], row["user_arn"], row["access_key_id"]) == (
            identity["type"], identity.get("arn"), identity.get("accessKeyId"))
        assert (row["event_name"], row["source_ip_address"], row["error_code"]) == (
            record["eventName"], record["sourceIPAddress"], record.get("errorCode"))


def test_sources_from_the_config_file(connect, logset, tmp_path, monkeypatch):
    config = tmp_path / "config" / "apigw-sql" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"cloudtrail_logs = [{json.dumps(str(logset.root))}]\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    con = connect()
    assert con.sql(f"SELECT count(*), any_value(origin) FROM aws_cloudtrail_event "
                   f"WHERE account_id = '{ORG_ACCOUNT}'").rows == [(50, "log")]
    config.write_text("cloudtrail_logs = 42\n")
    broken = connect().sql("SELECT count(*) FROM aws_cloudtrail_log")
    assert broken.rows == [(0,)] and broken.errors[0].code == "LogSourceConfig"


def test_the_command_line_option(logset, capsys):
    from apigw_sql.cli import main

    code = main(["query", "--regions", "us-east-1", "--cloudtrail-logs", str(logset.root), "-o", "csv",
                 "SELECT count(*) AS n FROM aws_cloudtrail_log WHERE region = 'eu-west-1'"])
    assert code == 0 and capsys.readouterr().out.split() == ["n", "600"]


def test_a_source_that_is_not_there_is_a_warning(connect, tmp_path, capsys):
    con = connect(cloudtrail_logs=[str(tmp_path / "missing"), str(tmp_path)])
    result = con.sql("SELECT count(*) FROM aws_cloudtrail_log")
    assert result.rows == [(0,)]
    assert [e.code for e in result.errors] == ["LogSourceNotFound", "LogSourceEmpty"]
    assert result.errors[0].line().startswith("warning: aws_cloudtrail_log: ReadLogFiles failed: LogSourceNotFound: ")
    assert "--cloudtrail-logs" in result.errors[0].line()
    none = connect(cloudtrail_logs=[]).sql("SELECT count(*) FROM aws_cloudtrail_log")
    assert none.rows == [(0,)] and not none.errors
    assert "note: aws_cloudtrail_log is empty: name CloudTrail log folders" in capsys.readouterr().err


# ---- the sandbox's log files --------------------------------------------------------------------

def days_ago(days: float) -> datetime:
    return (datetime.now(timezone.utc) - timedelta(days=days)).replace(microsecond=0)


@pytest.fixture(scope="module")
def sandbox_history(sandbox) -> dict[str, Any]:
    """Planted records of two days ago and one real call, flushed into the trails' buckets."""
    moment = days_ago(2).replace(hour=9, minute=0, second=0)
    marker = "ct-logs-test/1.0"
    planted = [
        {"eventTime": moment.isoformat(), "eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com",
         "requestParameters": {"name": "eu-apps-trail"}, "userAgent": marker},
        {"eventTime": (moment + timedelta(minutes=5)).isoformat(), "eventName": "UpdateStage", "userAgent": marker,
         "requestParameters": {"restApiId": "ctlog00001", "stageName": "live", "template": False,
                               "updateStageInput": {"patchOperations": [
                                   {"op": "replace", "path": "/tracingEnabled", "value": "false"}]}}},
        {"eventTime": (moment + timedelta(minutes=10)).isoformat(), "eventName": "GetStages", "userAgent": marker,
         "requestParameters": {"restApiId": "ctlog00001", "template": False}},
    ]
    sandbox.flush_logs()  # what the seeding left buffered
    before = {b: keys(sandbox, b) for b in (f"shop-legacy-trail-{SANDBOX_ACCOUNT}",)}
    eu_ids = sandbox.record_events(EU, planted)
    us_ids = sandbox.record_events(US, [{**planted[0], "requestParameters": {"name": "shop-org-trail"}}])
    api = sandbox.client("apigateway", EU)
    try:
        api.get_rest_api(restApiId="ctlog00404")
    except api.exceptions.NotFoundException:
        pass
    sandbox.flush_logs()
    return {"moment": moment, "marker": marker, "eu": eu_ids, "us": us_ids, "before": before}


def keys(sandbox, bucket: str) -> list[str]:
    pages = sandbox.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_planted_records_land_in_the_day_folder_of_their_time(sandbox, sandbox_history):
    day = sandbox_history["moment"].strftime("%Y/%m/%d")
    org = [k for k in keys(sandbox, f"shop-cloudtrail-{SANDBOX_ACCOUNT}") if f"/{day}/" in k]
    assert {k.split("/CloudTrail/")[1].split("/")[0] for k in org} >= {EU, US}  # multi-region: both regions
    assert all(k.startswith(f"AWSLogs/{SANDBOX_ACCOUNT}/CloudTrail/") and k.endswith(".json.gz") for k in org)
    stamp = sandbox_history["moment"] + timedelta(minutes=10)
    assert any(f"_CloudTrail_{EU}_{stamp:%Y%m%dT%H%M}Z_" in k for k in org)  # named after the newest record
    regional = [k for k in keys(sandbox, f"shop-eu-trail-{SANDBOX_ACCOUNT}") if f"/{day}/" in k]
    assert regional and all(f"/CloudTrail/{EU}/" in k for k in regional)  # single-region: its own region only
    legacy = f"shop-legacy-trail-{SANDBOX_ACCOUNT}"
    assert keys(sandbox, legacy) == sandbox_history["before"][legacy]  # a stopped trail delivers nothing


def test_both_event_sources_tell_the_same_history(connect, sandbox_history):
    moment = sandbox_history["moment"]
    where = (f"WHERE region = '{EU}' AND event_time BETWEEN '{moment:%Y-%m-%d %H:%M:%S}' "
             f"AND '{moment + timedelta(minutes=10):%Y-%m-%d %H:%M:%S}' AND user_agent = '{sandbox_history['marker']}' "
             "ORDER BY event_time")
    from_logs = connect(cloudtrail_logs=[f"s3://shop-cloudtrail-{SANDBOX_ACCOUNT}/"]).sql(
        f"SELECT * FROM aws_cloudtrail_event {where}")
    from_lookup = connect(cloudtrail_logs=[]).sql(f"SELECT * FROM aws_cloudtrail_event {where}")
    assert not from_logs.errors and not from_lookup.errors
    logs, lookup = from_logs.dicts(), from_lookup.dicts()
    assert [r["event_id"] for r in logs] == sandbox_history["eu"] == [r["event_id"] for r in lookup]
    assert {r["origin"] for r in logs} == {"log"} and {r["origin"] for r in lookup} == {"lookup"}
    for a, b in zip(logs, lookup):
        same = {k for k in a if k not in ("origin", "record", "request_parameters", "user_identity", "resources")}
        assert {k: a[k] for k in same} == {k: b[k] for k in same}
        assert json.loads(a["record"]) == json.loads(b["record"])
    patches = json.loads(logs[1]["request_parameters"])["updateStageInput"]["patchOperations"]
    assert patches == [{"op": "replace", "path": "/tracingEnabled", "value": "false"}]


def test_a_write_only_trail_logs_only_writes(connect, sandbox_history):
    con = connect(cloudtrail_logs=[f"s3://shop-eu-trail-{SANDBOX_ACCOUNT}"])
    moment = sandbox_history["moment"]
    rows = con.sql(f"SELECT event_name, read_only FROM aws_cloudtrail_log WHERE event_time BETWEEN "
                   f"'{moment:%Y-%m-%d %H:%M:%S}' AND '{moment + timedelta(minutes=10):%Y-%m-%d %H:%M:%S}' "
                   f"AND user_agent = '{sandbox_history['marker']}' ORDER BY event_time").rows
    assert rows == [("StopLogging", False), ("UpdateStage", False)]  # no GetStages: WriteOnly selectors
    recent = con.sql(f"SELECT error_code FROM aws_cloudtrail_log WHERE event_name = 'GetRestApi' "
                     f"AND event_time > now() - INTERVAL 1 HOUR").rows
    assert recent == []  # a read: not for this trail


def test_a_real_call_reaches_the_multi_region_trail(connect, sandbox_history):
    con = connect(cloudtrail_logs=[f"s3://shop-cloudtrail-{SANDBOX_ACCOUNT}/"])
    rows = con.sql(f"SELECT error_code, request_parameters->>'restApiId', user_type FROM aws_cloudtrail_event "
                   f"WHERE region = '{EU}' AND event_time > now() - INTERVAL 1 HOUR "
                   f"AND event_name = 'GetRestApi'").rows
    assert ("NotFoundException", "ctlog00404", "IAMUser") in rows
