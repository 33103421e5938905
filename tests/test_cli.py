"""The command line as a user meets it: formats, input sources, listings and one-line errors."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from apigw_sql.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def cli(sandbox, capsys):
    """Run the CLI in-process against the shared sandbox; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        args = list(argv)
        if args and args[0] in ("query", "shell"):
            args += ["--endpoint-url", sandbox.endpoint_url, "--max-attempts", "1", "--no-rate-limit"]
            if "--regions" not in args:
                args += ["--regions", ",".join(sandbox.regions)]
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


SQL = "SELECT name, region FROM aws_api_gateway_rest_api ORDER BY name LIMIT 2"


def test_query_table_output(cli):
    code, out, err = cli("query", SQL)
    assert code == 0 and "name" in out and "region" in out and "╭" in out


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "markdown"])
def test_query_machine_formats(cli, fmt):
    code, out, _ = cli("query", SQL, "--output", fmt)
    assert code == 0
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0] == ["name", "region"] and len(rows) == 3
    elif fmt == "json":
        data = json.loads(out)
        assert [set(r) for r in data] == [{"name", "region"}] * 2
    elif fmt == "jsonl":
        assert [set(json.loads(line)) for line in out.splitlines()] == [{"name", "region"}] * 2
    else:
        assert out.startswith("| name") and out.count("\n") == 4


def test_json_columns_are_objects_in_json_output(cli):
    code, out, _ = cli("query", "SELECT json_object('a', 1)::JSON AS doc", "-o", "json")
    assert code == 0 and json.loads(out) == [{"doc": {"a": 1}}]


def test_query_from_file_and_stdin(cli, tmp_path, monkeypatch):
    path = tmp_path / "q.sql"
    path.write_text("-- how many tables?\nSELECT count(*) AS n FROM apigw_sql_tables;\n")
    code, out, _ = cli("query", "-f", str(path), "-o", "csv")
    assert code == 0 and out.splitlines()[0] == "n" and int(out.splitlines()[1]) > 10
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT 41 + 1 AS answer"))
    code, out, _ = cli("query", "-", "-o", "csv")
    assert code == 0 and out.splitlines() == ["answer", "42"]


@pytest.mark.parametrize("argv, message", [
    (["query", "SELECT * FROM aws_api_gateway_stages"], "did you mean aws_api_gateway_stage"),
    (["query", "SELEC 1"], "syntax error"),
    (["query", "-f", "/no/such/file.sql"], "cannot read /no/such/file.sql"),
    (["query", "SELECT 1", "--regions", "eu_west_1"], "is not a region name"),
    (["inspect", "aws_api_gateway_stag"], "did you mean aws_api_gateway_stage"),
    (["tables", "no-such-thing"], "no table matches"),
])
def test_user_errors_exit_3_with_one_line(cli, argv, message):
    code, out, err = cli(*argv)
    assert code == 3 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_tables_and_inspect(cli):
    code, out, _ = cli("tables", "stage")
    assert code == 0 and "aws_api_gateway_stage" in out and "aws_api_gateway_rest_api " not in out
    code, out, _ = cli("inspect", "aws_api_gateway_stage")
    assert code == 0 and "rest_api_id" in out and "pushdown" in out and "examples:" in out


def test_fetch_failures_are_warnings_and_the_rest_is_answered(cli, sandbox):
    sandbox.add_fault(service="apigateway", region="eu-west-1", code="AccessDeniedException", status=403,
                      message="denied")
    try:
        code, out, err = cli("query", "SELECT DISTINCT region FROM aws_api_gateway_rest_api", "-o", "csv")
    finally:
        sandbox.clear_faults()
    assert code == 0 and "us-east-1" in out and "eu-west-1" not in out
    [line] = err.splitlines()
    assert line.startswith("warning: aws_api_gateway_rest_api: GetRestApis failed in 123456789012/eu-west-1: "
                           "AccessDeniedException")


def test_every_command_is_documented_with_an_example():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sub_parser in sub.choices.items():
        assert sub_parser.description and "Example:" in (sub_parser.epilog or ""), name


def test_no_traceback_from_a_subprocess_error():
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    proc = subprocess.run([sys.executable, "-m", "apigw_sql.cli", "query", "--regions", "us-east-1",
                           "--max-attempts", "1", "SELECT * FROM aws_api_gateway_rest_api"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "cannot reach AWS STS" in proc.stderr


def test_sandbox_command_prints_endpoint_and_environment():
    proc = subprocess.Popen([sys.executable, "-m", "apigw_sql.cli", "sandbox", "--empty"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        while "AWS_ENDPOINT_URL" not in seen:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            seen += line
        url = re.search(r"http://127\.0\.0\.1:\d+", seen).group(0)
        import boto3

        client = boto3.client("apigateway", region_name="us-east-1", endpoint_url=url)
        assert client.get_rest_apis()["items"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
