"""The controls on Apache Spark (local mode) over a Parquet snapshot of the sandbox: the same findings as DuckDB
over the same snapshot for every control that transpiles; the DuckDB-only ones listed exactly, with reasons;
``controls --emit-sql`` files that sqlglot reads back; the CLI's one-line errors.

One SparkSession (local[2], two shuffle partitions, no UI) serves the whole module: starting Spark is the cost.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import apigw_sql

pytest.importorskip("pyspark")

from apigw_sql.cli import main  # noqa: E402
from apigw_sql.controls.catalogue import load_controls  # noqa: E402
from apigw_sql.controls.runner import run_controls  # noqa: E402
from apigw_sql.snapshot import collect  # noqa: E402
from apigw_sql.transpile import DIALECTS, DUCKDB_ONLY  # noqa: E402

# Controls that stay DuckDB-only: a new one must be explained here and in transpile.DUCKDB_ONLY.
EXPECTED_DUCKDB_ONLY = {
    # json_each (a JSON object's entries as rows)
    "apigateway_account_cloudwatch_role_configured", "apigateway_stage_data_trace_disabled",
    "apigateway_stage_execution_logging_enabled", "apigateway_stage_variables_no_secrets",
    "apigateway_stage_waf_known_bad_inputs", "cloudtrail_multi_region_trail_enabled",
    "cloudtrail_s3_data_events_read_enabled", "cloudtrail_s3_data_events_write_enabled",
    "cloudtrail_security_trail_enabled", "cloudtrail_trail_insights_enabled", "cloudtrail_trail_tagged",
    "apigateway_event_protection_removed", "cloudtrail_event_logging_tampered",
    "apigateway_rest_api_policy_no_public_access",        # json_type
    "apigateway_domain_name_mtls_truststore_healthy",     # from_json with a DuckDB structure
    "apigateway_domain_name_tls_policy_current",          # GLOB
    "apigateway_access_error_spike",                      # generate_series, percentile_cont WITHIN GROUP
    "apigateway_access_open_method_called",               # ordered list aggregate sliced
    "iam_principal_apigateway_write_unused",              # lambdas
    "cloudtrail_event_enumeration_detected", "apigateway_event_access_denied_burst",  # listagg, arg_min ties
}

# Usage controls judge "the hours before as_of" (now, to the minute, by default): both engines get the same.
AS_OF = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def snapshot(module_connect, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("snapshot") / "parquet"
    collect(module_connect(), str(out))
    return out


def _on_duckdb(snapshot: Path, names=None, **variables):
    """The controls on DuckDB over the same snapshot (--snapshot): the reference Spark is held to."""
    con = apigw_sql.connect(snapshot=str(snapshot))
    try:
        return run_controls(con, names, variables=variables or None)
    finally:
        con.close()


@pytest.fixture(scope="module")
def spark_engine(snapshot):
    from apigw_sql.engines.spark import SparkEngine

    engine = SparkEngine(str(snapshot))
    # A few rows per table: compiling generated code costs more than it saves (the module runs 2x faster).
    engine.session.conf.set("spark.sql.codegen.wholeStage", "false")
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def reports(snapshot, spark_engine):
    on_duckdb = _on_duckdb(snapshot, as_of=AS_OF)
    on_spark = run_controls(None, variables={"as_of": AS_OF}, engine=spark_engine)
    return on_duckdb, on_spark


def _rows(result) -> set[tuple]:
    return {(f.control.id, f.status, f.resource, f.region, f.account_id, f.reason, f.severity,
             json.dumps(f.dimensions, sort_keys=True, default=str)) for f in result.findings}


def test_spark_and_duckdb_return_the_same_findings_for_every_control_that_transpiles(reports):
    on_duckdb, on_spark = reports
    duck_results = {r.control.id: r for r in on_duckdb.results}
    assert {r.control.id for r in on_spark.results} == set(duck_results) == {c.id for c in load_controls()}
    compared = 0
    for result in on_spark.results:
        if result.control.id in DUCKDB_ONLY:
            continue
        expected = duck_results[result.control.id]
        assert expected.error is None, expected.error
        assert result.error is None, f"{result.control.id}: {result.error}"
        assert _rows(result) == _rows(expected), result.control.id
        compared += 1
    assert compared == len(duck_results) - len(DUCKDB_ONLY)
    # The snapshot is not trivially empty: both engines raise alarms and pass resources.
    assert on_spark.counts()["alarm"] > 20 and on_spark.counts()["ok"] > 20


def test_the_duckdb_only_controls_are_listed_exactly_and_reported_skipped_with_their_reason(reports):
    _, on_spark = reports
    assert set(DUCKDB_ONLY) == EXPECTED_DUCKDB_ONLY
    assert all(reason.endswith(".") and len(reason) > 30 for reason in DUCKDB_ONLY.values())
    for result in on_spark.results:
        if result.control.id in DUCKDB_ONLY:
            [finding] = result.findings
            assert finding.status == "skip"
            assert finding.reason == f"DuckDB-only control, not run on Spark: {DUCKDB_ONLY[result.control.id]}"


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_emit_sql_writes_one_file_per_control_that_sqlglot_reads_back(dialect, tmp_path, capsys):
    import sqlglot

    assert main(["controls", "--emit-sql", dialect, str(tmp_path)]) == 0
    controls = load_controls()
    files = sorted(tmp_path.rglob("*.sql"))
    assert sorted(f"{c.home}/{c.id}.sql" for c in controls) == sorted(str(f.relative_to(tmp_path)) for f in files)
    for control in controls:
        text = (tmp_path / control.home / f"{control.id}.sql").read_text()
        assert text.startswith(f"-- id: {control.id}\n")
        statements = [s for s in sqlglot.parse(text, read=DIALECTS[dialect]) if s is not None]
        if control.id in DUCKDB_ONLY:
            assert f"-- DuckDB-only: {DUCKDB_ONLY[control.id]}" in text and statements == []
        else:
            assert len(statements) == 1 and "getvariable" not in text.lower(), control.id
    assert f"wrote {len(controls)} controls in {dialect} SQL" in capsys.readouterr().err


def test_check_engine_spark_reports_as_duckdb_does(snapshot, spark_engine, capsys):
    names = ["apigateway_stage_xray_tracing_enabled", "apigateway_api_key_rotated", *sorted(DUCKDB_ONLY)[:1]]
    code = main(["check", *names, "--engine", "spark", "--snapshot", str(snapshot), "-o", "json"])
    on_spark = json.loads(capsys.readouterr().out)
    on_duckdb = _on_duckdb(snapshot, names)
    assert code == on_duckdb.exit_code() == 1  # the sandbox has stages without X-Ray
    statuses = {(f["control_id"], f["resource"], f["status"]) for f in on_spark["findings"]} \
        if isinstance(on_spark, dict) else {(f["control_id"], f["resource"], f["status"]) for f in on_spark}
    expected = {(f.control.id, f.resource, f.status) for f in on_duckdb.findings if f.control.id not in DUCKDB_ONLY}
    assert expected <= statuses
    assert {s for s in statuses if s[0] in DUCKDB_ONLY} == {(c, "arn:aws:::unknown", "skip") for c in names
                                                            if c in DUCKDB_ONLY}


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apigw_sql.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_check_engine_spark_without_a_snapshot_is_a_one_line_error():
    done = _cli("check", "--engine", "spark")
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        "error: --engine spark runs the controls over a Parquet snapshot: add --snapshot DIR "
        "(a folder written by 'apigw-sql collect --out DIR')"]


def test_check_engine_spark_without_pyspark_names_the_extra(tmp_path, snapshot):
    # A pyspark that cannot be imported, first on the path: what a machine without the extra sees.
    (tmp_path / "pyspark").mkdir()
    (tmp_path / "pyspark" / "__init__.py").write_text("raise ImportError('No module named pyspark')\n")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    done = _cli("check", "--engine", "spark", "--snapshot", str(snapshot), env={"PYTHONPATH": path})
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == ["error: --engine spark needs pyspark: pip install 'apigw-sql[spark]'"]


def test_spark_master_needs_engine_spark():
    done = _cli("check", "--spark-master", "local[1]")
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == ["error: --spark-master needs --engine spark"]


def test_emit_sql_to_an_unknown_dialect_or_onto_a_file_is_a_one_line_error(tmp_path):
    done = _cli("controls", "--emit-sql", "oracle", str(tmp_path))
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        "error: --emit-sql oracle: name one of spark, trino, athena, e.g. --emit-sql spark out/"]
    (tmp_path / "file").write_text("x")
    done = _cli("controls", "--emit-sql", "spark", str(tmp_path / "file"))
    assert done.returncode == 3 and done.stderr.strip().splitlines() == [
        f"error: --emit-sql spark {tmp_path / 'file'}: is a file: name a folder"]


def test_check_engine_spark_on_a_duckdb_file_says_it_reads_parquet_folders(tmp_path):
    (tmp_path / "audit.duckdb").write_bytes(b"")
    done = _cli("check", "--engine", "spark", "--snapshot", str(tmp_path / "audit.duckdb"))
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [
        f"error: --snapshot {tmp_path / 'audit.duckdb'}: --engine spark reads a Parquet snapshot folder, not a file "
        "(write one with 'apigw-sql collect --out DIR')"]
