"""Pushdown: what is pushed (a table of cases), and that it never changes a result."""
from __future__ import annotations

import pytest

# (query, table, expected constraints on that table): the analyzer's decisions, read as a table.
CASES = [
    ("SELECT * FROM aws_api_gateway_stage WHERE region = 'eu-west-1'",
     "aws_api_gateway_stage", {"region": {"eu-west-1"}}),
    ("SELECT * FROM aws_api_gateway_stage WHERE 'eu-west-1' = region AND tracing_enabled",
     "aws_api_gateway_stage", {"region": {"eu-west-1"}}),
    ("SELECT * FROM aws_api_gateway_stage s WHERE s.region IN ('eu-west-1', 'us-east-1')",
     "aws_api_gateway_stage", {"region": {"eu-west-1", "us-east-1"}}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region = 'eu-west-1' AND region IN ('eu-west-1', 'us-east-1')",
     "aws_api_gateway_stage", {"region": {"eu-west-1"}}),
    ("SELECT * FROM aws_api_gateway_stage WHERE rest_api_id = 'abc' AND (region = 'x' OR tracing_enabled)",
     "aws_api_gateway_stage", {"rest_api_id": {"abc"}}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region = 'eu-west-1' OR region = 'us-east-1'",
     "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_stage WHERE NOT region = 'eu-west-1'", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region <> 'eu-west-1'", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region NOT IN ('eu-west-1')", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region LIKE 'eu-%'", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_stage WHERE tracing_enabled = true", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_rest_api a LEFT JOIN aws_api_gateway_stage s "
     "ON s.rest_api_id = a.api_id AND s.region = 'eu-west-1'", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_rest_api a LEFT JOIN aws_api_gateway_stage s "
     "ON s.rest_api_id = a.api_id WHERE s.region = 'eu-west-1'", "aws_api_gateway_stage", {"region": {"eu-west-1"}}),
    ("SELECT * FROM aws_api_gateway_rest_api a JOIN aws_api_gateway_stage s ON s.rest_api_id = a.api_id "
     "WHERE region = 'eu-west-1'", "aws_api_gateway_stage", {}),  # ambiguous: not ours to push
    ("SELECT * FROM aws_api_gateway_stage WHERE region = 'eu-west-1' UNION ALL "
     "SELECT * FROM aws_api_gateway_stage", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region = 'eu-west-1' UNION ALL "
     "SELECT * FROM aws_api_gateway_stage WHERE region = 'us-east-1'",
     "aws_api_gateway_stage", {"region": {"eu-west-1", "us-east-1"}}),
    ("WITH eu AS (SELECT * FROM aws_api_gateway_stage WHERE region = 'eu-west-1') SELECT * FROM eu",
     "aws_api_gateway_stage", {"region": {"eu-west-1"}}),
    ("SELECT * FROM (SELECT * FROM aws_api_gateway_stage) t WHERE t.region = 'eu-west-1'",
     "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_rest_api WHERE api_id IN "
     "(SELECT rest_api_id FROM aws_api_gateway_stage WHERE region = 'us-east-1')",
     "aws_api_gateway_stage", {"region": {"us-east-1"}}),
    ("SELECT * FROM aws_api_gateway_stage AS s(a, b) WHERE b = 'x'", "aws_api_gateway_stage", {}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region = lower('EU-WEST-1')",
     "aws_api_gateway_stage", {"region": {"eu-west-1"}}),
    ("SELECT * FROM aws_api_gateway_stage WHERE region = getvariable('no_such_variable')",
     "aws_api_gateway_stage", {}),
]


@pytest.mark.parametrize("sql, table, expected", CASES)
def test_what_is_pushed(connect, sql, table, expected):
    assert connect().uses(sql)[table].constraints == expected


@pytest.fixture(scope="module")
def ids(sandbox):
    import apigw_sql

    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=list(sandbox.regions), max_attempts=1,
                            rate_limit=False)
    rest = [r[0] for r in con.sql("SELECT api_id FROM aws_api_gateway_rest_api ORDER BY name").rows]
    v2 = [r[0] for r in con.sql("SELECT api_id FROM aws_api_gatewayv2_api ORDER BY name").rows]
    domains = [r[0] for r in con.sql("SELECT domain_name FROM aws_api_gateway_domain_name ORDER BY 1").rows]
    con.close()
    assert len(rest) >= 3 and len(v2) >= 2 and domains
    return {"r0": rest[0], "r1": rest[1], "r2": rest[2], "v0": v2[0], "v1": v2[1], "d0": domains[0]}


SOUNDNESS = [
    "SELECT name, region FROM aws_api_gateway_rest_api WHERE region = 'eu-west-1'",
    "SELECT name FROM aws_api_gateway_rest_api WHERE api_id = '{r0}'",
    "SELECT name FROM aws_api_gateway_rest_api WHERE api_id IN ('{r0}', '{r1}', 'nope')",
    "SELECT name, rest_api_id FROM aws_api_gateway_stage WHERE rest_api_id = '{r0}'",
    "SELECT name FROM aws_api_gateway_stage WHERE rest_api_id = '{r0}' AND region = 'us-east-1'",
    "SELECT name FROM aws_api_gateway_stage WHERE rest_api_id = '{r0}' AND region = 'eu-west-1'",
    "SELECT name FROM aws_api_gateway_stage WHERE rest_api_id = '{r0}' OR region = 'eu-west-1'",
    "SELECT name FROM aws_api_gateway_stage WHERE NOT (rest_api_id = '{r0}')",
    "SELECT http_method, path FROM aws_api_gateway_method WHERE rest_api_id IN ('{r1}', '{r2}')",
    "SELECT m.http_method, r.path FROM aws_api_gateway_method m JOIN aws_api_gateway_resource r "
    "ON r.id = m.resource_id WHERE m.rest_api_id = '{r1}' AND r.rest_api_id = '{r1}'",
    "SELECT m.http_method, r.path FROM aws_api_gateway_method m JOIN aws_api_gateway_resource r "
    "ON r.id = m.resource_id AND r.rest_api_id = m.rest_api_id WHERE m.rest_api_id = '{r1}'",
    "SELECT a.name, s.name FROM aws_api_gateway_rest_api a LEFT JOIN aws_api_gateway_stage s "
    "ON s.rest_api_id = a.api_id AND s.region = 'eu-west-1'",
    "SELECT a.name, s.name FROM aws_api_gateway_rest_api a LEFT JOIN aws_api_gateway_stage s "
    "ON s.rest_api_id = a.api_id WHERE s.region = 'eu-west-1'",
    "SELECT a.name, s.name FROM aws_api_gateway_rest_api a FULL JOIN aws_api_gateway_stage s "
    "ON s.rest_api_id = a.api_id WHERE a.region = 'us-east-1'",
    "SELECT a.name, s.name FROM aws_api_gateway_stage s RIGHT JOIN aws_api_gateway_rest_api a "
    "ON s.rest_api_id = a.api_id WHERE s.rest_api_id = '{r0}'",
    "SELECT name FROM aws_api_gateway_rest_api WHERE api_id IN (SELECT rest_api_id FROM aws_api_gateway_stage "
    "WHERE region = 'us-east-1')",
    "SELECT name FROM aws_api_gateway_rest_api a WHERE EXISTS (SELECT 1 FROM aws_api_gateway_stage s "
    "WHERE s.rest_api_id = a.api_id AND s.region = 'eu-west-1')",
    "SELECT name FROM aws_api_gateway_rest_api a WHERE NOT EXISTS (SELECT 1 FROM aws_api_gateway_stage s "
    "WHERE s.rest_api_id = a.api_id AND s.rest_api_id = '{r0}')",
    "WITH eu AS (SELECT * FROM aws_api_gateway_stage WHERE region = 'eu-west-1') "
    "SELECT eu.name, a.name FROM eu JOIN aws_api_gateway_rest_api a ON a.api_id = eu.rest_api_id",
    "WITH s AS (SELECT * FROM aws_api_gateway_stage) SELECT name FROM s WHERE region = 'eu-west-1'",
    "SELECT region, count(*) FROM aws_api_gateway_method WHERE region = 'us-east-1' GROUP BY region",
    "SELECT name FROM aws_api_gateway_stage WHERE region = 'eu-west-1' UNION "
    "SELECT name FROM aws_api_gateway_stage WHERE rest_api_id = '{r0}'",
    "SELECT name FROM aws_api_gateway_stage WHERE region = 'eu-west-1' EXCEPT "
    "SELECT name FROM aws_api_gateway_stage WHERE region = 'us-east-1'",
    "SELECT * FROM (SELECT name, region FROM aws_api_gateway_stage) t WHERE t.region = 'eu-west-1'",
    "SELECT s1.name, s2.name FROM aws_api_gateway_stage s1 JOIN aws_api_gateway_stage s2 "
    "ON s1.rest_api_id = s2.rest_api_id WHERE s1.region = 'eu-west-1'",
    "SELECT stage_name, key, logging_level FROM aws_api_gateway_method_setting WHERE rest_api_id = '{r0}'",
    "SELECT effect, principal_is_public FROM aws_api_gateway_rest_api_policy_statement WHERE region = 'us-east-1'",
    "SELECT route_key, authorization_type FROM aws_api_gatewayv2_route WHERE api_id = '{v0}'",
    "SELECT r.route_key, i.integration_uri FROM aws_api_gatewayv2_route r LEFT JOIN aws_api_gatewayv2_integration i "
    "ON i.api_id = r.api_id AND 'integrations/' || i.integration_id = r.target WHERE r.api_id IN ('{v0}', '{v1}')",
    "SELECT stage_name FROM aws_api_gatewayv2_stage WHERE api_id = '{v1}' AND region IN ('us-east-1', 'eu-west-1')",
    "SELECT base_path, rest_api_id FROM aws_api_gateway_base_path_mapping WHERE domain_name = '{d0}'",
    "SELECT d.domain_name, m.base_path FROM aws_api_gateway_domain_name d LEFT JOIN "
    "aws_api_gateway_base_path_mapping m ON m.domain_name = d.domain_name WHERE d.region = 'us-east-1'",
    "SELECT name FROM aws_api_gateway_stage WHERE rest_api_id = '{r0}' AND rest_api_id = '{r1}'",
    "SELECT name FROM aws_api_gateway_stage WHERE region = 'no-such-region'",
    "SELECT name FROM aws_api_gateway_stage WHERE rest_api_id = 'no-such-api'",
    "SELECT name FROM aws_api_gateway_stage WHERE region = lower('EU-WEST-1')",
]


@pytest.fixture(scope="module")
def pair(sandbox):
    import apigw_sql

    opts = dict(endpoint_url=sandbox.endpoint_url, regions=list(sandbox.regions), max_attempts=1, rate_limit=False)
    on, off = apigw_sql.connect(**opts), apigw_sql.connect(pushdown_enabled=False, **opts)
    yield on, off
    on.close()
    off.close()


@pytest.mark.parametrize("template", SOUNDNESS)
def test_pushdown_never_changes_a_result(pair, ids, template):
    sql = template.format(**ids)
    on, off = pair
    with_pushdown = sorted(on.sql(sql).rows, key=repr)
    without = sorted(off.sql(sql).rows, key=repr)
    assert with_pushdown == without


def test_soundness_covers_enough_queries():
    assert len(SOUNDNESS) >= 30


def test_pushdown_saves_calls(sandbox, ids):
    import apigw_sql

    opts = dict(endpoint_url=sandbox.endpoint_url, regions=list(sandbox.regions), max_attempts=1, rate_limit=False)
    counts = {}
    for enabled in (True, False):
        con = apigw_sql.connect(pushdown_enabled=enabled, **opts)
        con.sql(f"SELECT * FROM aws_api_gateway_method WHERE rest_api_id = '{ids['r0']}' AND region = 'us-east-1'")
        counts[enabled] = [r.operation for r in con.fetch_log if r.table != "(session)"]
        con.close()
    assert counts[True].count("GetResources") == 1 and counts[True].count("GetRestApis") == 1
    assert counts[False].count("GetResources") > 1 and counts[False].count("GetRestApis") == 2
