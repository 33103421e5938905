"""`param` pushdown (customer_id -> GetApiKeys customerId): one call per value only while that is cheaper.

Calls are counted in apigw_sql_fetch_log; every query is also answered with pushdown off, and the rows must
be the same, since DuckDB applies the WHERE whatever was fetched.
"""
from __future__ import annotations

import pytest

from apigw_sql.fetch import MAX_PARAM_COMBINATIONS

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

CUSTOMERS = ("param-acme", "param-globex", "param-initech")


@pytest.fixture(scope="module")
def keys(sandbox):
    client = sandbox.client("apigateway", TEST_REGION)
    made = [client.create_api_key(name=f"{customer}-key", enabled=True, customerId=customer)["id"]
            for customer in CUSTOMERS]
    client.create_api_key(name="param-no-customer-key", enabled=True)
    made.append(client.get_api_keys(nameQuery="param-no-customer-key")["items"][0]["id"])
    yield made
    for key in made:
        client.delete_api_key(apiKey=key)


def _calls(con) -> list[str]:
    """The params of every GetApiKeys call this session sent to TEST_REGION, in order."""
    rows = con.sql("SELECT params FROM apigw_sql_fetch_log WHERE operation = 'GetApiKeys' "
                   f"AND region = '{TEST_REGION}' ORDER BY seq").rows
    return [r[0] for r in rows]


def _in_list(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _same_rows_without_pushdown(connect, sql: str, rows) -> None:
    off = connect(regions=[TEST_REGION], pushdown_enabled=False)
    assert sorted(off.sql(sql).rows, key=repr) == sorted(rows, key=repr)


def test_a_short_in_list_makes_one_call_per_value(connect, keys):
    con = connect(regions=[TEST_REGION])
    sql = f"SELECT name, customer_id FROM aws_api_gateway_api_key WHERE customer_id IN ({_in_list(CUSTOMERS[:2])})"
    rows = con.sql(sql).rows
    assert sorted(rows) == [("param-acme-key", "param-acme"), ("param-globex-key", "param-globex")]
    assert sorted(_calls(con)) == ['{"customerId": "param-acme"}', '{"customerId": "param-globex"}']
    _same_rows_without_pushdown(connect, sql, rows)


def test_a_long_in_list_fetches_unfiltered_once(connect, keys):
    # 2,000 values once cost 2,000 calls per region; above the cap the unit lists the keys once.
    values = [*CUSTOMERS, *(f"param-nobody-{i}" for i in range(1997))]
    con = connect(regions=[TEST_REGION])
    sql = f"SELECT name, customer_id FROM aws_api_gateway_api_key WHERE customer_id IN ({_in_list(values)})"
    rows = con.sql(sql).rows
    assert sorted(r[1] for r in rows) == sorted(CUSTOMERS)
    assert _calls(con) == ["{}"]
    _same_rows_without_pushdown(connect, sql, rows)


def test_the_cap_is_where_unfiltered_starts(connect, keys):
    values = [*CUSTOMERS, *(f"param-nobody-{i}" for i in range(MAX_PARAM_COMBINATIONS))]
    at_cap, above_cap = values[:MAX_PARAM_COMBINATIONS], values[:MAX_PARAM_COMBINATIONS + 1]
    con = connect(regions=[TEST_REGION], ttl=0)  # nothing reused between the two queries
    con.sql(f"SELECT id FROM aws_api_gateway_api_key WHERE customer_id IN ({_in_list(at_cap)})")
    assert len(_calls(con)) == MAX_PARAM_COMBINATIONS
    con = connect(regions=[TEST_REGION], ttl=0)
    con.sql(f"SELECT id FROM aws_api_gateway_api_key WHERE customer_id IN ({_in_list(above_cap)})")
    assert _calls(con) == ["{}"]


def test_a_fresh_unfiltered_listing_is_reused(connect, keys):
    con = connect(regions=[TEST_REGION])
    everything = con.sql("SELECT id FROM aws_api_gateway_api_key").rows
    assert {k for (k,) in everything} >= set(keys)
    sql = f"SELECT name FROM aws_api_gateway_api_key WHERE customer_id IN ({_in_list(CUSTOMERS[:2])})"
    rows = con.sql(sql).rows
    assert _calls(con) == ["{}"]  # the second query made no call
    assert sorted(rows) == [("param-acme-key",), ("param-globex-key",)]


def test_values_cost_more_than_a_stale_listing_of_one_page(connect, keys):
    con = connect(regions=[TEST_REGION], ttl=0)  # every answer is stale at once: its page count is still known
    con.sql("SELECT id FROM aws_api_gateway_api_key")
    sql = f"SELECT name FROM aws_api_gateway_api_key WHERE customer_id IN ({_in_list(CUSTOMERS[:2])})"
    rows = con.sql(sql).rows
    assert _calls(con) == ["{}", "{}"]  # two values would be two calls; the listing is one page
    assert sorted(rows) == [("param-acme-key",), ("param-globex-key",)]

