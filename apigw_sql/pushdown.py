"""Which catalog tables a statement reads, and which WHERE filters can narrow their fetch.

Only top-level conjuncts of a SELECT's WHERE that compare a pushdown column of a table in that
SELECT's FROM/JOIN list with literals (``=`` or ``IN``) are pushed. Filters under OR or NOT, in an
outer join's ON, or on a derived table are not. Equality is null-rejecting, so a pushed filter
can only drop rows the WHERE drops anyway, whatever the join type; DuckDB still applies the
whole WHERE, so pushdown never changes a result.

>>> from apigw_sql.catalog import load_catalog
>>> uses = analyze_statement(parse("SELECT * FROM aws_api_gateway_stage s WHERE s.region = 'eu-west-1'")[0], load_catalog())
>>> uses["aws_api_gateway_stage"].constraints
{'region': {'eu-west-1'}}
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .catalog import Catalog
from .errors import UserError


class SQLSyntaxError(UserError, ValueError):
    """The statement does not parse; the message gives line and column."""


@dataclass(frozen=True)
class Pending:
    """A constant expression (``now() - INTERVAL 7 DAY``, ``getvariable('x')``) DuckDB evaluates before the fetch."""

    sql: str


@dataclass
class Bounds:
    """A range on a provider column: values are literals or Pending until the engine resolves them."""

    low: str | Pending | None = None
    low_inclusive: bool = True
    high: str | Pending | None = None
    high_inclusive: bool = True


@dataclass
class TableUse:
    """How a statement reads one catalog table: per pushdown column, the allowed values.

    A column missing from ``constraints`` is unconstrained. Several references to the same
    table merge by union per column, which is a superset and so stays sound. ``bounds`` holds
    ranges (<, <=, >, >=, BETWEEN) on columns whose table's provider reads them (kind provider).
    """

    name: str
    constraints: dict[str, set] = field(default_factory=dict)
    bounds: dict[str, Bounds] = field(default_factory=dict)

    def merge(self, other: dict[str, set], bounds: dict[str, Bounds] | None = None) -> None:
        self.constraints = {c: self.constraints[c] | other[c] for c in self.constraints.keys() & other.keys()}
        bounds = bounds or {}
        self.bounds = {c: b for c, b in self.bounds.items() if bounds.get(c) == b}


def parse(sql: str) -> list[exp.Expression]:
    """The statements of ``sql``; parses are cached (a benchmark asks about each control twice).

    The trees are shared between callers: read them, never change them.
    """
    return list(_parse(sql))


@functools.lru_cache(maxsize=512)
def _parse(sql: str) -> tuple[exp.Expression, ...]:
    try:
        return tuple(s for s in sqlglot.parse(sql, read="duckdb") if s is not None)
    except (ParseError, TokenError) as exc:
        raise SQLSyntaxError(_describe_parse_error(exc)) from None


def _describe_parse_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        e = errors[0]
        near = (e.get("highlight") or "").strip()
        return f"syntax error at line {e.get('line')}, column {e.get('col')}" + (f" near {near!r}" if near else "") \
            + f": {e.get('description', 'invalid SQL').lower()}"
    return f"syntax error: {str(exc).splitlines()[0]}"


def cte_names(statement: exp.Expression) -> set[str]:
    return {cte.alias_or_name for cte in statement.find_all(exp.CTE)}


def table_refs(statement: exp.Expression) -> list[exp.Table]:
    """Plain table references (not functions, files, CTEs or other databases' tables)."""
    ctes = cte_names(statement)
    refs = []
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue
        if table.args.get("db") and table.db.lower() != "main":
            continue
        if table.name in ctes:
            continue
        refs.append(table)
    return refs


def analyze_statement(statement: exp.Expression, catalog: Catalog) -> dict[str, TableUse]:
    uses: dict[str, TableUse] = {}
    for table in table_refs(statement):
        if table.name not in catalog:
            continue
        constraints, bounds = _constraints_for(table, catalog)
        if table.name in uses:
            uses[table.name].merge(constraints, bounds)
        else:
            uses[table.name] = TableUse(table.name, constraints, bounds)
    return uses


def _constraints_for(table: exp.Table, catalog: Catalog) -> tuple[dict[str, set], dict[str, Bounds]]:
    holder = table.parent
    if not isinstance(holder, (exp.From, exp.Join)):
        return {}, {}
    select = holder.parent
    if not isinstance(select, exp.Select):
        return {}, {}
    alias = table.args.get("alias")
    if alias is not None and alias.args.get("columns"):
        return {}, {}  # columns renamed by the alias: names in WHERE no longer match the spec
    where = select.args.get("where")
    if where is None:
        return {}, {}
    sources = _sources(select)
    qualifier = table.alias_or_name
    pushable = catalog[table.name].pushdown_columns
    found: dict[str, set] = {}
    bounds: dict[str, Bounds] = {}

    def ours(column: exp.Column) -> bool:
        if column.name not in pushable:
            return False
        if column.table:
            return column.table == qualifier
        return len(sources) == 1  # an unqualified name is ours only when we are the only source

    for conjunct in _conjuncts(where.this):
        hit = _column_values(conjunct)
        if hit is not None:
            column, values = hit
            if ours(column):
                key = column.name
                found[key] = found[key] & values if key in found else set(values)
            continue
        ranged = _column_range(conjunct)
        if ranged is not None and ours(ranged[0]) and pushable[ranged[0].name].pushdown == "provider":
            column, new = ranged
            old = bounds.get(column.name, Bounds())
            bounds[column.name] = Bounds(
                new.low if new.low is not None else old.low,
                new.low_inclusive if new.low is not None else old.low_inclusive,
                new.high if new.high is not None else old.high,
                new.high_inclusive if new.high is not None else old.high_inclusive)
    return found, bounds


_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}


def _column_range(node: exp.Expression) -> tuple[exp.Column, Bounds] | None:
    if isinstance(node, exp.Between) and isinstance(node.this, exp.Column):
        low, high = _constant(node.args.get("low")), _constant(node.args.get("high"))
        if low is None or high is None:
            return None
        return node.this, Bounds(low, True, high, True)
    kind = type(node)
    if kind not in _FLIP:
        return None
    left, right = node.left, node.right
    if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
        left, right, kind = right, left, _FLIP[kind]
    if not isinstance(left, exp.Column):
        return None
    value = _constant(right)
    if value is None:
        return None
    if kind in (exp.GT, exp.GTE):
        return left, Bounds(low=value, low_inclusive=kind is exp.GTE)
    return left, Bounds(high=value, high_inclusive=kind is exp.LTE)


def _sources(select: exp.Select) -> list[exp.Expression]:
    sources = []
    from_ = select.args.get("from") or select.args.get("from_")
    if from_ is not None:
        sources.append(from_.this)
    for join in select.args.get("joins") or []:
        sources.append(join.this)
    return sources


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    node = node.unnest() if isinstance(node, exp.Paren) else node
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _literal(node: exp.Expression) -> str | Pending | None:
    return _constant(node)


def _constant(node: exp.Expression | None) -> str | Pending | None:
    """A literal's text, or a constant expression for DuckDB to evaluate; None if not constant."""
    if node is None:
        return None
    if isinstance(node, exp.Literal):
        return node.this
    if isinstance(node, exp.Null) or node.find(exp.Column, exp.Select, exp.Star, exp.AggFunc, exp.Placeholder,
                                               exp.Parameter):
        return None
    return Pending(node.sql(dialect="duckdb"))


def _column_values(node: exp.Expression) -> tuple[exp.Column, set[str]] | None:
    if isinstance(node, exp.EQ):
        left, right = node.left, node.right
        if isinstance(right, exp.Column):
            left, right = right, left
        if isinstance(left, exp.Column):
            value = _literal(right)
            if value is not None:
                return left, {value}
        return None
    if isinstance(node, exp.In) and not node.args.get("query") and not node.args.get("unnest"):
        column = node.this
        if not isinstance(column, exp.Column):
            return None
        values = [_literal(v) for v in node.expressions]
        if not values or any(v is None for v in values):
            return None
        return column, set(values)  # type: ignore[arg-type]
    return None
