"""Controls for other engines: each control's DuckDB SQL transpiled by sqlglot to Spark SQL, Trino or Athena.

A control is written in DuckDB SQL and reads its parameters with ``getvariable('name')``. For another engine
the parameters are bound first (each ``getvariable`` becomes a typed literal: the default, or the value a
user gave with ``--var``), the DuckDB-only functions sqlglot leaves as they are are rewritten here
(``_REWRITES``), and sqlglot writes the target dialect. The controls that cannot be written portably are
listed in ``DUCKDB_ONLY`` with the reason: they run on DuckDB only and other engines report them skipped.

>>> from apigw_sql.controls.catalogue import load_controls
>>> xray = next(c for c in load_controls() if c.id == "apigateway_stage_xray_tracing_enabled")
>>> print(transpile_control(xray, "spark").sql.splitlines()[0])
SELECT s.arn AS resource, CASE WHEN s.tracing_enabled THEN 'ok' ELSE 'alarm' END AS status, ...
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .controls.control import Control, split_header
from .errors import UserError

# Target name -> sqlglot dialect.
DIALECTS = {"spark": "spark", "trino": "trino", "athena": "athena"}

# Controls that stay DuckDB-only, with the reason (one sentence each). Spark runs every other control and a
# test holds its findings equal to DuckDB's; a control added to queries/ that does not transpile fails that
# test until it is made portable or listed here with its reason.
DUCKDB_ONLY: dict[str, str] = {
    **dict.fromkeys([
        "apigateway_account_cloudwatch_role_configured", "apigateway_stage_data_trace_disabled",
        "apigateway_stage_execution_logging_enabled", "apigateway_stage_variables_no_secrets",
        "apigateway_stage_waf_known_bad_inputs", "cloudtrail_multi_region_trail_enabled",
        "cloudtrail_s3_data_events_read_enabled", "cloudtrail_s3_data_events_write_enabled",
        "cloudtrail_security_trail_enabled", "cloudtrail_trail_insights_enabled", "cloudtrail_trail_tagged",
        "apigateway_event_protection_removed", "cloudtrail_event_logging_tampered"],
        "it walks a JSON object or array with DuckDB's json_each table function, which Spark SQL and Trino lack "
        "(they need the JSON's shape declared, and give its values back unquoted)."),
    "apigateway_rest_api_policy_no_public_access":
        "it tells JSON strings from arrays with DuckDB's json_type, which Spark SQL lacks.",
    "apigateway_domain_name_mtls_truststore_healthy":
        "it reads a JSON array with from_json and DuckDB's structure syntax ('[\"JSON\"]'), which Spark SQL lacks.",
    "apigateway_domain_name_tls_policy_current":
        "it matches security policies against allowed patterns with DuckDB's GLOB operator, which Spark SQL lacks.",
    "apigateway_access_error_spike":
        "it builds hourly baselines with DuckDB's generate_series and percentile_cont(...) WITHIN GROUP, which "
        "sqlglot does not write for Spark.",
    "apigateway_access_open_method_called":
        "it keeps the first sources of an ordered list aggregate with a list slice ([1:5]); Spark's collect_list "
        "has no ORDER BY and sqlglot does not write the slice.",
    "iam_principal_apigateway_write_unused":
        "it filters lists with DuckDB lambdas (x -> ...) that sqlglot does not write for Spark.",
    **dict.fromkeys(["cloudtrail_event_enumeration_detected", "apigateway_event_access_denied_burst"],
                    "Spark 4.3 fails at run time on the listagg(DISTINCT ...) WITHIN GROUP (ORDER BY ...) sqlglot "
                    "writes for its string_agg (a ClassCastException inside Spark), and its first event, DuckDB's "
                    "arg_min, breaks ties between events of the same second unlike Spark's min_by."),
}


class TranspileError(UserError, ValueError):
    """A target dialect is unknown, or a control's SQL cannot be written in it."""


@dataclass(frozen=True)
class Transpiled:
    control: Control
    dialect: str
    sql: str | None             # None for a DuckDB-only control
    duckdb_only: str | None     # why the control runs on DuckDB only, when it does


def parameter_values(control: Control, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Each parameter of the control as a Python value: the user's (text from --var, or Python data) cast to
    the parameter's type as the runner casts it, else the default; raises runner.ParameterError on a value
    that does not fit."""
    import duckdb

    from .controls.runner import ParameterError, parameters_set

    duck = duckdb.connect()
    try:
        with parameters_set(duck, control, variables or {}):
            return {p.name: duck.execute("SELECT getvariable(?)", [p.name]).fetchone()[0] for p in control.parameters}
    except duckdb.Error as exc:
        raise ParameterError(f"{control.id}: a parameter value does not fit its type "
                             f"({str(exc).strip().splitlines()[0]})") from None
    finally:
        duck.close()


def _literal(value: Any) -> Any:
    """A sqlglot literal for a parameter's Python value."""
    from sqlglot import exp

    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def _bind(tree: Any, control: Control, values: dict[str, Any]) -> Any:
    """Every getvariable('name') replaced by the parameter's value cast to its type."""
    from sqlglot import exp

    def bind(node: Any) -> Any:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable":
            name = node.expressions[0].name
            parameter = control.parameter(name)
            if parameter is None:  # parse_control refuses such a file; kept for controls built by hand
                raise TranspileError(f"{control.file}: getvariable('{name}') names no parameter of the control")
            return exp.cast(_literal(values[name]), exp.DataType.build(parameter.type, dialect="duckdb"))
        return node

    return tree.transform(bind)


def _interval(unit: str) -> Callable[[Any], Any]:
    """to_days(n) / to_hours(n): n times a one-unit interval, which every target writes."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        amount = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
        return exp.Mul(this=exp.Paren(this=amount),
                       expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.Var(this=unit)))

    return rewrite


def _has_all(node: Any) -> Any:
    """list_has_all(a, b): nothing of b is missing from a (array_except exists in Spark and Trino alike)."""
    from sqlglot import exp

    haystack, needles = node.expressions
    return exp.EQ(this=exp.ArraySize(this=exp.Anonymous(this="array_except", expressions=[needles, haystack])),
                  expression=exp.Literal.number(0))


def _printf_format(node: Any, control: Control) -> Any:
    """DuckDB's format('{} of {}', a, b) as printf's '%s of %s' (Spark's format_string, Trino's format)."""
    from sqlglot import exp

    template = node.this
    parts = list(template.flatten()) if isinstance(template, exp.DPipe) else template.expressions \
        if isinstance(template, exp.Concat) else [template]
    if all(isinstance(p, exp.Literal) and p.is_string for p in parts):  # 'a {} ' || 'b {}': one template
        template = exp.Literal.string("".join(p.this for p in parts))
    if not (isinstance(template, exp.Literal) and template.is_string):
        raise TranspileError(f"{control.file}: format() with a template that is not a literal cannot be transpiled")
    text = template.this
    if re.search(r"\{[^}]|\{\{|\}\}", text.replace("{}", "")):
        raise TranspileError(f"{control.file}: format() template {text!r} uses more than plain {{}} placeholders")
    return node.__class__(this=exp.Literal.string(text.replace("%", "%%").replace("{}", "%s")),
                          expressions=node.expressions)


# strftime codes the controls use -> Java DateTimeFormatter letters (Spark's date_format).
_JAVA_TIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


def _java_pattern(strftime: str, control: Control) -> str:
    """A strftime pattern as a Java one, literal text quoted: '%Y-%m-%dT%H' -> "yyyy-MM-dd'T'HH"."""
    out, literal = [], ""
    for token in re.split(r"(%.)", strftime):
        if not token:
            continue
        if token.startswith("%") and len(token) == 2:
            if token not in _JAVA_TIME:
                raise TranspileError(f"{control.file}: strftime code {token} has no Spark equivalent here")
            if literal:
                out.append(_java_literal(literal))
                literal = ""
            out.append(_JAVA_TIME[token])
        else:
            literal += token
    if literal:
        out.append(_java_literal(literal))
    return "".join(out)


def _java_literal(text: str) -> str:
    # Letters are pattern letters in Java: quote any run holding one; punctuation and spaces stand as they are.
    return f"'{text.replace(chr(39), chr(39) * 2)}'" if re.search(r"[A-Za-z']", text) else text


def _rewrite(tree: Any, control: Control, target: str) -> Any:
    """DuckDB functions that sqlglot writes wrongly or unchanged, rewritten into SQL the target runs alike."""
    from sqlglot import exp

    anonymous = {"to_hours": _interval("HOUR"), "to_minutes": _interval("MINUTE"), "list_has_all": _has_all}

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.ToDays):
            return _interval("DAY")(node)
        if isinstance(node, exp.Anonymous) and node.name.lower() in anonymous:
            return anonymous[node.name.lower()](node)
        if isinstance(node, exp.Format):
            return _printf_format(node, control)
        if isinstance(node, exp.DateDiff) and node.args.get("date_part_boundary"):
            # DuckDB counts the unit boundaries crossed (23:00 to 01:00 is 1 day); the others count whole
            # units elapsed: truncating both ends to the unit first gives DuckDB's count everywhere.
            unit = node.args.get("unit")
            name = unit.name.upper() if unit is not None else "DAY"
            return exp.DateDiff(this=exp.TimestampTrunc(this=node.this, unit=exp.Var(this=name)),
                                expression=exp.TimestampTrunc(this=node.expression, unit=exp.Var(this=name)),
                                unit=exp.Var(this=name))
        if isinstance(node, exp.TimeToStr) and target == "spark":
            fmt = node.args.get("format")
            if isinstance(fmt, exp.Literal) and fmt.is_string:
                return exp.Anonymous(this="date_format",
                                     expressions=[node.this, exp.Literal.string(_java_pattern(fmt.this, control))])
        if isinstance(node, exp.RegexpReplace) and target == "spark":
            replacement = node.args.get("replacement")
            if isinstance(replacement, exp.Literal) and replacement.is_string:  # DuckDB's \1 is Java's $1
                text = re.sub(r"\\(\d)", r"$\1", replacement.this.replace("$", "\\$"))
                node.set("replacement", exp.Literal.string(text))
        if isinstance(node, exp.ArrayOverlaps):  # sqlglot writes DuckDB's && operator, which neither reads
            return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
        return node

    # Children before parents (reversed pre-order), so that a rewritten node keeps its rewritten arguments.
    for node in reversed(list(tree.walk())):
        new = rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def transpile_control(control: Control, target: str, variables: dict[str, Any] | None = None) -> Transpiled:
    """The control's SQL in the target dialect (spark, trino or athena) with its parameters bound, or the
    reason it is DuckDB-only; raises TranspileError for an unknown target or SQL sqlglot cannot read."""
    import sqlglot

    if target not in DIALECTS:
        raise TranspileError(f"unknown SQL dialect {target!r}: use one of {', '.join(DIALECTS)}")
    if control.id in DUCKDB_ONLY:
        return Transpiled(control, target, None, DUCKDB_ONLY[control.id])
    _, body = split_header(control.sql, control.file)
    try:
        statements = [s for s in sqlglot.parse(body, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise TranspileError(f"{control.file}: sqlglot cannot read the SQL ({str(exc).splitlines()[0]})") from None
    if len(statements) != 1:
        raise TranspileError(f"{control.file}: a control is one statement to run on another engine, "
                             f"it has {len(statements)}")
    tree = _rewrite(_bind(statements[0], control, parameter_values(control, variables)), control, target)
    return Transpiled(control, target, tree.sql(dialect=DIALECTS[target], pretty=False), None)


def emitted_text(transpiled: Transpiled) -> str:
    """A control's file for another engine: a header comment, then the statement (none if DuckDB-only)."""
    import sqlglot

    c = transpiled.control
    lines = [f"-- id: {c.id}", f"-- title: {c.title}", f"-- severity: {c.severity}",
             f"-- source: {c.home}/{c.id}.sql (DuckDB SQL), written for {transpiled.dialect} by sqlglot "
             f"{sqlglot.__version__}"]
    if c.parameters:
        lines.append("-- parameters bound to their defaults: "
                     + "; ".join(f"{p.name} {p.type} = {p.default}" for p in c.parameters))
    if transpiled.sql is None:
        lines.append(f"-- DuckDB-only: {transpiled.duckdb_only}")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + "\n" + transpiled.sql + ";\n"


def emit_sql(controls: list[Control], target: str, folder: str) -> tuple[int, int]:
    """Write each control as ``folder/<benchmark>/<id>.sql`` in the target dialect, each file all or nothing;
    returns (files written, DuckDB-only among them)."""
    import os

    from .atomic_file import write_replacing

    done = duckdb_only = 0
    for control in controls:
        transpiled = transpile_control(control, target)
        os.makedirs(os.path.join(folder, control.home), exist_ok=True)
        write_replacing(os.path.join(folder, control.home, f"{control.id}.sql"), emitted_text(transpiled))
        done += 1
        duckdb_only += transpiled.sql is None
    return done, duckdb_only
