"""`run_controls`: plan, fetch once, run every control, and hold each to the result contract.

The planner asks the engine which tables each control reads and how its WHERE narrows them
(``Connection.uses``, with the control's parameters set), fetches the union of them once, in
parallel (``Connection.fetch``), and runs each control on the loaded tables as soon as the ones it
reads are loaded (``Connection.sql(..., fetch=False)``): a whole benchmark costs one call per API operation and
parameters, and a control's fetch failures are those of the tables it reads.

A control that breaks the result contract (a missing column, a status outside ok/alarm/info/skip/
error, a row without resource or reason) or whose SQL fails becomes one ``error`` finding with
a reason saying why: it never stops the run.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Protocol, Sequence

from .control import SEVERITIES, STATUSES, Control, Parameter
from ..accounts import ACCOUNTS_TABLE
from ..errors import UserError

REQUIRED_COLUMNS = ("resource", "status", "reason", "account_id", "region")
# Columns with a meaning of their own; any other column is a dimension carried with the finding.
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS) | {"severity"}


class ParameterError(UserError, ValueError):
    """A --var names no parameter of the selected controls, or its value does not fit the type."""


@dataclass
class Finding:
    control: Control
    resource: str
    status: str
    reason: str
    account_id: str | None
    region: str | None
    severity: str                       # the control's, unless the row carries its own
    dimensions: dict[str, Any] = field(default_factory=dict)
    muted: bool = False
    mute_reason: str | None = None
    baseline: str | None = None         # with --baseline: new, unchanged or resolved (controls/baseline.py)

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for f in findings:
        counts[f.status] += 1
    return counts


@dataclass
class ControlResult:
    control: Control
    findings: list[Finding]
    error: str | None = None           # why the control could not be judged, when it could not
    elapsed: float = 0.0

    def counts(self) -> dict[str, int]:
        return _counts(self.findings)

    @property
    def muted(self) -> int:
        return sum(1 for f in self.findings if f.muted)


@dataclass
class Report:
    results: list[ControlResult]
    started_at: datetime
    elapsed: float = 0.0
    api_calls: int = 0
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None         # the previous report or snapshot findings were compared with
    resolved: list[Finding] = field(default_factory=list)  # its alarms that are no alarm now (never failing)
    fail_on_new: bool = False           # only new findings fail the run (--fail-on-new)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def counts(self) -> dict[str, int]:
        return _counts(self.findings)

    @property
    def muted(self) -> int:
        return sum(1 for f in self.findings if f.muted)

    def failing(self, fail_on: str = "low") -> list[Finding]:
        """Unmuted alarms at or above ``fail_on`` (a severity, or ``none`` for never)."""
        if fail_on == "none":
            return []
        threshold = SEVERITIES.index(fail_on)
        return [f for f in self.findings if f.status == "alarm" and not f.muted and f.severity_rank <= threshold
                and not (self.fail_on_new and f.baseline == "unchanged")]

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "error" and not f.muted]

    def exit_code(self, fail_on: str = "low") -> int:
        """2 when a control could not be judged (the audit is incomplete), 1 for failing alarms, else 0."""
        if self.errors():
            return 2
        return 1 if self.failing(fail_on) else 0


# ---- variables -----------------------------------------------------------------------------------

def parameter_values(controls: Sequence[Control], variables: dict[str, Any] | None) -> dict[str, Any]:
    """Check user variables against the selected controls' parameters; raise ParameterError naming the bad one."""
    variables = dict(variables or {})
    declared: dict[str, Parameter] = {}
    for c in controls:
        for p in c.parameters:
            declared.setdefault(p.name, p)
    unknown = sorted(set(variables) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ParameterError(f"--var {unknown[0]}: no selected control takes this parameter (parameters: {known})")
    return variables


def _value_sql(parameter: Parameter, value: Any) -> tuple[str, list[Any]]:
    """A SET VARIABLE expression and its bound values for a user value (text from --var, or Python data)."""
    if parameter.type == "VARCHAR[]":
        if isinstance(value, str):
            text = value.strip()
            if not text.startswith("["):
                return "?::VARCHAR[]", [[v.strip() for v in text.split(",") if v.strip()]]
            return "CAST(? AS VARCHAR[])", [text]
        return "?::VARCHAR[]", [[str(v) for v in value]]
    return f"CAST(? AS {parameter.type})", [value if not isinstance(value, bool) else str(value).lower()]


def check_variables(duck: Any, controls: Sequence[Control], variables: dict[str, Any]) -> None:
    """Cast every user value to its parameter's type once, so a bad value fails before any fetch."""
    import duckdb

    for c in controls:
        for p in c.parameters:
            if p.name in variables:
                expr, args = _value_sql(p, variables[p.name])
                try:
                    duck.execute(f"SELECT {expr}", args).fetchall()
                except duckdb.Error:
                    raise ParameterError(f"--var {p.name}={variables[p.name]}: not a {p.type} value "
                                         f"(the default is {p.default})") from None


class _Variables:
    """Sets a control's parameters as DuckDB variables and puts back what the session had before."""

    def __init__(self, duck: Any, control: Control, variables: dict[str, Any]):
        self.duck, self.control, self.variables = duck, control, variables
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        for p in self.control.parameters:
            self.saved[p.name] = self.duck.execute("SELECT getvariable(?)", [p.name]).fetchone()[0]
            if p.name in self.variables:
                expr, args = _value_sql(p, self.variables[p.name])
                self.duck.execute(f"SET VARIABLE {p.name} = {expr}", args)
            else:
                self.duck.execute(f"SET VARIABLE {p.name} = CAST({p.default} AS {p.type})")

    def __exit__(self, *exc: Any) -> None:
        for name, value in self.saved.items():
            if value is None:
                self.duck.execute(f"RESET VARIABLE {name}")
            else:
                self.duck.execute(f"SET VARIABLE {name} = ?", [value])


# ---- engines -------------------------------------------------------------------------------------

class ControlEngine(Protocol):
    """Where controls run when not on a Connection: over data already in place (a snapshot), with nothing
    to plan or fetch. The runner judges the rows an engine returns exactly as it judges DuckDB's."""

    name: str

    def skip_reason(self, control: Control) -> str | None:
        """Why this engine cannot run the control (reported as one ``skip`` finding), or None."""

    def execute(self, control: Control, values: dict[str, Any]) -> tuple[Sequence[str], Sequence[Sequence[Any]]]:
        """The control's result columns and rows, its parameters set from ``values`` (the user's, as
        parameter_values returns them) or their defaults; raises engine.QueryError when the SQL fails."""


def _skip_finding(control: Control, account_arn: str, reason: str) -> Finding:
    account = account_arn.rsplit(":", 1)[-1]
    return Finding(control, account_arn, "skip", reason, account, None, control.severity)


def parameters_set(duck: Any, control: Control, values: dict[str, Any]) -> Any:
    """A context manager: the control's parameters set as DuckDB variables in ``duck`` (the user's ``values``,
    else the defaults) for the ``with`` block, the session's own values put back after it."""
    return _Variables(duck, control, values)


# ---- the run -------------------------------------------------------------------------------------

def run_controls(con: Any, selection: Iterable[str | Control] | None = None,
                 variables: dict[str, Any] | None = None, *, controls: Sequence[Control] | None = None,
                 on_control: Callable[[ControlResult], None] | None = None,
                 on_progress: Callable[[Any], None] | None = None,
                 engine: ControlEngine | None = None) -> Report:
    """Run the selected controls (benchmark names, ids, aliases, patterns or Control objects; none: all)
    over one Connection, fetching every table they read once, and return the Report.

    ``variables`` overrides parameter defaults ({"max_age_days": "30"}); the session's own DuckDB
    variables are left as they were. ``on_progress`` receives the fetch's Progress (calls, tables).
    With an ``engine`` (and ``con`` None) nothing is fetched: each control runs on the engine.
    """
    from ..engine import QueryError
    from ..ratelimit import Cancelled
    from .benchmarks import select
    from .catalogue import load_controls

    chosen = _resolve(selection, controls if controls is not None else None, load_controls, select)
    values = parameter_values(chosen, variables)
    if engine is None:
        check_variables(con.duck, chosen, values)
    else:
        _check_variables_apart(chosen, values)
    started_at, started = datetime.now(timezone.utc), time.monotonic()
    log_start = len(con.fetch_log) if engine is None else 0

    # Plan: the tables of every control, narrowed by each one's pushdown (with its parameters set),
    # then one parallel fetch of the union; each control runs as soon as the tables it reads are loaded.
    # Tables read whole start fetching while the rest is still being planned.
    tables_of: dict[str, list[str]] = {}
    plan_errors: dict[str, str] = {}
    plan: dict[str, Any] = {}
    if engine is not None:  # the data is in place: nothing to plan or fetch
        tables_of = {c.id: [] for c in chosen}
    else:
        con.prefetch_targets()  # who the credentials are, while the planning goes on
    for c in chosen if engine is None else []:
        try:
            with _Variables(con.duck, c, values):
                uses = con.uses(c.sql)
            for use in uses.values():
                if use.name not in plan:  # a table read whole stays whole in the plan: start it now
                    con.prefetch(use)
            tables_of[c.id] = sorted(uses)
            con.merge_uses(plan, uses)
        except QueryError as exc:
            plan_errors[c.id] = f"The control's SQL cannot be planned: {str(exc).rstrip('.')}."
    needed = sorted(plan)
    planned = _with_parents([t for names in tables_of.values() for t in names], con) if engine is None else set()
    results: list[ControlResult] = []
    pending = list(chosen)
    loaded: set[str] = set()

    def run(c: Control, errors: Sequence[Any]) -> None:
        began = time.monotonic()
        account_arn = _account_arn(con) if engine is None else "arn:aws:::unknown"
        skip = engine.skip_reason(c) if engine is not None else None
        if c.id in plan_errors:
            result = ControlResult(c, [], plan_errors[c.id])
        elif skip is not None:
            result = ControlResult(c, [_skip_finding(c, account_arn, skip)])
        else:
            try:
                if engine is not None:
                    columns, rows = engine.execute(c, values)
                    result = judge(c, columns, rows, account_arn)
                else:
                    with _Variables(con.duck, c, values):
                        raw = con.sql(c.sql, fetch=False)
                    result = judge(c, raw.columns, raw.rows, account_arn)
                    result.findings += _fetch_error_findings(c, _errors_of(errors, tables_of[c.id], con, planned), con)
            except Cancelled:
                raise
            except QueryError as exc:
                result = ControlResult(c, [], f"The control's SQL failed: {str(exc).rstrip('.')}.")
            except Exception as exc:  # noqa: BLE001 - one broken control must not stop the audit
                result = ControlResult(c, [], f"The control could not run ({type(exc).__name__}: "
                                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}).")
        if result.error is not None:
            result.findings = [_error_finding(c, account_arn, result.error), *result.findings]
        result.elapsed = time.monotonic() - began
        results.append(result)
        if on_control is not None:
            on_control(result)

    def run_ready(table: str, query: Any) -> None:
        # A control runs as soon as every table it reads is loaded, while slower tables still fetch.
        loaded.add(table)
        for c in [c for c in pending if c.id not in plan_errors and set(tables_of[c.id]) <= loaded]:
            pending.remove(c)
            run(c, query.errors)

    fetched_errors: Sequence[Any] = []
    if engine is None:
        try:
            fetched_errors = con.fetch(plan, on_progress, on_loaded=run_ready).errors
        except QueryError:
            raise  # credentials or the endpoint: nothing can be judged, the caller reports it
    for c in pending:
        run(c, fetched_errors)

    results.sort(key=lambda r: (r.control.severity_rank, r.control.id))
    log = con.fetch_log[log_start:] if engine is None else []
    # Local log files are read nowhere in particular: their fetch log entries carry no region.
    regions = sorted({f.region for r in results for f in r.findings if f.region}
                     | {rec.region for rec in log if rec.table != "(session)" and rec.region})
    # A run that read only local data never asked AWS who it is: its accounts are those of the data.
    accounts = {t.account_id for t in (con.fetcher.known_targets() if engine is None else [])} or \
        {f.account_id for r in results for f in r.findings if f.account_id and f.status != "error"}
    # An account that could not be reached is said once, as query says it, besides its error findings.
    unreachable = {err.line().removeprefix("warning: "): None for err in fetched_errors
                   if err.table == ACCOUNTS_TABLE}
    return Report(results=results, started_at=started_at, elapsed=time.monotonic() - started,
                  api_calls=sum(1 for rec in log if not rec.cached), accounts=sorted(accounts), regions=regions,
                  tables=needed, variables=values, warnings=list(unreachable))


def _check_variables_apart(controls: Sequence[Control], values: dict[str, Any]) -> None:
    """check_variables on a scratch DuckDB: an engine has no session of ours to cast values in."""
    import duckdb

    scratch = duckdb.connect()
    try:
        check_variables(scratch, controls, values)
    finally:
        scratch.close()


def _resolve(selection: Iterable[str | Control] | None, controls: Sequence[Control] | None,
             load: Callable[[], list[Control]], select: Callable[..., list[Control]]) -> list[Control]:
    items = list(selection or [])
    if items and all(isinstance(i, Control) for i in items):
        return list(items)  # type: ignore[arg-type]
    pool = list(controls) if controls is not None else load()
    return select(pool, [str(i) for i in items])


def judge(control: Control, columns: Sequence[str], rows: Sequence[Sequence[Any]],
          account_arn: str = "") -> ControlResult:
    """Findings from a control's result rows, or an error when the rows break the result contract.

    >>> from apigw_sql.controls.control import Control
    >>> c = Control("c", "t", "d.", "low", "r", "fix", {}, (), (), "apigateway", "", "c.sql")
    >>> judge(c, ["resource", "status"], []).error
    "The control's result lacks the column(s) reason, account_id, region: a control returns resource, status, reason, account_id, region."
    >>> judge(c, ["resource", "status", "reason", "account_id", "region"], [("r1", "fail", "R1 failed.", "1", "x")]).error
    "The control returned status 'fail' for r1: a status is one of ok, alarm, info, skip, error."
    >>> r = judge(c, ["resource", "status", "reason", "account_id", "region", "path"], [("r1", "ok", "R1 is fine.", "1", "x", "/")])
    >>> (r.error, r.findings[0].status, r.findings[0].dimensions)
    (None, 'ok', {'path': '/'})
    """
    missing = [col for col in REQUIRED_COLUMNS if col not in columns]
    if missing:
        return ControlResult(control, [], f"The control's result lacks the column(s) {', '.join(missing)}: "
                                          f"a control returns {', '.join(REQUIRED_COLUMNS)}.")
    index = {name: i for i, name in reversed(list(enumerate(columns)))}
    findings: list[Finding] = []
    for row in rows:
        resource, status, reason = (row[index[k]] for k in ("resource", "status", "reason"))
        if not isinstance(resource, str) or not resource.strip():
            return ControlResult(control, [], f"The control returned a row without a resource (reason: {reason!r}): "
                                              "every row names the resource it judges.")
        if status not in STATUSES:
            return ControlResult(control, [], f"The control returned status {status!r} for {resource}: "
                                              f"a status is one of {', '.join(STATUSES)}.")
        if not isinstance(reason, str) or not reason.strip():
            return ControlResult(control, [], f"The control returned no reason for {resource}: every row "
                                              "carries a sentence saying why.")
        severity = control.severity
        if "severity" in index and row[index["severity"]] is not None:
            severity = str(row[index["severity"]]).lower()
            if severity not in SEVERITIES:
                return ControlResult(control, [], f"The control returned severity {severity!r} for {resource}: "
                                                  f"a severity is one of {', '.join(SEVERITIES)}.")
        dims = {name: _plain(row[i]) for name, i in index.items() if name not in KNOWN_COLUMNS}
        findings.append(Finding(control, resource, status, reason.strip(), row[index["account_id"]],
                                row[index["region"]], severity, dims))
    findings.sort(key=lambda f: (STATUSES.index(f.status) if f.status != "alarm" else -1, f.region or "",
                                 f.resource))
    return ControlResult(control, findings)


def _plain(value: Any) -> Any:
    """A dimension value that JSON and every renderer can hold."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _account_arn(con: Any) -> str:
    targets = con.fetcher.known_targets()  # never STS here: the controls may have read local files only
    if not targets:
        return "arn:aws:::unknown"
    return f"arn:{targets[0].partition}:::{targets[0].account_id}"


def _error_finding(control: Control, account_arn: str, reason: str) -> Finding:
    account = account_arn.rsplit(":", 1)[-1]
    return Finding(control, account_arn, "error", reason, account, None, control.severity)


def _with_parents(tables: Iterable[str], con: Any) -> set[str]:
    found: set[str] = set()
    for name in tables:
        while name and name not in found:
            found.add(name)
            name = con.catalog[name].parent
    return found


def _errors_of(errors: Sequence[Any], tables: Sequence[str], con: Any, planned: set[str]) -> list[Any]:
    """The fetch errors of the plan that blind a control: those of its tables and their parents.

    A provider table (aws_cloudtrail_event) reads tables of its own choosing, which no control names:
    the errors of tables outside ``planned`` (every control's tables and their parents) are its too.
    An introspection table (apigw_sql_fetch_log) reads no AWS table: it adds none.
    """
    relevant = _with_parents(tables, con)
    if any(c.pushdown == "provider" for name in tables for c in con.catalog[name].columns):
        relevant |= {e.table for e in errors if e.table not in planned}
    if any(name in con.catalog and con.catalog[name].scope != "local" for name in relevant):
        relevant.add(ACCOUNTS_TABLE)  # an account that cannot be reached blinds every control that reads AWS
    return [e for e in errors if e.table in relevant]


def _fetch_error_findings(control: Control, errors: Sequence[Any], con: Any) -> list[Finding]:
    """One error finding per table x account x region that could not be read: the control is blind there."""
    seen: set[tuple[str, str, str, str]] = set()
    findings = []
    targets = con.fetcher.known_targets()
    partition = targets[0].partition if targets else "aws"
    for err in errors:
        key = (err.table, err.account_id, err.region, err.code)
        if key in seen:
            continue
        seen.add(key)
        if err.table == ACCOUNTS_TABLE:
            what = ("Could not list the organization's accounts from account" if err.operation == "ListAccounts"
                    else "Could not read account")  # ListAccounts: the other accounts are unknown, not unread
            findings.append(Finding(control, f"arn:{partition}:::{err.account_id}", "error",
                                    f"{what} {err.account_id}: {err.operation} failed with {err.code} "
                                    f"({err.message}); the control is not judged there.", err.account_id, None,
                                    control.severity, {"table": err.table}))
            continue
        findings.append(Finding(control, f"arn:{partition}:::{err.account_id}", "error",
                                f"Could not read {err.table} in account {err.account_id}, region {err.region}: "
                                f"{err.operation} failed with {err.code} ({err.message}); the control is not "
                                f"judged there.", err.account_id, err.region, control.severity,
                                {"table": err.table}))
    return findings


def finding_record(f: Finding) -> dict[str, Any]:
    """A finding as a flat record: the columns of --output csv/json/jsonl/markdown."""
    return {"control_id": f.control.id, "title": f.control.title, "severity": f.severity, "status": f.status,
            "resource": f.resource, "reason": f.reason, "account_id": f.account_id, "region": f.region,
            "muted": f.muted, "mute_reason": f.mute_reason, "frameworks": f.control.framework_refs(),
            "dimensions": json.dumps(f.dimensions, sort_keys=True) if f.dimensions else None}


FINDING_COLUMNS = ("control_id", "title", "severity", "status", "resource", "reason", "account_id", "region",
                   "muted", "mute_reason", "frameworks", "dimensions")
FINDING_TYPES = ("VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR",
                 "BOOLEAN", "VARCHAR", "VARCHAR[]", "JSON")
