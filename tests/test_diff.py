"""`apigw-sql diff OLD NEW`: per table, resources added, removed and changed (which columns), keyed by ARN or
by the table's key columns; exit 0 when the snapshots agree, 1 when they differ, 3 on error."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest

from apigw_sql.catalog import load_catalog
from apigw_sql.diff import KEYS, diff_snapshots, key_columns
from apigw_sql.snapshot_files import snapshot_tables

TEST_REGION = "ap-southeast-2"  # as conftest: a region the demo estate does not use
TABLES = ["aws_api_gateway_rest_api", "aws_api_gateway_stage"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apigw_sql.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


def collect(sandbox, out) -> None:
    done = cli("collect", *TABLES, "--out", str(out), "--endpoint-url", sandbox.endpoint_url, "--regions",
               TEST_REGION, "--no-rate-limit", "--max-attempts", "1")
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def snapshots(sandbox, tmp_path_factory):
    """Two snapshots of a small estate in TEST_REGION: between them an API is created, one deleted and a
    stage's description changed."""
    folder = tmp_path_factory.mktemp("diff")
    api = boto3.client("apigateway", endpoint_url=sandbox.endpoint_url, region_name=TEST_REGION)
    kept = api.create_rest_api(name="diff-kept")["id"]
    gone = api.create_rest_api(name="diff-gone")["id"]
    root = api.get_resources(restApiId=kept)["items"][0]["id"]
    api.put_method(restApiId=kept, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=kept, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = api.create_deployment(restApiId=kept)["id"]
    api.create_stage(restApiId=kept, stageName="prod", deploymentId=deployment, description="before")
    collect(sandbox, folder / "old")
    collect(sandbox, folder / "old.duckdb")
    added = api.create_rest_api(name="diff-added")["id"]
    api.delete_rest_api(restApiId=gone)
    api.update_stage(restApiId=kept, stageName="prod",
                     patchOperations=[{"op": "replace", "path": "/description", "value": "after"}])
    collect(sandbox, folder / "new")
    yield folder, {"kept": kept, "gone": gone, "added": added}
    for api_id in (kept, added):
        api.delete_rest_api(restApiId=api_id)


def test_diff_names_what_was_added_removed_and_changed(snapshots):
    folder, ids = snapshots
    outcome = diff_snapshots(str(folder / "old"), str(folder / "new"))
    changes = {(t, c, k.rsplit("/", 1)[-1] if k else k, tuple(cols) if cols else None)
               for t, c, k, a, r, cols in outcome.rows}
    assert ("aws_api_gateway_rest_api", "added", ids["added"], None) in changes
    assert ("aws_api_gateway_rest_api", "removed", ids["gone"], None) in changes
    assert ("aws_api_gateway_stage", "changed", "prod", ("description",)) in \
        {(t, c, k, cols if cols is None else tuple(x for x in cols if x == "description")) for t, c, k, cols in changes}
    assert all(a == "123456789012" and r == TEST_REGION for _, _, _, a, r, _ in outcome.rows)
    assert outcome.keys["aws_api_gateway_rest_api"] == ("account_id", "region", "arn")


def test_cli_diff_exit_codes_and_formats(snapshots):
    folder, ids = snapshots
    done = cli("diff", str(folder / "old"), str(folder / "new"), "-o", "json")
    assert done.returncode == 1, done.stderr
    rows = json.loads(done.stdout)
    assert {r["change"] for r in rows} == {"added", "removed", "changed"}
    assert set(rows[0]) == {"table_name", "change", "key", "account_id", "region", "columns"}
    # A DuckDB file and a Parquet folder of the same estate agree.
    same = cli("diff", str(folder / "old.duckdb"), str(folder / "old"))
    assert same.returncode == 0, same.stdout + same.stderr
    assert cli("diff", str(folder / "old"), str(folder / "nothing-here")).returncode == 3
    csv = cli("diff", str(folder / "old"), str(folder / "new"), "-o", "csv")
    assert csv.returncode == 1 and csv.stdout.startswith("table_name,change,key,account_id,region,columns")


def test_every_table_has_a_key_its_file_supports():
    catalog = load_catalog()
    for table in snapshot_tables(catalog):
        key = key_columns(catalog, table)
        assert set(key) <= set(catalog[table].column_names), table
    assert set(KEYS) <= set(catalog.tables) and all("arn" not in catalog[t].column_names for t in KEYS)
    # Every table without an ARN has a key of its own: none falls back to comparing whole rows.
    assert {t for t in snapshot_tables(catalog) if "arn" not in catalog[t].column_names} == \
        set(KEYS) | {"apigw_sql_fetch_log"}


def test_rows_sharing_a_key_are_paired_not_multiplied(tmp_path):
    """Two access-log records without a request id share a key: the same two in both snapshots are no change."""
    import duckdb

    for name, messages in (("old", ["a", "b"]), ("new", ["b", "a", "c"])):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as db:
            db.execute("CREATE TABLE apigw_sql_snapshot AS SELECT '123456789012' AS account_id, "
                       "['aws_api_gateway_access_log'] AS tables")
            db.execute("CREATE TABLE aws_api_gateway_access_log AS SELECT '123456789012' AS account_id, "
                       "'eu-west-1' AS region, 'api1' AS api_id, 'prod' AS stage, NULL AS request_id, "
                       "TIMESTAMP '2026-11-30 10:00:00' AS request_time, m AS message FROM unnest(?) t(m)", [messages])
    outcome = diff_snapshots(str(tmp_path / "old.duckdb"), str(tmp_path / "new.duckdb"))
    assert [(t, change) for t, change, *_ in outcome.rows] == [("aws_api_gateway_access_log", "added")]
