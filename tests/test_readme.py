"""The README's examples run: its query commands against the sandbox, and its two set-up commands exist."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    block = re.search(r"## Try it.*?```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci


QUERIES = [shlex.split(line)[-1] for line in README.splitlines() if line.startswith("apigw-sql query --sandbox ")]


@pytest.mark.parametrize("sql", QUERIES)
def test_readme_query_examples_run(connect, sql):
    result = connect().sql(sql)
    assert result.errors == [] and len(result) > 0


def test_readme_join_example_runs(connect, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("owners.csv").write_text("api_name,team\norders-api,shop\n")
    block = re.search(r"```sql\n(SELECT a.name, o.team.*?;)", README, re.S).group(1)
    rows = connect().sql(block).rows
    names = {r[0] for r in rows}
    assert "orders-api" not in names and "payments-api" in names


def test_readme_fetch_log_example_runs(connect):
    con = connect()
    con.sql("SELECT * FROM aws_api_gateway_stage")
    block = re.search(r"```sql\n(SELECT table_name, operation.*?;)", README, re.S).group(1)
    rows = con.sql(block).rows
    assert ("aws_api_gateway_stage", "GetStages") in {r[:2] for r in rows}


CONTROL_FILES = [line.split()[3] for line in README.splitlines() if line.startswith("apigw-sql query -f queries/")]


@pytest.mark.parametrize("path", CONTROL_FILES)
def test_readme_control_file_runs_as_plain_sql(connect, path):
    sql = (Path(__file__).resolve().parent.parent / path).read_text()
    result = connect().sql(sql)
    assert result.columns[:5] == ["resource", "status", "reason", "account_id", "region"] and len(result) > 0


def test_readme_check_examples_name_real_benchmarks_and_options():
    from apigw_sql.cli import build_parser

    parser = build_parser()
    lines = [line.split("#")[0].split(">")[0].strip() for line in README.splitlines()
             if line.startswith("apigw-sql check ") or line.startswith("apigw-sql controls ")]
    assert len(lines) >= 4
    for line in lines:
        args = parser.parse_args(shlex.split(line)[1:])  # exits (SystemExit) on an unknown option
        assert args.command in ("check", "controls")


def test_readme_mutelist_example_mutes_the_dev_stages(connect, tmp_path):
    from datetime import date

    from apigw_sql.controls import CheckOptions, check

    block = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    mutes = tmp_path / "mutes.toml"
    mutes.write_text(block)  # its account is the sandbox's demo account
    xray = "apigateway_stage_xray_tracing_enabled"
    report = check(connect(), CheckOptions(names=[xray], mutelist=str(mutes)), today=date(2026, 1, 1))
    alarms = [f for f in report.findings if f.status == "alarm"]
    muted = [f for f in alarms if f.muted]
    assert muted and all(f.resource.endswith("/stages/dev") for f in muted)
    assert {f.mute_reason for f in muted} == {"Dev stages do not trace, by decision SEC-1234."}
    assert any(not f.muted for f in alarms)  # the other stages without tracing still alarm
    assert report.warnings == []


SNAPSHOT_BLOCK = re.search(r"### Snapshots and diffs.*?```sh\n(.*?)```", README, re.S).group(1)
SNAPSHOT_COMMANDS = [line.split("#")[0].split(">")[0].strip() for line in SNAPSHOT_BLOCK.splitlines() if line.strip()]


def test_readme_snapshot_commands_name_real_options():
    from apigw_sql.cli import build_parser

    parser = build_parser()
    assert {shlex.split(c)[1] for c in SNAPSHOT_COMMANDS} == {"collect", "query", "check", "diff"}
    for command in SNAPSHOT_COMMANDS:
        parser.parse_args(shlex.split(command)[1:])  # exits (SystemExit) on an unknown option


def test_readme_snapshot_example_runs(sandbox, tmp_path):
    """The first two commands, the sandbox's endpoint in place of --sandbox: collect, then query the snapshot."""
    import os
    import subprocess
    import sys

    collect, query = (shlex.split(c)[1:] for c in SNAPSHOT_COMMANDS[:2])
    assert "--sandbox" in collect and "--snapshot" in query
    endpoint = ["--endpoint-url", sandbox.endpoint_url, "--regions", ",".join(sandbox.regions), "--no-rate-limit"]
    collect = [a for a in collect if a != "--sandbox"] + endpoint

    def run(args):
        return subprocess.run([sys.executable, "-m", "apigw_sql.cli", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=dict(os.environ), timeout=300)

    assert run(collect).returncode == 0
    done = run(query + ["-o", "csv"])
    assert done.returncode == 0 and "orders-api" in done.stdout, done.stderr
