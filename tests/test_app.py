"""The application core the front ends share: connection options, describing a table, front ends by name."""
from __future__ import annotations

import pytest

import apigw_sql
from apigw_sql.app import ConnectionOptions, connection_options, describe_table, front_end, open_connection
from apigw_sql.catalog import load_catalog
from apigw_sql.cli import build_parser, main


def test_connect_takes_one_options_record_or_its_fields_as_keywords() -> None:
    by_record = apigw_sql.connect(ConnectionOptions(regions=["eu-west-1"], ttl=5, pushdown_enabled=False))
    by_keywords = apigw_sql.connect(regions=["eu-west-1"], ttl=5, pushdown_enabled=False)
    try:
        assert by_record.options == by_keywords.options
        assert by_record.config.ttl == 5 and by_record.config.regions == ["eu-west-1"]
        assert not by_record.pushdown_enabled
    finally:
        by_record.close()
        by_keywords.close()
    with pytest.raises(TypeError, match="not both"):
        apigw_sql.connect(ConnectionOptions(), ttl=5)
    with pytest.raises(TypeError, match="ttll"):
        apigw_sql.connect(ttll=5)
    with pytest.raises(ValueError, match="open_connection"):
        apigw_sql.connect(sandbox=True)  # the sandbox's lifetime belongs to app.open_connection


def test_the_cli_flags_become_the_same_options_and_bad_ones_are_usage_errors() -> None:
    args = build_parser().parse_args(["query", "--regions", "us-east-1,eu-west-1", "--ttl", "9", "--no-rate-limit",
                                      "--max-wait", "3", "SELECT 1"])
    assert connection_options(args) == ConnectionOptions(regions=["us-east-1", "eu-west-1"], ttl=9, max_wait=3,
                                                         rate_limit=False)
    args.max_attempts = 0
    with pytest.raises(apigw_sql.app.UsageError, match="--max-attempts"):
        connection_options(args)


def test_open_connection_points_a_sandbox_session_at_it_and_stops_it(capsys: pytest.CaptureFixture[str]) -> None:
    opened = []
    with open_connection(ConnectionOptions(sandbox=True, regions=["us-east-1"]), registry=opened) as con:
        assert opened == [con] and con.config.endpoint_url.startswith("http://127.0.0.1:")
        assert not con.config.rate_limit
        assert con.sql("SELECT count(*) FROM aws_api_gateway_rest_api").rows[0][0] > 0
    assert opened == []


def test_inspect_prints_what_describe_table_says(capsys: pytest.CaptureFixture[str]) -> None:
    described = describe_table(load_catalog()["aws_api_gateway_stage"])
    assert main(["inspect", "aws_api_gateway_stage"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\n".join(described.heading) + "\n")
    assert all(row[0] in out for row in described.rows) and "rest_api_id" in out
    assert [row[2] for row in described.rows if row[0] == "rest_api_id"] == ["yes"]


def test_a_mistyped_table_gets_the_one_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "aws_api_gateway_stag"]) == 3
    assert capsys.readouterr().err.strip().startswith("error: unknown table 'aws_api_gateway_stag'; did you mean "
                                                      "aws_api_gateway_stage, ")


def test_front_ends_are_found_by_name() -> None:
    from apigw_sql.demo import run_demo
    from apigw_sql.shell import run_shell

    assert front_end("shell") is run_shell and front_end("demo") is run_demo
