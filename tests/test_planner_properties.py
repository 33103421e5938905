"""Property tests of the planner: random SELECTs over the catalogue against the seeded sandbox.

Hypothesis builds queries with random WHERE shapes (=, IN, NOT IN, <>, OR, NOT, ranges, LIKE, IS NULL,
constants, NULLs, getvariable, IN and EXISTS subqueries) over pushdown keys and ordinary columns, on one
table, a parent-child join of any kind, a CTE, a derived table or a UNION. Two properties:

- the planner never crashes: a query either answers or fails with a QueryError that DuckDB itself
  gives for that SQL;
- pushdown never changes a result: a connection with pushdown answers exactly as one without.

The connection without pushdown fetches each table whole once and keeps it; the seeded estate does
not change during the module (CloudTrail event tables, which record the test's own calls, are left out).
Runs are derandomized, so CI sees the same queries every time.
"""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigw_sql.catalog import load_catalog
from apigw_sql.engine import QueryError

CATALOG = load_catalog()
# Tables whose rows change while the module runs (every call is a CloudTrail event) or need log files.
CATALOG_REGIONS = ("us-east-1", "eu-west-1")  # the seeded demo regions (Sandbox.regions)
CHANGING = {"aws_cloudtrail_event", "aws_cloudtrail_log", "aws_cloudtrail_lookup_event"}
TABLES = sorted(n for n in CATALOG if CATALOG[n].scope == "region" and n not in CHANGING)
COMPARABLE = {"VARCHAR", "BIGINT", "BOOLEAN", "TIMESTAMP", "DOUBLE"}
# (child, child column, parent, parent column): the joins a parent pushdown column describes.
JOINS = [(name, col.name, CATALOG[name].parent, col.pushdown_target) for name in TABLES
         for col in CATALOG[name].columns if col.pushdown == "parent" and CATALOG[name].parent in TABLES]


def columns_of(table: str) -> list[str]:
    """The pushdown keys of a table and a few ordinary columns to filter on."""
    spec = CATALOG[table]
    keys = sorted(spec.pushdown_columns)
    others = [c.name for c in spec.columns
              if c.name not in keys and c.type in COMPARABLE and c.name not in ("account_id", "partition")][:3]
    return keys + others + ["account_id"]


@pytest.fixture(scope="module")
def pair(sandbox):
    import apigw_sql

    opts = dict(endpoint_url=sandbox.endpoint_url, regions=list(sandbox.regions), max_attempts=1, rate_limit=False)
    on, off = apigw_sql.connect(**opts), apigw_sql.connect(pushdown_enabled=False, **opts)
    yield on, off
    on.close()
    off.close()


@pytest.fixture(scope="module")
def values(pair) -> dict[str, dict[str, list[str]]]:
    """table -> column -> some of its values in the estate (read without pushdown: every table whole, once)."""
    _, off = pair
    found: dict[str, dict[str, list[str]]] = {}
    for table in TABLES:
        cols = columns_of(table)
        select = ", ".join(f"list(DISTINCT CAST(\"{c}\" AS VARCHAR) ORDER BY CAST(\"{c}\" AS VARCHAR))[:5]"
                           for c in cols)
        result = off.sql(f"SELECT {select} FROM {table}")
        assert result.errors == [], [e.line() for e in result.errors]
        found[table] = {c: [v for v in (vals or []) if v is not None] for c, vals in zip(cols, result.rows[0])}
    assert found["aws_api_gateway_stage"]["rest_api_id"], "the seeded estate has stages"
    return found


def literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


class QueryBuilder:
    """Draws SQL pieces from hypothesis' `data` with the estate's values at hand."""

    def __init__(self, data: Any, values: dict[str, dict[str, list[str]]]):
        self.data = data
        self.values = values

    def draw(self, strategy: Any) -> Any:
        return self.data.draw(strategy)

    def value(self, table: str, column: str) -> str | None:
        known = self.values[table].get(column) or []
        # Mostly values the estate has, so that filters keep some rows and drop others.
        return self.draw(st.sampled_from([*known, *known, *known, "no-such-value", None]) if known
                         else st.sampled_from(["no-such-value", None, "us-east-1"]))

    def atom(self, scope: list[tuple[str, str]], depth: int) -> str:
        """One condition on a column of a table in scope: (alias, table)."""
        alias, table = self.draw(st.sampled_from(scope))
        column = self.draw(st.sampled_from(columns_of(table)))
        ref = f"{alias}.{column}" if alias else column
        kind = self.draw(st.sampled_from(
            ["eq", "eq", "eq_reversed", "in", "in", "not_in", "ne", "is_null", "is_not_null", "range", "between",
             "like", "constant", "folded", "getvariable", "in_subquery", "exists", "null_eq"]))
        v = lambda: literal(self.value(table, column))  # noqa: E731
        if kind == "eq":
            return f"{ref} = {v()}"
        if kind == "eq_reversed":
            return f"{v()} = {ref}"
        if kind in ("in", "not_in"):
            items = ", ".join(v() for _ in range(self.draw(st.integers(1, 4))))
            return f"{ref} {'NOT IN' if kind == 'not_in' else 'IN'} ({items})"
        if kind == "ne":
            return f"{ref} <> {v()}"
        if kind == "is_null":
            return f"{ref} IS NULL"
        if kind == "is_not_null":
            return f"{ref} IS NOT NULL"
        if kind == "range":
            return f"{ref} {self.draw(st.sampled_from(['<', '<=', '>', '>=']))} {v()}"
        if kind == "between":
            return f"{ref} BETWEEN {v()} AND {v()}"
        if kind == "like":
            return f"{ref} LIKE 'e%'"
        if kind == "constant":
            return self.draw(st.sampled_from(["TRUE", "FALSE", "1 = 1", "NULL", "NULL IS NULL"]))
        if kind == "folded":  # a constant expression DuckDB evaluates before the fetch
            value = self.value(table, column)
            return f"{ref} = lower(upper({literal(value)}))" if value is not None else f"{ref} = lower(NULL)"
        if kind == "getvariable":
            return f"{ref} = getvariable('no_such_variable')"
        if kind == "null_eq":
            return f"{ref} = NULL"
        other = self.draw(st.sampled_from(TABLES))
        other_column = self.draw(st.sampled_from(columns_of(other)))
        inner = self.where([("x", other)], depth + 1) if depth < 2 else ""
        if kind == "in_subquery":
            return f"{ref} IN (SELECT x.{other_column} FROM {other} x{inner})"
        correlation = f"x.{other_column} = {ref}"
        return f"{'NOT ' if self.draw(st.booleans()) else ''}EXISTS (SELECT 1 FROM {other} x WHERE {correlation}" \
               f"{' AND ' + self.expression([('x', other)], depth + 1) if depth < 2 else ''})"

    def expression(self, scope: list[tuple[str, str]], depth: int = 0) -> str:
        shape = self.draw(st.sampled_from(["atom", "atom", "and", "or", "not"] if depth < 2 else ["atom"]))
        if shape == "atom":
            return self.atom(scope, depth)
        if shape == "not":
            return f"NOT ({self.expression(scope, depth + 1)})"
        joiner = " AND " if shape == "and" else " OR "
        return "(" + joiner.join(self.expression(scope, depth + 1) for _ in range(2)) + ")"

    def key_atom(self, scope: list[tuple[str, str]]) -> str:
        """`=` or IN on a pushdown key: the filters the planner pushes (others are drawn more rarely)."""
        alias, table = self.draw(st.sampled_from(scope))
        column = self.draw(st.sampled_from(sorted(CATALOG[table].pushdown_columns)))
        ref = f"{alias}.{column}" if alias else column
        items = [literal(self.value(table, column)) for _ in range(self.draw(st.integers(1, 3)))]
        return f"{ref} = {items[0]}" if len(items) == 1 else f"{ref} IN ({', '.join(items)})"

    def where(self, scope: list[tuple[str, str]], depth: int = 0) -> str:
        """No WHERE, or top-level conjuncts (where pushdown happens) of random expressions."""
        conjuncts = [self.key_atom(scope)] if self.draw(st.booleans()) else []
        conjuncts += [self.expression(scope, depth) for _ in range(self.draw(st.integers(0, 2)))]
        return " WHERE " + " AND ".join(conjuncts) if conjuncts else ""

    def query(self) -> str:
        shape = self.draw(st.sampled_from(["single", "single", "unqualified", "join", "join", "cte", "derived",
                                           "union"]))
        if shape == "join" and JOINS:
            child, child_col, parent, parent_col = self.draw(st.sampled_from(JOINS))
            kind = self.draw(st.sampled_from(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"]))
            scope = [("c", child), ("p", parent)]
            on = f"c.{child_col} = p.{parent_col}"
            if self.draw(st.booleans()):
                on += " AND c.region = p.region"
            if self.draw(st.booleans()):
                on += f" AND {self.atom(scope, 2)}"
            return (f"SELECT c.*, p.region AS parent_region, p.{parent_col} AS parent_key FROM {child} c {kind} "
                    f"{parent} p ON {on}{self.where(scope)}")
        table = self.draw(st.sampled_from(TABLES))
        if shape == "unqualified":
            return f"SELECT * FROM {table}{self.where([('', table)])}"
        if shape == "cte":
            return (f"WITH t AS (SELECT * FROM {table}{self.where([('', table)])}) "
                    f"SELECT * FROM t{self.where([('t', table)])}")
        if shape == "derived":
            return f"SELECT * FROM (SELECT * FROM {table}{self.where([('', table)])}) t{self.where([('t', table)])}"
        if shape == "union":
            key = self.draw(st.sampled_from(columns_of(table)))
            op = self.draw(st.sampled_from(["UNION ALL", "UNION", "EXCEPT", "INTERSECT"]))
            return (f"SELECT a.{key} FROM {table} a{self.where([('a', table)])} {op} "
                    f"SELECT b.{key} FROM {table} b{self.where([('b', table)])}")
        return f"SELECT a.* FROM {table} a{self.where([('a', table)])}"


def answer(con: Any, sql: str) -> tuple[str, Any]:
    """('rows', sorted rows) or ('error', None) when the query is refused with a one-line QueryError."""
    try:
        result = con.sql(sql)
    except QueryError as refused:
        assert "\n" not in str(refused)
        return "error", None
    assert result.errors == [], [e.line() for e in result.errors]
    return "rows", sorted(result.rows, key=repr)


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_pushdown_never_changes_a_result_and_the_planner_never_crashes(pair, values, data):
    on, off = pair
    sql = QueryBuilder(data, values).query()
    on.uses(sql)  # planning alone never crashes
    with_pushdown, without = answer(on, sql), answer(off, sql)
    assert with_pushdown == without, sql
    if without[0] == "error":  # only DuckDB may refuse it: the same SQL fails on the loaded tables too
        import duckdb

        with pytest.raises(duckdb.Error):
            off.duck.execute(sql).fetchall()


def test_the_generator_reaches_every_shape_and_pushes_something(pair, values):
    """The strategy is not vacuous: over a fixed sample, filters are pushed and queries return rows."""
    on, _ = pair
    pushed = answered = 0

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def sample(data):
        nonlocal pushed, answered
        sql = QueryBuilder(data, values).query()
        uses = on.uses(sql)
        pushed += any(use.constraints for use in uses.values())
        kind, rows = answer(on, sql)
        answered += bool(kind == "rows" and rows)

    sample()
    assert pushed >= 10 and answered >= 15, (pushed, answered)


# ---- what the properties found ------------------------------------------------------------------------

@pytest.mark.parametrize("narrowing", [
    # A filter on a child's parent key keeps only some parent rows, from the very calls a whole fetch makes.
    "SELECT * FROM aws_api_gateway_method_setting WHERE stage_name = 'prod'",
    # The stage table narrowed, while the same query fetches every stage as the method settings' parent.
    "SELECT s.name FROM aws_api_gateway_stage s, aws_api_gateway_method_setting m WHERE s.rest_api_id = '{api}'",
])
def test_a_narrowed_table_is_not_reused_for_a_wider_query(connect, pair, narrowing):
    _, off = pair
    api = off.sql("SELECT rest_api_id FROM aws_api_gateway_stage ORDER BY 1 LIMIT 1").rows[0][0]
    con = connect(regions=list(CATALOG_REGIONS))
    con.sql(narrowing.format(api=api))
    for table in ("aws_api_gateway_method_setting", "aws_api_gateway_stage"):
        whole = sorted(off.sql(f"SELECT * FROM {table}").rows, key=repr)
        assert sorted(con.sql(f"SELECT * FROM {table}").rows, key=repr) == whole, table
