"""The evidence holds under attack and failure: hostile trail buckets, bad log files, key values, file modes.

- A trail bucket whose writer plants keys with '..' segments must not make apigw-sql write outside
  its log cache, nor replace the cached copy of a real log; a tampered cached copy is never trusted.
- One unreadable log file (corrupt, truncated, not CloudTrail, or larger than DuckDB's default
  object size) is skipped with a warning naming it; the others are answered.
- An API key value recorded by CloudTrail (CreateApiKey, CreateUsagePlanKey, GetApiKey with
  includeValue, UpdateApiKey, ImportApiKeys) appears in no table, no output, and no cached file.
- The log cache, the downloaded logs and the shell's history are private (0700 folders, 0600 files).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import stat
import uuid
import zlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from apigw_sql.cloudtrail.layout import log_file_key
from apigw_sql.cloudtrail.synthetic import generate_log_files

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

ACCOUNT = "123456789012"
US = "us-east-1"
DAY = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """A cache of this test's own, and no configured log sources."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def cache_root(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "apigw-sql" / "cloudtrail"


def log_body(*names: str, marker: str = "real", when: datetime = DAY) -> bytes:
    records = [{"eventVersion": "1.09", "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "apigateway.amazonaws.com", "eventName": name, "awsRegion": US,
                "recipientAccountId": ACCOUNT, "eventID": str(uuid.uuid4()), "readOnly": False,
                "userAgent": marker, "requestParameters": {"restApiId": "evid000001"}} for name in names]
    return gzip.compress(json.dumps({"Records": records}).encode())


def errors_of(result: Any, code: str) -> list[str]:
    return [e.message for e in result.errors if e.code == code]


def failed_reads(con: Any, code: str) -> list[str]:
    return [c.error_message for c in con.fetch_log if c.operation == "ReadLogFiles" and c.error_code == code]


def all_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# ---- hostile keys in the trail bucket -------------------------------------------------------------

@pytest.fixture()
def hostile_bucket(sandbox, tmp_path) -> dict[str, Any]:
    """A trail bucket with one real log, a key that climbs out of the cache, and one that climbs onto the real copy."""
    s3 = sandbox.client("s3", TEST_REGION)
    bucket = f"hostile-trail-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": TEST_REGION})
    real_key = log_file_key(ACCOUNT, US, DAY, "REAL0001")
    real_body = log_body("UpdateStage", "CreateDeployment")
    real_etag = hashlib.md5(real_body).hexdigest()
    day_folder = real_key.rsplit("/", 1)[0] + "/"
    depth = len(f"{real_etag}/{bucket}/{day_folder}".strip("/").split("/"))  # folders below the cache root
    outside = tmp_path / "outside"
    climb_out = len(Path(os.path.relpath(tmp_path, cache_root(tmp_path))).parts)
    escape_key = day_folder + "../" * (depth + climb_out) + "outside/" + log_file_key(ACCOUNT, US, DAY, "ESCAPE01")
    poison_key = day_folder + "../" * depth + f"{real_etag}/{bucket}/{real_key}"
    forged = log_body("DeleteRestApi", marker="forged")
    s3.put_object(Bucket=bucket, Key=real_key, Body=real_body)
    s3.put_object(Bucket=bucket, Key=escape_key, Body=forged)
    s3.put_object(Bucket=bucket, Key=poison_key, Body=forged)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted([real_key, escape_key, poison_key])  # the sandbox keeps keys as written
    yield {"bucket": bucket, "real_key": real_key, "real_body": real_body, "real_etag": real_etag,
           "escape_key": escape_key, "poison_key": poison_key, "outside": outside,
           "cached": cache_root(tmp_path) / real_etag / bucket / real_key}
    for key in listed:
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


QUERY = "SELECT user_agent, event_name FROM aws_cloudtrail_log ORDER BY event_name"


def test_hostile_keys_write_nothing_outside_the_cache_and_poison_nothing(connect, hostile_bucket, tmp_path):
    source = f"s3://{hostile_bucket['bucket']}/"
    for attempt in range(2):  # the first run downloads, the second reads the cache
        con = connect(regions=[TEST_REGION], cloudtrail_logs=[source])
        result = con.sql(QUERY)
        assert result.rows == [("real", "CreateDeployment"), ("real", "UpdateStage")], attempt
        refused = errors_of(result, "LogKeyUnsafe")
        assert len(refused) == 2 and any(hostile_bucket["escape_key"] in m for m in refused) \
            and any(hostile_bucket["poison_key"] in m for m in refused)
        assert len(failed_reads(con, "LogKeyUnsafe")) == 2  # counted in the fetch log
        gets = [json.loads(c.params)["Key"] for c in con.fetch_log if c.operation == "GetObject"]
        assert gets == ([hostile_bucket["real_key"]] if attempt == 0 else [])  # a hostile key is never fetched
    assert not hostile_bucket["outside"].exists()
    assert all(p.resolve().is_relative_to(cache_root(tmp_path).resolve()) for p in all_files(tmp_path / "cache"))
    assert [p for p in tmp_path.rglob("*.json.gz") if not p.is_relative_to(tmp_path / "cache")] == []
    assert hostile_bucket["cached"].read_bytes() == hostile_bucket["real_body"]


def test_a_tampered_cached_copy_is_downloaded_again(connect, hostile_bucket):
    source = f"s3://{hostile_bucket['bucket']}/"
    assert connect(regions=[TEST_REGION], cloudtrail_logs=[source]).sql(QUERY).rows[0][0] == "real"
    cached = hostile_bucket["cached"]
    for forged in (log_body("DeleteRestApi", "DeleteStage", marker="forged"),  # another size
                   log_body("DeleteRestApi", "UpdateStage", marker="forge")):  # the same size
        cached.write_bytes(forged)
        con = connect(regions=[TEST_REGION], cloudtrail_logs=[source])
        assert con.sql(QUERY).rows == [("real", "CreateDeployment"), ("real", "UpdateStage")]
        assert [c.operation for c in con.fetch_log].count("GetObject") == 1  # not trusted: fetched again
        assert cached.read_bytes() == hostile_bucket["real_body"]


# ---- unreadable log files ---------------------------------------------------------------------------

def bad_files(day_folder: Path) -> dict[str, Path]:
    good = gzip.compress(json.dumps({"Records": [{"eventName": "X"}]}).encode())
    bodies = {"truncated": good[: len(good) // 2], "not gzip": b"<html>403 Forbidden</html>",
              "not json": gzip.compress(b"AWS log delivery test"), "an array": gzip.compress(b"[1, 2]"),
              "no record list": gzip.compress(b'{"Records": 5}'), "empty": b"",
              "records that are not objects": gzip.compress(b'{"Records": [1, "x"]}')}
    paths = {}
    for n, (what, body) in enumerate(bodies.items()):
        path = day_folder / f"{ACCOUNT}_CloudTrail_{US}_20240301T2359Z_BAD{n:05d}.json.gz"
        path.write_bytes(body)
        paths[what] = path
    return paths


@pytest.mark.parametrize("table", ["aws_cloudtrail_log", "aws_cloudtrail_event"])
def test_unreadable_log_files_are_skipped_and_the_rest_answered(connect, tmp_path, table):
    logs = generate_log_files(tmp_path / "logs", accounts=(ACCOUNT,), regions=(US,), start=date(2024, 3, 1), days=1,
                              files_per_day=3, records_per_file=10, seed=5)
    day_folder = tmp_path / "logs" / "AWSLogs" / ACCOUNT / "CloudTrail" / US / "2024" / "03" / "01"
    bad = bad_files(day_folder)
    con = connect(regions=[US], cloudtrail_logs=[str(tmp_path / "logs")])
    for _ in range(2):  # the second query knows the bad files already
        result = con.sql(f"SELECT count(*), count(DISTINCT event_id) FROM {table}")
        assert result.rows == [(logs.records, logs.records)]
        skipped = errors_of(result, "LogFileUnreadable")
        assert len(skipped) == len(bad)
        for what, path in bad.items():
            assert any(str(path) in m for m in skipped), what
        assert result.errors[0].line().startswith(f"warning: {table}: ReadLogFiles failed: LogFileUnreadable: ")
    assert len(failed_reads(con, "LogFileUnreadable")) == 2 * len(bad)  # counted in the fetch log
    with pytest.raises(Exception, match="(?i)binder|column"):
        con.sql(f"SELECT no_such_column FROM {table}")  # a wrong query is still an error


def test_a_log_file_larger_than_256_mb_is_read(connect, tmp_path):
    """One record of 300 MB (requestParameters can be large): above DuckDB's default and the old limit."""
    path = tmp_path / "logs" / log_file_key(ACCOUNT, US, DAY, "BIG00001")
    path.parent.mkdir(parents=True)
    pad = b"x" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(b'{"Records": [{"eventTime": "2024-05-01T10:00:00Z", "eventName": "PutRestApi", '
                 b'"requestParameters": {"body": "')
        for _ in range(300):
            fh.write(pad)
        fh.write(b'"}}, {"eventTime": "2024-05-01T10:00:00Z", "eventName": "GetRestApi"}]}')
    con = connect(regions=[US], cloudtrail_logs=[str(tmp_path / "logs")])
    for _ in range(2):  # the second query reads it with the higher limit at once
        result = con.sql("SELECT event_name FROM aws_cloudtrail_log ORDER BY event_name")
        assert not result.errors and result.rows == [("GetRestApi",), ("PutRestApi",)]


# ---- API key values ---------------------------------------------------------------------------------

def _contains(data: bytes, secret: bytes) -> bool:
    if secret in data:
        return True
    if data[:2] == b"\x1f\x8b":
        try:
            return secret in gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return False
    return False


@pytest.fixture(scope="module")
def planted_key(sandbox) -> dict[str, Any]:
    """API key values in the sandbox's CloudTrail history: real calls, and an ImportApiKeys record."""
    value = "SeCrEtKeyValue" + secrets.token_hex(12)
    imported = "ImPoRtEdKeyValue" + secrets.token_hex(12)
    api = sandbox.client("apigateway", TEST_REGION)
    key = api.create_api_key(name="evidence-key", value=value, enabled=True)
    plan = api.create_usage_plan(name="evidence-plan")
    api.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    api.get_api_key(apiKey=key["id"], includeValue=True)
    api.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/description", "value": "x"}])
    sandbox.record_events(TEST_REGION, [{
        "eventName": "ImportApiKeys", "eventTime": datetime.now(timezone.utc).isoformat(),
        "requestParameters": {"format": "csv", "failOnWarnings": False,
                              "body": f"name,key,enabled\nimported,{imported},TRUE\n"}}])
    sandbox.flush_logs()
    yield {"value": value, "imported": imported, "key": key["id"], "plan": plan["id"]}
    api.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    api.delete_usage_plan(usagePlanId=plan["id"])
    api.delete_api_key(apiKey=key["id"])


TRAIL_BUCKET = f"shop-cloudtrail-{ACCOUNT}"  # the demo estate's multi-region trail


def test_planted_values_are_in_the_raw_history(sandbox, planted_key):
    """The premise of the next test: the sandbox's LookupEvents and log files hold both values."""
    trail = sandbox.client("cloudtrail", TEST_REGION)
    events = trail.lookup_events(StartTime=datetime.now(timezone.utc) - timedelta(hours=1))["Events"]
    raw = json.dumps(events, default=str)
    assert planted_key["value"] in raw and planted_key["imported"] in raw
    s3 = sandbox.client("s3", US)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=TRAIL_BUCKET, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail/{TEST_REGION}/") for o in page.get("Contents", [])]
    bodies = [s3.get_object(Bucket=TRAIL_BUCKET, Key=k)["Body"].read() for k in keys]
    assert any(_contains(b, planted_key["value"].encode()) for b in bodies)
    names = {r["eventName"] for b in bodies for r in json.loads(gzip.decompress(b))["Records"]
             if _contains(b, planted_key["value"].encode())}
    assert {"CreateApiKey", "CreateUsagePlanKey", "UpdateApiKey"} <= names


def test_api_key_values_appear_in_no_table_output_or_cache_file(connect, sandbox, planted_key, tmp_path, capsys):
    secrets_ = [planted_key["value"], planted_key["imported"]]

    def clean(text: str) -> bool:
        return not any(s in text for s in secrets_)

    # A local copy of the trail's files: only the SQL can redact those.
    s3 = sandbox.client("s3", US)
    local = tmp_path / "local-copy"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=TRAIL_BUCKET,
                                                             Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail/{TEST_REGION}/"):
        for o in page.get("Contents", []):
            path = local / o["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=TRAIL_BUCKET, Key=o["Key"])["Body"].read())
    recent = f"event_time > now() - INTERVAL 1 HOUR AND region = '{TEST_REGION}'"
    checks = [  # (log sources, table): every CloudTrail source
        ([], "aws_cloudtrail_lookup_event"), ([], "aws_cloudtrail_event"),
        ([f"s3://{TRAIL_BUCKET}/"], "aws_cloudtrail_event"), ([f"s3://{TRAIL_BUCKET}/"], "aws_cloudtrail_log"),
        ([str(local)], "aws_cloudtrail_log"), ([str(local)], "aws_cloudtrail_event"),
    ]
    for sources, table in checks:
        con = connect(regions=[TEST_REGION], cloudtrail_logs=sources)
        rows = con.sql(f"SELECT * FROM {table} WHERE {recent}").dicts()
        names = {r["event_name"] for r in rows}
        assert {"CreateApiKey", "CreateUsagePlanKey", "ImportApiKeys"} <= names, (sources, table, names)
        assert clean(json.dumps(rows, default=str)), (sources, table)
        created = [r for r in rows if r["event_name"] == "CreateApiKey" and r.get("response_elements")]
        for row in created:  # what is left says a value was there
            assert json.loads(row["response_elements"])["value"] == "REDACTED"
        assert clean(json.dumps(con.sql("SELECT * FROM apigw_sql_fetch_log").dicts(), default=str))
    # Every other table of the catalog, in the key's region.
    con = connect(regions=[TEST_REGION], cloudtrail_logs=[f"s3://{TRAIL_BUCKET}/"])
    for name in con.sql("SELECT name FROM apigw_sql_tables ORDER BY name").dicts():
        rows = con.sql(f"SELECT * FROM {name['name']}").dicts()
        assert clean(json.dumps(rows, default=str)), name
    # What the command line prints, in every format.
    from apigw_sql.cli import main

    for fmt in ("table", "json", "csv", "markdown"):
        main(["query", "--endpoint-url", sandbox.endpoint_url, "--regions", TEST_REGION, "--cloudtrail-logs",
              f"s3://{TRAIL_BUCKET}/", "-o", fmt, f"SELECT * FROM aws_cloudtrail_event WHERE {recent}"])
        out = capsys.readouterr()
        assert "CreateApiKey" in out.out and clean(out.out + out.err), fmt
    # Every file the runs left in the cache.
    files = all_files(tmp_path / "cache")
    assert any(p.name.endswith(".json.gz") for p in files)
    assert [p for p in files if any(_contains(p.read_bytes(), s.encode()) for s in secrets_)] == []


# ---- file modes -----------------------------------------------------------------------------------------

def modes(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"dirs": set(), "files": set()}
    for path in [folder, *folder.rglob("*")]:
        found["dirs" if path.is_dir() else "files"].add(oct(stat.S_IMODE(path.stat().st_mode)))
    return found


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_cache_and_downloaded_logs_are_private(connect, hostile_bucket, tmp_path, umask_022, monkeypatch):
    (tmp_path / "cache" / "apigw-sql").mkdir(parents=True, mode=0o755)  # an older run's folder
    os.chmod(tmp_path / "cache" / "apigw-sql", 0o755)
    con = connect(regions=[TEST_REGION], cloudtrail_logs=[f"s3://{hostile_bucket['bucket']}/"])
    assert con.sql(QUERY).rows
    assert hostile_bucket["cached"].is_file()
    assert modes(tmp_path / "cache" / "apigw-sql") == {"dirs": {"0o700"}, "files": {"0o600"}}
    fresh = tmp_path / "fresh-cache"  # XDG_CACHE_HOME itself missing: created 0700, as XDG asks
    monkeypatch.setenv("XDG_CACHE_HOME", str(fresh))
    assert connect(regions=[TEST_REGION], cloudtrail_logs=[f"s3://{hostile_bucket['bucket']}/"]).sql(QUERY).rows
    assert modes(fresh) == {"dirs": {"0o700"}, "files": {"0o600"}}


def test_shell_history_is_private(tmp_path, umask_022):
    from apigw_sql.shell.history import history_path, open_history

    _, warning = open_history()
    assert warning is None
    path = history_path()
    assert path.is_relative_to(tmp_path / "data")
    assert modes(tmp_path / "data") == {"dirs": {"0o700"}, "files": {"0o600"}}
    os.chmod(path, 0o644)  # an older run's history, and its folder
    os.chmod(path.parent, 0o755)
    history, warning = open_history()
    history.store_string("SELECT 1")
    assert warning is None and modes(path.parent) == {"dirs": {"0o700"}, "files": {"0o600"}}
