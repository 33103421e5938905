"""The engine's promises: laziness, region narrowing, the read-only guard, caching and errors."""
from __future__ import annotations

import pytest

import apigw_sql
from apigw_sql.engine import QueryError
from apigw_sql.fetch import ReadOnlyViolation


def calls(con, since: int = 0) -> list:
    return [r for r in con.fetch_log[since:] if r.table != "(session)"]


def test_query_fetches_only_the_tables_it_references(connect):
    con = connect()
    con.sql("SELECT name FROM aws_api_gateway_rest_api")
    tables = {r.table for r in calls(con)}
    assert tables == {"aws_api_gateway_rest_api"}
    assert {r.operation for r in calls(con)} == {"GetRestApis"}


def test_where_region_touches_one_region(connect, sandbox):
    con = connect()
    rows = con.sql("SELECT DISTINCT region FROM aws_api_gateway_stage WHERE region = 'eu-west-1'").rows
    assert rows == [("eu-west-1",)]
    assert {r.region for r in calls(con)} == {"eu-west-1"}
    assert {r.operation for r in calls(con)} == {"GetRestApis", "GetStages"}


def test_child_pushdown_fetches_one_apis_children(connect):
    con = connect()
    api_id, region = con.sql("SELECT api_id, region FROM aws_api_gateway_rest_api ORDER BY name LIMIT 1").rows[0]
    before = len(con.fetch_log)
    con.sql(f"SELECT name FROM aws_api_gateway_stage WHERE rest_api_id = '{api_id}'")
    stage_calls = [r for r in calls(con, before) if r.operation == "GetStages"]
    assert len(stage_calls) == 1 and api_id in stage_calls[0].params


def test_fetch_log_is_queryable(connect):
    con = connect()
    con.sql("SELECT * FROM aws_api_gateway_rest_api WHERE region = 'us-east-1'")
    rows = con.sql("SELECT table_name, operation, region FROM apigw_sql_fetch_log "
                   "WHERE table_name = 'aws_api_gateway_rest_api'").rows
    assert rows == [("aws_api_gateway_rest_api", "GetRestApis", "us-east-1")]


def test_cache_reuses_calls_within_ttl_and_refresh_clears_it(connect):
    con = connect()
    con.sql("SELECT * FROM aws_api_gateway_rest_api")
    n = len(con.fetch_log)
    again = con.sql("SELECT * FROM aws_api_gateway_rest_api")
    assert len(con.fetch_log) == n and again.calls == 0 and again.cache_hits > 0
    con.refresh("aws_api_gateway_rest_api")
    con.sql("SELECT * FROM aws_api_gateway_rest_api")
    assert len(con.fetch_log) > n


def test_ttl_zero_refetches(connect):
    con = connect(ttl=0)
    con.sql("SELECT * FROM aws_api_gateway_rest_api")
    n = len(con.fetch_log)
    con.sql("SELECT * FROM aws_api_gateway_rest_api")
    assert len(con.fetch_log) == 2 * n - 1  # everything again but the session's GetCallerIdentity


def test_read_only_guard_refuses_writes_and_secret_values(connect):
    con = connect()
    target = con.fetcher.targets()[0]
    client = con.fetcher.client(target, "apigateway", "us-east-1")
    with pytest.raises(ReadOnlyViolation, match="CreateRestApi"):
        client.create_rest_api(name="should-not-exist")
    with pytest.raises(ReadOnlyViolation, match="includeValues"):
        client.get_api_keys(includeValues=True)
    assert con.sql("SELECT count(*) FROM aws_api_gateway_rest_api WHERE name = 'should-not-exist'").rows == [(0,)]


def test_access_denied_in_one_region_answers_the_rest(connect, sandbox):
    sandbox.add_fault(service="apigateway", region="eu-west-1", code="AccessDeniedException", status=403,
                      message="User is not authorized to perform: apigateway:GET")
    try:
        con = connect()
        result = con.sql("SELECT DISTINCT region FROM aws_api_gateway_rest_api")
        assert ("us-east-1",) in result.rows and ("eu-west-1",) not in result.rows
        [err] = result.errors
        assert (err.region, err.code, err.table) == ("eu-west-1", "AccessDeniedException", "aws_api_gateway_rest_api")
        assert "warning: aws_api_gateway_rest_api" in err.line() and "--regions" in err.line()
        logged = con.sql("SELECT region, error_code FROM apigw_sql_fetch_log WHERE error_code IS NOT NULL").rows
        assert logged == [("eu-west-1", "AccessDeniedException")]
    finally:
        sandbox.clear_faults()
    # A failed fetch is never cached as empty: the same session sees the region once it answers.
    assert ("eu-west-1",) in con.sql("SELECT DISTINCT region FROM aws_api_gateway_rest_api").rows


def test_throttling_past_the_retries_is_reported_with_retry_count(connect, sandbox):
    # Throttled calls are retried until max_wait, whatever max_attempts says; only then reported failed.
    sandbox.add_fault(service="apigateway", region="us-east-1", operation="GetRestApis",
                      code="TooManyRequestsException", status=429, message="Rate exceeded")
    try:
        con = connect(max_attempts=1, max_wait=1.0, regions=["us-east-1"])
        result = con.sql("SELECT * FROM aws_api_gateway_rest_api")
        assert len(result) == 0
        [err] = result.errors
        assert err.code == "TooManyRequestsException" and "throttled" in err.hint
        [record] = calls(con)
        assert record.throttled_retries >= 2 and record.error_code == "TooManyRequestsException"
    finally:
        sandbox.clear_faults()


def test_throttling_within_the_retries_succeeds(connect, sandbox):
    sandbox.add_fault(service="apigateway", region="us-east-1", operation="GetRestApis",
                      code="TooManyRequestsException", status=429, count=1)
    try:
        con = connect(max_attempts=1, regions=["us-east-1"])  # a throttle is not a failed attempt
        result = con.sql("SELECT * FROM aws_api_gateway_rest_api")
        assert len(result) > 0 and result.errors == [] and result.throttled == 1
    finally:
        sandbox.clear_faults()


def test_unreachable_endpoint_is_one_clear_error():
    con = apigw_sql.connect(endpoint_url="http://127.0.0.1:9", regions=["us-east-1"], max_attempts=1)
    with pytest.raises(QueryError, match="cannot reach AWS STS"):
        con.sql("SELECT * FROM aws_api_gateway_rest_api")


@pytest.mark.parametrize("sql, message", [
    ("SELEC name FROM aws_api_gateway_rest_api", "line 1, column 1"),
    ("SELECT name FROM aws_api_gateway_rest_apis", "did you mean aws_api_gateway_rest_api"),
    ("SELECT * FROM 'no-such-owners.csv'", "No files found"),
    ("SELECT no_such_column FROM apigw_sql_tables", "no_such_column"),
    ("", "empty query"),
])
def test_user_errors_are_one_line(connect, sql, message):
    con = connect()
    with pytest.raises(QueryError) as info:
        con.sql(sql)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_ctes_files_and_views_are_not_fetched_as_tables(connect, tmp_path):
    owners = tmp_path / "owners.csv"
    owners.write_text("api_name,team\norders-api,shop\n")
    con = connect()
    con.sql("CREATE VIEW eu_apis AS SELECT name FROM aws_api_gateway_rest_api WHERE region = 'eu-west-1'")
    n = len(con.fetch_log)
    rows = con.sql(f"WITH aws_api_gateway_stage AS (SELECT 1 AS x) SELECT o.team, x FROM '{owners}' o, "
                   "aws_api_gateway_stage").rows
    assert rows == [("shop", 1)] and len(con.fetch_log) == n
    # Reading the view fetches what the view reads.
    con.refresh()
    con.sql("SELECT * FROM eu_apis")
    assert {r.table for r in calls(con, n)} == {"aws_api_gateway_rest_api"}


def test_python_api_returns_rows_and_arrow(connect):
    con = connect()
    result = con.sql("SELECT name, region FROM aws_api_gateway_rest_api ORDER BY name")
    assert result.columns == ["name", "region"]
    assert result.arrow().num_rows == len(result.rows) > 0
    assert result.dicts()[0].keys() == {"name", "region"}


def test_regions_default_to_every_enabled_region(connect, sandbox):
    con = connect(regions=None)
    con.sql("SELECT * FROM aws_api_gateway_rest_api")
    described = [r for r in con.fetch_log if r.operation == "DescribeRegions"]
    regions = {r.region for r in con.fetch_log if r.operation == "GetRestApis"}
    assert len(described) == 1 and {"us-east-1", "eu-west-1", "ap-southeast-2"} <= regions
    assert len(regions) >= 15


def test_regions_fall_back_to_botocore_when_describe_regions_is_denied(connect, sandbox):
    sandbox.add_fault(service="ec2", operation="DescribeRegions", code="UnauthorizedOperation", status=403)
    try:
        con = connect(regions=None)
        result = con.sql("SELECT DISTINCT region FROM aws_api_gateway_rest_api")
    finally:
        sandbox.clear_faults()
    regions = {r.region for r in con.fetch_log if r.operation == "GetRestApis"}
    assert {"us-east-1", "eu-west-1"} <= regions and len(regions) >= 15
    assert ("eu-west-1",) in result.rows


def test_aws_endpoint_url_is_honoured(sandbox, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
    con = apigw_sql.connect(regions=["us-east-1"], max_attempts=1)
    assert len(con.sql("SELECT * FROM aws_api_gateway_rest_api")) > 0
    con.close()


def test_unchanged_tables_are_not_rebuilt_and_changed_ones_are(connect):
    con = connect()

    def oid() -> int:
        return con.duck.execute("SELECT table_oid FROM duckdb_tables() "
                                "WHERE table_name = 'aws_api_gateway_rest_api'").fetchall()[0][0]

    n = con.sql("SELECT count(*) FROM aws_api_gateway_rest_api").rows[0][0]
    first = oid()
    con.sql("SELECT name FROM aws_api_gateway_rest_api")
    assert oid() == first  # the same cached calls: the DuckDB copy is reused
    # A narrower query builds the table from fewer calls, so the copy is rebuilt to match.
    eu = con.sql("SELECT count(*) FROM aws_api_gateway_rest_api WHERE region = 'eu-west-1'").rows[0][0]
    assert oid() != first and 0 < eu < n
    assert con.sql("SELECT count(*) FROM aws_api_gateway_rest_api").rows[0][0] == n
    # A statement that changes the loaded copy makes the next query rebuild it.
    con.sql("DELETE FROM aws_api_gateway_rest_api")
    assert con.sql("SELECT count(*) FROM aws_api_gateway_rest_api").rows[0][0] == n
