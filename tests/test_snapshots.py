"""Snapshots: `collect` writes a DuckDB file, a Parquet folder (per account, shard by shard) or an s3:// prefix,
all or nothing; `--snapshot` reads one with no AWS call at all; the controls run on it unchanged."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import duckdb
import pytest

import apigw_sql
from apigw_sql.controls import CheckOptions, check
from apigw_sql.snapshot import collect

TEST_REGION = "ap-southeast-2"  # as conftest: a region the demo estate does not use

TABLES = ["aws_api_gateway_rest_api", "aws_api_gateway_stage", "aws_iam_role"]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apigw_sql.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def sandbox_args(sandbox) -> list[str]:
    return ["--endpoint-url", sandbox.endpoint_url, "--regions", ",".join(sandbox.regions), "--no-rate-limit",
            "--max-attempts", "1"]


def tree_digest(path: Path) -> dict[str, str]:
    """Every file under path with its content hash: what must not change."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.fixture(scope="module")
def full_snapshot(sandbox, tmp_path_factory):
    """Every table of the demo estate collected once into a Parquet folder, and the live session it came from."""
    out = tmp_path_factory.mktemp("full") / "estate"
    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=list(sandbox.regions), rate_limit=False,
                            max_attempts=1)
    result = collect(con, str(out))
    yield out, con, result
    con.close()


def test_collect_writes_a_duckdb_file_the_duckdb_cli_opens(sandbox, tmp_path):
    out = tmp_path / "audit.duckdb"
    done = cli("collect", *TABLES, "--out", str(out), *sandbox_args(sandbox))
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} (duckdb)" in done.stderr
    with duckdb.connect(str(out), read_only=True) as db:
        tables = {r[0] for r in db.execute("SHOW TABLES").fetchall()}
        assert set(TABLES) | {"apigw_sql_snapshot"} <= tables
        assert db.execute("SELECT count(*) FROM aws_api_gateway_stage").fetchone()[0] == 6
        meta = db.execute("SELECT account_id, regions, tables, errors, tool_version FROM apigw_sql_snapshot").fetchall()
        assert meta == [("123456789012", sorted(sandbox.regions), [*TABLES, "apigw_sql_fetch_log"], "[]",
                         apigw_sql.__version__)]
        types = dict(db.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                "WHERE table_name = 'aws_api_gateway_stage'").fetchall())
        assert types["created_date"] == "TIMESTAMP" and types["tags"] == "JSON"
    assert leftovers(tmp_path) == []


def test_the_parquet_folder_follows_the_contract(full_snapshot):
    out, _, result = full_snapshot
    stage_files = sorted(p.relative_to(out).parts[:3] for p in (out / "aws_api_gateway_stage").rglob("*.parquet"))
    assert {p[1:] for p in stage_files} == {("account_id=123456789012", "region=eu-west-1"),
                                            ("account_id=123456789012", "region=us-east-1")}
    # Global IAM rows have a NULL region: the hive default partition, read back as NULL.
    assert {p.parent.name for p in (out / "aws_iam_role").rglob("*.parquet")} == {"region=__HIVE_DEFAULT_PARTITION__"}
    assert [p.parent.name for p in (out / "apigw_sql_snapshot").rglob("*.parquet")] == ["account_id=123456789012"]
    # A table with no rows has a folder and no files.
    assert result.rows["aws_cloudtrail_log"] == 0 and not list((out / "aws_cloudtrail_log").rglob("*.parquet"))
    rows = duckdb.sql(f"""SELECT account_id, region, count(*) FROM read_parquet('{out}/aws_iam_role/**/*.parquet',
        hive_partitioning = true, hive_types = {{'account_id': 'VARCHAR', 'region': 'VARCHAR'}}) GROUP BY ALL""").fetchall()
    assert rows == [("123456789012", None, result.rows["aws_iam_role"])]
    assert leftovers(out.parent) == []


def test_check_on_a_snapshot_equals_check_on_the_estate(full_snapshot):
    out, live, _ = full_snapshot

    def findings(con):
        report = check(con, CheckOptions(names=["fsbp"]))
        return sorted((f.control.id, f.resource, f.status, f.reason, f.account_id, f.region) for f in report.findings)

    expected = findings(live)
    with apigw_sql.connect(snapshot=str(out)) as con:
        assert findings(con) == expected
        assert con.fetch_log == []  # not one call: not even STS
    assert any(f[2] == "alarm" for f in expected)


def test_a_snapshot_session_makes_no_aws_call(full_snapshot, tmp_path):
    out, live, _ = full_snapshot
    no_credentials = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": UNREACHABLE,
                      "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    sql = "SELECT name, region FROM aws_api_gateway_rest_api ORDER BY name, region"
    done = cli("query", "--snapshot", str(out), "-o", "csv", sql, env=no_credentials)
    assert done.returncode == 0, done.stderr
    expected = live.sql(sql).rows
    assert done.stdout.splitlines()[1:] == [f"{n},{r}" for n, r in expected]
    done = cli("check", "fsbp", "--snapshot", str(out), "-o", "json", env=no_credentials)
    assert done.returncode == 1 and '"status": "alarm"' in done.stdout, done.stderr
    assert cli("query", "--snapshot", str(tmp_path / "nothing"), "SELECT 1").returncode == 3


def test_tables_the_snapshot_lacks_read_empty_with_a_warning(sandbox, tmp_path):
    out = tmp_path / "part"
    assert cli("collect", "aws_api_gateway_rest_api", "--out", str(out), *sandbox_args(sandbox)).returncode == 0
    done = cli("query", "--snapshot", str(out), "-o", "csv",
               "SELECT count(*) AS n FROM aws_api_gateway_stage UNION ALL SELECT count(*) FROM aws_api_gateway_rest_api")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "0", "5"]
    assert "does not hold" in done.stderr and "aws_api_gateway_stage" in done.stderr
    with apigw_sql.connect(snapshot=str(out)) as con:
        described = con.sql("DESCRIBE aws_api_gateway_stage").rows
        assert ("created_date", "TIMESTAMP") in {(r[0], r[1]) for r in described}


@pytest.mark.parametrize("name", ["estate", "estate.duckdb"])
def test_a_failed_collect_leaves_the_previous_snapshot_whole(sandbox, tmp_path, name):
    out = tmp_path / name
    assert cli("collect", *TABLES, "--out", str(out), *sandbox_args(sandbox)).returncode == 0
    before = tree_digest(out) if out.is_dir() else hashlib.sha256(out.read_bytes()).hexdigest()
    done = cli("collect", *TABLES, "--out", str(out), "--endpoint-url", UNREACHABLE, "--regions", "us-east-1",
               "--max-attempts", "1")
    assert done.returncode == 3 and "error:" in done.stderr
    after = tree_digest(out) if out.is_dir() else hashlib.sha256(out.read_bytes()).hexdigest()
    assert after == before
    assert leftovers(tmp_path) == []


def test_collect_refuses_to_replace_what_is_not_a_snapshot(sandbox, tmp_path):
    (tmp_path / "notes.db").write_text("my notes")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_text("meow")
    for out in ("notes.db", "photos"):
        done = cli("collect", "--out", str(tmp_path / out), *sandbox_args(sandbox))
        assert done.returncode == 3 and ("pick a new name" in done.stderr or "new or empty folder" in done.stderr)
    assert (tmp_path / "notes.db").read_text() == "my notes"


def assume_account(sandbox, account: str) -> dict[str, str]:
    """Credentials the sandbox maps to another account (moto maps AssumeRole credentials to the role's account)."""
    sts = boto3.client("sts", endpoint_url=sandbox.endpoint_url, region_name="us-east-1")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/audit", RoleSessionName="shard")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"]}


def test_shards_of_two_accounts_fill_one_folder_and_a_failing_shard_leaves_both(sandbox, tmp_path):
    other = assume_account(sandbox, "222222222222")
    boto3.client("apigateway", endpoint_url=sandbox.endpoint_url, region_name=TEST_REGION,
                 aws_access_key_id=other["AWS_ACCESS_KEY_ID"], aws_secret_access_key=other["AWS_SECRET_ACCESS_KEY"],
                 aws_session_token=other["AWS_SESSION_TOKEN"]).create_rest_api(name="second-account-api")
    out = tmp_path / "org"
    shard = ["collect", "aws_api_gateway_rest_api", "--out", str(out), "--endpoint-url", sandbox.endpoint_url,
             "--regions", f"us-east-1,{TEST_REGION}", "--no-rate-limit", "--max-attempts", "1"]
    assert cli(*shard).returncode == 0
    first = tree_digest(out)
    done = cli(*shard, env=other)
    assert done.returncode == 0, done.stderr
    # The second shard added its account's folders and left the first's as they were.
    assert {k: v for k, v in tree_digest(out).items() if "123456789012" in k} == first
    with apigw_sql.connect(snapshot=str(out)) as con:
        rows = con.sql("SELECT account_id, name FROM aws_api_gateway_rest_api WHERE account_id = '222222222222' "
                       "OR name = 'orders-api' ORDER BY 1, 2").rows
        assert rows == [("123456789012", "orders-api"), ("222222222222", "second-account-api")]
        assert con.sql("SELECT account_id FROM apigw_sql_snapshot ORDER BY 1").rows == \
            [("123456789012",), ("222222222222",)]
    # A shard that fails (its endpoint unreachable) writes nothing: both accounts stay whole.
    whole = tree_digest(out)
    failed = cli(*shard[:-6], "--endpoint-url", UNREACHABLE, "--regions", "us-east-1", "--max-attempts", "1",
                 env=other)
    assert failed.returncode == 3
    assert tree_digest(out) == whole and leftovers(tmp_path) == []
    # Collecting the first account again replaces its folders only.
    assert cli(*shard).returncode == 0
    assert {k for k in tree_digest(out) if "222222222222" in k} == {k for k in whole if "222222222222" in k}


def test_collect_to_s3_and_read_it_back(sandbox, tmp_path):
    s3 = boto3.client("s3", endpoint_url=sandbox.endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket="audit-snapshots")
    url = "s3://audit-snapshots/apigw-sql/daily"
    done = cli("collect", *TABLES, "--out", url, *sandbox_args(sandbox))
    assert done.returncode == 0, done.stderr
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="audit-snapshots")["Contents"]]
    assert "apigw-sql/daily/apigw_sql_snapshot/account_id=123456789012/" in \
        {k.rsplit("/", 1)[0] + "/" for k in keys}
    assert any(k.startswith("apigw-sql/daily/aws_api_gateway_stage/account_id=123456789012/region=eu-west-1/")
               for k in keys)
    # Again: the account's old files are replaced, not added to.
    assert cli("collect", *TABLES, "--out", url, *sandbox_args(sandbox)).returncode == 0
    again = [o["Key"] for o in s3.list_objects_v2(Bucket="audit-snapshots")["Contents"]]
    assert len(again) == len(keys) and set(again) != set(keys)
    done = cli("query", "--snapshot", url, "--endpoint-url", sandbox.endpoint_url, "-o", "csv",
               "SELECT count(*) AS n FROM aws_api_gateway_stage")
    assert done.returncode == 0 and done.stdout.splitlines() == ["n", "6"], done.stderr


@pytest.mark.parametrize("name", ["estate", "estate.duckdb"])
def test_ctrl_c_during_collect_leaves_the_previous_snapshot_whole(sandbox, tmp_path, name):
    import signal
    import time

    out = tmp_path / name
    assert cli("collect", *TABLES, "--out", str(out), *sandbox_args(sandbox)).returncode == 0
    before = tree_digest(out) if out.is_dir() else hashlib.sha256(out.read_bytes()).hexdigest()
    sandbox.set_delay(12.0, service="apigateway", operation="GetStages")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "apigw_sql.cli", "collect", *TABLES, "--out", str(out),
                                 *sandbox_args(sandbox)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3.0)  # the slow calls are on the wire by then
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=12)
    finally:
        sandbox.clear_delays()
    assert proc.returncode == 130 and err.splitlines()[-1] == "cancelled", err
    after = tree_digest(out) if out.is_dir() else hashlib.sha256(out.read_bytes()).hexdigest()
    assert after == before and leftovers(tmp_path) == []


def test_the_shell_runs_on_a_snapshot_with_no_aws(full_snapshot):
    out, live, _ = full_snapshot
    no_credentials = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": UNREACHABLE,
                      "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    script = ".output csv\nSELECT count(*) AS stages FROM aws_api_gateway_stage;\n"
    done = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "shell", "--snapshot", str(out)], input=script,
                          capture_output=True, text=True, env={**os.environ, **no_credentials}, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = live.sql("SELECT count(*) FROM aws_api_gateway_stage").rows[0][0]
    assert f"stages\n{expected}\n" in done.stdout


def test_fetch_errors_are_recorded_in_the_snapshot_and_exit_1(sandbox, tmp_path):
    out = tmp_path / "partial.duckdb"
    sandbox.add_fault(service="apigateway", region="eu-west-1", operation="GetStages", code="AccessDeniedException",
                      status=403)
    try:
        done = cli("collect", *TABLES, "--out", str(out), *sandbox_args(sandbox))
    finally:
        sandbox.clear_faults()
    assert done.returncode == 1 and "AccessDenied" in done.stderr, done.stderr
    with duckdb.connect(str(out), read_only=True) as db:
        errors = json.loads(db.execute("SELECT errors FROM apigw_sql_snapshot").fetchone()[0])
        assert {(e["table"], e["region"], e["operation"]) for e in errors} == \
            {("aws_api_gateway_stage", "eu-west-1", "GetStages")}
        assert db.execute("SELECT DISTINCT region FROM aws_api_gateway_stage").fetchall() == [("us-east-1",)]


def test_a_named_table_brings_its_parents():
    from apigw_sql.catalog import load_catalog
    from apigw_sql.snapshot import resolve_tables

    assert resolve_tables(load_catalog(), ["aws_api_gateway_method_setting"]) == \
        ["aws_api_gateway_method_setting", "aws_api_gateway_stage", "aws_api_gateway_rest_api", "apigw_sql_fetch_log"]
