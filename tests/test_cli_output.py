"""What the command line prints: every statement's result and warnings, escaped markdown, whole
messages, and exports that never destroy the previous report."""
from __future__ import annotations

import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest

from apigw_sql.cli import main

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"


@pytest.fixture()
def cli(sandbox, capsys) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process against the shared sandbox; returns (exit code, stdout, stderr)."""

    def run(*argv: str, regions: str = "us-east-1,eu-west-1") -> tuple[int, str, str]:
        args = list(argv)
        if args[0] in ("query", "check"):
            args += ["--endpoint-url", sandbox.endpoint_url, "--max-attempts", "1", "--no-rate-limit",
                     "--regions", regions]
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _cli_process(*argv: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apigw_sql.cli", *argv], capture_output=True, text=True,
                          timeout=120, env=env, **kwargs)


# ---- every statement's result -------------------------------------------------------------------

TWO = "SELECT 1 AS a; CREATE TABLE made AS SELECT 3 AS c; SELECT 2 AS b"


@pytest.mark.parametrize("fmt, expected", [
    ("csv", "a\n1\n\nb\n2\n"),                                   # one block per result, a blank line between
    ("jsonl", '{"a": 1}\n{"b": 2}\n'),                           # the rows of every result, one after another
    ("json", '[\n  {\n    "a": 1\n  }\n]\n[\n  {\n    "b": 2\n  }\n]\n'),  # one document per result
    ("markdown", "| a   |\n|-----|\n| 1   |\n\n| b   |\n|-----|\n| 2   |\n"),
])
def test_every_statement_prints_its_result_and_changes_print_nothing(cli, fmt, expected):
    code, out, err = cli("query", TWO, "-o", fmt)
    assert code == 0 and err == "" and out == expected
    if fmt == "json":
        decoder, docs, at = json.JSONDecoder(), [], 0
        while at < len(out.strip()):
            doc, at = decoder.raw_decode(out, at)
            docs.append(doc)
            at += 1
        assert docs == [[{"a": 1}], [{"b": 2}]]


def test_table_output_shows_both_results(cli):
    code, out, _ = cli("query", "SELECT 1 AS a; SELECT 2 AS b")
    assert code == 0 and out.count("╭") == 2 and "│ a" in out and "│ b" in out


def test_a_single_statement_prints_as_before(cli):
    code, out, _ = cli("query", "SELECT 1 AS a", "-o", "json")
    assert code == 0 and json.loads(out) == [{"a": 1}]
    code, out, _ = cli("query", "CREATE TABLE alone AS SELECT 1 AS a", "-o", "csv")
    assert code == 0 and out == "Count\n1\n"


def test_results_before_a_failing_statement_are_printed(cli):
    code, out, err = cli("query", "SELECT 1 AS a; SELECT * FROM no_such_table; SELECT 2 AS b", "-o", "csv")
    assert code == 3 and out == "a\n1\n" and "unknown table 'no_such_table'" in err


@pytest.fixture()
def denied_in_eu(sandbox) -> Iterator[None]:
    sandbox.add_fault(service="apigateway", region="eu-west-1", code="AccessDeniedException", status=403,
                      message="denied")
    yield
    sandbox.clear_faults()


SNAPSHOT = "CREATE TABLE snap AS SELECT name, region FROM aws_api_gateway_rest_api; COPY snap TO '{path}' (HEADER)"


@pytest.mark.parametrize("source", ["argument", "file", "stdin"])
def test_warnings_of_every_statement_are_printed(cli, denied_in_eu, tmp_path, monkeypatch, source):
    snapshot = tmp_path / "snap.csv"
    sql = SNAPSHOT.format(path=snapshot)
    if source == "argument":
        code, out, err = cli("query", sql)
    elif source == "file":
        (tmp_path / "snap.sql").write_text(sql)
        code, out, err = cli("query", "-f", str(tmp_path / "snap.sql"))
    else:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sql.encode())))
        code, out, err = cli("query", "-")
    assert code == 0 and out == ""
    [warning] = err.splitlines()
    assert warning.startswith("warning: aws_api_gateway_rest_api: GetRestApis failed in 123456789012/eu-west-1: "
                              "AccessDeniedException")
    regions = {row["region"] for row in csv.DictReader(snapshot.open())}
    assert regions == {"us-east-1"}  # the gap the warning speaks of


def test_the_library_result_carries_every_statements_errors(connect, denied_in_eu):
    con = connect(regions=["us-east-1", "eu-west-1"])
    result = con.sql("CREATE TABLE snap AS SELECT * FROM aws_api_gateway_rest_api; SELECT count(*) FROM snap")
    assert [(e.region, e.code) for e in result.errors] == [("eu-west-1", "AccessDeniedException")]


# ---- markdown ------------------------------------------------------------------------------------

HOSTILE = "<img src=x onerror=alert(1)>|pwned [link](javascript:alert(2))"


@pytest.fixture()
def hostile_api(sandbox) -> Iterator[str]:
    client = boto3.client("apigateway", region_name=TEST_REGION, endpoint_url=sandbox.endpoint_url)
    api_id = client.create_rest_api(name=HOSTILE, description="a | b")["id"]
    yield api_id
    client.delete_rest_api(restApiId=api_id)


def _cells(line: str) -> list[str]:
    """The cells of a markdown table row, split at the pipes that are not escaped."""
    import re

    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def test_markdown_query_output_escapes_html_and_pipes(cli, hostile_api):
    code, out, _ = cli("query", "SELECT name, api_id, description FROM aws_api_gateway_rest_api", "-o", "markdown",
                       regions=TEST_REGION)
    assert code == 0
    header, rule, row = out.splitlines()
    assert len(_cells(row)) == len(_cells(header)) == 3  # no cell break from the name
    assert "<img" not in out and "](" not in out.replace("\\](", "")
    assert _cells(row)[0] == "&lt;img src=x onerror=alert(1)&gt;\\|pwned \\[link\\](javascript:alert(2))"


def test_markdown_check_report_escapes_html_and_pipes(cli, hostile_api, tmp_path):
    code, out, _ = cli("check", "apigateway_rest_api_authorizers_configured", "apigateway_rest_api_endpoint_private",
                       "-o", "markdown", "--export", str(tmp_path / "r.md"), regions=TEST_REGION)
    assert code in (0, 1, 2)
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;\\|pwned" in out
    assert (tmp_path / "r.md").read_text() == out
    header, _, *rows = out.splitlines()
    assert rows and all(len(_cells(r)) == len(_cells(header)) for r in rows)


# ---- whole messages ------------------------------------------------------------------------------

def test_sqlglot_fallback_notice_does_not_reach_stderr():
    proc = _cli_process("query", "LOAD json; CALL pragma_version()", "-o", "csv")
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout.startswith("library_version")


@pytest.mark.parametrize("sql, advice", [
    ("SET custom_extension_repository = 'http://127.0.0.1:9'; INSTALL spatial",
     "cannot install the DuckDB extension spatial: the download failed (Could not establish connection); "
     "on a machine without internet access, copy spatial.duckdb_extension into DuckDB's extension directory"),
    ("SET autoinstall_extension_repository = 'http://127.0.0.1:9'; "
     "SELECT * FROM read_parquet('https://127.0.0.1:9/x.parquet')",
     "cannot install the DuckDB extension httpfs: the download failed (Could not establish connection)"),
])
def test_offline_extension_errors_are_whole_sentences(cli, sql, advice):
    code, out, err = cli("query", sql)
    assert code == 3 and err.startswith(f"error: {advice}") and err.count("\n") == 1


def test_a_missing_s3_log_source_gets_a_hint_about_the_source(cli):
    code, out, err = cli("query", "--cloudtrail-logs", "s3://no-such-trail-bucket/AWSLogs",
                         "SELECT count(*) AS n FROM aws_cloudtrail_log", "-o", "csv")
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning: ")]
    assert warnings and all("check the bucket and prefix given with --cloudtrail-logs" in w for w in warnings), err
    assert "other regions" not in err


ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def log_folder(tmp_path_factory) -> Path:
    from apigw_sql.cloudtrail.layout import log_file_key
    from apigw_sql.cloudtrail.synthetic import synthetic_records, write_log_file

    root = tmp_path_factory.mktemp("header-logs")
    start = datetime.now(timezone.utc) - timedelta(days=1)
    records = synthetic_records(random.Random(3), ACCOUNT, "eu-west-1", start, timedelta(minutes=5), 100)
    write_log_file(root / log_file_key(ACCOUNT, "eu-west-1", start + timedelta(hours=1), "HEADER1"), records)
    return root


def test_check_header_names_no_empty_region_for_local_logs(cli, log_folder):
    code, out, _ = cli("check", "cloudtrail_activity", "--cloudtrail-logs", str(log_folder))
    header = out.splitlines()[0]
    assert code in (0, 1) and "; ," not in header and ", ;" not in header
    assert "eu-west-1" in header


# ---- exports -------------------------------------------------------------------------------------

def test_an_unwritable_export_fails_before_the_run(cli, tmp_path):
    code, out, err = cli("check", "apigateway", "--export", str(tmp_path / "missing" / "report.html"))
    assert code == 3 and out == ""  # no report printed: nothing was run
    assert err.splitlines() == [f"error: --export {tmp_path / 'missing' / 'report.html'}: the folder "
                                f"{tmp_path / 'missing'} does not exist: create it or pick another path"]


def test_a_failed_export_leaves_the_previous_report_whole(sandbox, tmp_path):
    """A write that fails midway (here: the file size limit, as a full disk would) keeps the old report."""
    report = tmp_path / "report.html"
    report.write_text("<html>the previous report</html>")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # Python ignores SIGXFSZ: writes fail with EFBIG

    proc = _cli_process("check", "apigateway", "--export", str(report), "--endpoint-url", sandbox.endpoint_url,
                        "--regions", "us-east-1", "--max-attempts", "1", "--no-rate-limit",
                        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, preexec_fn=small_files)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(f"error: cannot write {report}: File too large")
    assert report.read_text() == "<html>the previous report</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary file left behind


def test_an_export_replaces_the_previous_report(cli, tmp_path):
    report = tmp_path / "report.json"
    report.write_text("old")
    os.chmod(report, 0o640)
    code, _, err = cli("check", "apigateway_rest_api_endpoint_private", "--export", str(report), "-o", "json")
    assert code in (0, 1) and f"wrote {report} (json)" in err
    assert isinstance(json.loads(report.read_text()), list) and (report.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
