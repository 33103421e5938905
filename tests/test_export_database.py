"""EXPORT DATABASE writes the catalogue's data: the tables not fetched yet are fetched first (for the
session's regions), so the exported folder imports into any DuckDB as a snapshot of the estate."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


def estate_counts(sandbox, regions: list[str]) -> dict[str, int]:
    """What the sandbox holds, asked of it directly: REST APIs, their stages, v2 APIs."""
    counts = {"aws_api_gateway_rest_api": 0, "aws_api_gateway_stage": 0, "aws_api_gatewayv2_api": 0}
    for region in regions:
        rest = sandbox.client("apigateway", region)
        apis = rest.get_rest_apis(limit=500)["items"]
        counts["aws_api_gateway_rest_api"] += len(apis)
        counts["aws_api_gateway_stage"] += sum(len(rest.get_stages(restApiId=a["id"])["item"]) for a in apis)
        counts["aws_api_gatewayv2_api"] += len(sandbox.client("apigatewayv2", region).get_apis()["Items"])
    return counts


def imported(folder: Path) -> duckdb.DuckDBPyConnection:
    fresh = duckdb.connect()
    fresh.execute(f"IMPORT DATABASE '{folder}'")
    return fresh


@pytest.mark.parametrize("options", ["", " (FORMAT parquet)"])
def test_export_database_fetches_what_was_not_read_and_imports_elsewhere(connect, sandbox, tmp_path: Path,
                                                                        options: str):
    con = connect(regions=list(sandbox.regions))
    con.sql("SELECT * FROM aws_api_gateway_rest_api")  # one table read before: exported as loaded
    folder = tmp_path / "export"
    con.sql(f"EXPORT DATABASE '{folder}'{options}")
    fresh = imported(folder)
    expected = estate_counts(sandbox, list(sandbox.regions))
    assert all(expected.values())
    for table, count in expected.items():
        assert fresh.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count, table
    assert fresh.execute("SELECT count(*) FROM aws_iam_role").fetchone()[0] > 0
    fetched = {r.table for r in con.fetch_log}
    assert {"aws_api_gateway_stage", "aws_api_gatewayv2_api"} <= fetched
    # Every catalogue table is in it (log files are read by views, exported as such).
    tables = {row[0] for row in fresh.execute("SELECT table_name FROM duckdb_tables() UNION ALL "
                                              "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert set(con.catalog) <= tables


def test_export_database_reads_only_the_sessions_regions(connect, sandbox, tmp_path: Path):
    con = connect(regions=["eu-west-1"])
    con.sql(f"EXPORT DATABASE '{tmp_path / 'eu'}' (FORMAT parquet)")
    fresh = imported(tmp_path / "eu")
    regions = {row[0] for row in fresh.execute("SELECT DISTINCT region FROM aws_api_gateway_stage").fetchall()}
    assert regions == {"eu-west-1"}
    counts = estate_counts(sandbox, ["eu-west-1"])
    assert fresh.execute("SELECT count(*) FROM aws_api_gateway_stage").fetchone()[0] == counts["aws_api_gateway_stage"]
    assert {r.region for r in con.fetch_log if r.service == "apigateway"} == {"eu-west-1"}


def test_a_second_export_fetches_nothing_more(connect, tmp_path: Path):
    con = connect(regions=["eu-west-1"])
    con.sql(f"EXPORT DATABASE '{tmp_path / 'one'}'")
    calls = len(con.fetch_log)
    con.sql(f"EXPORT DATABASE '{tmp_path / 'two'}'")
    assert len(con.fetch_log) == calls
    assert (tmp_path / "two" / "aws_api_gateway_stage.csv").read_text() == \
        (tmp_path / "one" / "aws_api_gateway_stage.csv").read_text()


def test_show_tables_still_fetches_nothing(connect):
    con = connect()
    names = {row[0] for row in con.sql("SHOW TABLES").rows}
    assert set(con.catalog) <= names and con.fetch_log == []
