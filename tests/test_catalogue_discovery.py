"""The catalogue is discoverable the way BI tools and people look for tables (SHOW TABLES,
information_schema, duckdb_tables()) before anything is fetched, and still fetched when a query reads it."""
from __future__ import annotations


import pytest

from apigw_sql.catalog import load_catalog

CATALOG = set(load_catalog())


def _names(result) -> set[str]:
    return {row[0] for row in result.rows}


@pytest.mark.parametrize("sql", [
    "SHOW TABLES",
    "SELECT table_name FROM information_schema.tables",
    "SELECT table_name FROM duckdb_tables()",
    "SELECT DISTINCT table_name FROM information_schema.columns",
])
def test_a_new_connection_lists_the_whole_catalogue_without_a_call(connect, sql):
    con = connect()
    assert _names(con.sql(sql)) >= CATALOG
    assert con.fetch_log == []


def test_columns_types_and_descriptions_are_there_before_any_fetch(connect):
    con = connect()
    rows = con.sql("SELECT column_name, data_type FROM information_schema.columns "
                   "WHERE table_name = 'aws_api_gateway_stage' ORDER BY ordinal_position").rows
    spec = load_catalog()["aws_api_gateway_stage"]
    assert [name for name, _ in rows] == [c.name for c in spec.columns]
    assert dict(rows)["tracing_enabled"] == "BOOLEAN"
    comments = dict(con.sql("SELECT table_name, comment FROM duckdb_tables()").rows)
    assert comments["aws_api_gateway_stage"] == spec.description
    assert con.sql("SELECT * FROM information_schema.columns").rows and con.fetch_log == []


def test_reading_a_listed_table_still_fetches_it(connect):
    con = connect()
    assert "aws_api_gateway_rest_api" in con.uses("SELECT * FROM aws_api_gateway_rest_api")
    assert "aws_api_gateway_rest_api" in con.uses("SELECT * FROM main.aws_api_gateway_rest_api")  # as BI tools write it
    count = con.sql("SELECT count(*) FROM aws_api_gateway_rest_api").rows[0][0]
    assert count > 0 and {r.operation for r in con.fetch_log} >= {"GetRestApis"}
    # Its description survives the load that replaced the placeholder.
    comments = dict(con.sql("SELECT table_name, comment FROM duckdb_tables()").rows)
    assert comments["aws_api_gateway_rest_api"] == load_catalog()["aws_api_gateway_rest_api"].description


def test_a_user_table_beside_the_catalogue_is_still_a_user_table(connect):
    con = connect()
    con.sql("CREATE TABLE my_owners AS SELECT 'orders-api' AS api_name")
    assert con.uses("SELECT * FROM my_owners") == {}
    with pytest.raises(Exception, match="unknown table 'aws_api_gateway_stag'.*did you mean aws_api_gateway_stage"):
        con.sql("SELECT * FROM aws_api_gateway_stag")
