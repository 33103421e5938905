"""Run controls through the connection: their parameter defaults set with `SET VARIABLE` first, then
their SQL. A benchmark runs each of its controls and is summarised by status.

>>> c = Control("x", "X", "low", "SELECT 1", ("cis",), {"days": "90"})
>>> parameter_statements(c, {"days": "30", "env": "'prod'"})
['SET VARIABLE days = 30', "SET VARIABLE env = 'prod'"]
>>> select([c], "cis")[0] == [c], select([c], "x")[1]
(True, True)
"""
from __future__ import annotations

import difflib
import fnmatch
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from .controls import Control
from .session import Tabular

STATUSES = ("ok", "alarm", "info", "skip", "error")
FINDING_COLUMNS = ["control_id", "severity", "status", "resource", "reason", "account_id", "region"]


class UnknownControl(LookupError):
    """Neither a control id nor a benchmark; the message suggests close names."""


@dataclass
class Outcome:
    control: Control
    counts: Counter = field(default_factory=Counter)
    error: str | None = None
    findings: list[tuple[Any, ...]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def benchmarks(controls: list[Control]) -> list[str]:
    return sorted({b for c in controls for b in c.benchmarks})


def select(controls: list[Control], name: str) -> tuple[list[Control], bool]:
    """The controls `name` means (an id or alias, a benchmark, `all`, or a glob of ids) and whether it
    named one control."""
    for control in controls:
        if name == control.id or name in control.aliases:
            return [control], True
    if name == "all":
        return list(controls), False
    chosen = [c for c in controls if name in c.benchmarks]
    if not chosen and any(ch in name for ch in "*?["):
        chosen = [c for c in controls if fnmatch.fnmatchcase(c.id, name)]
    if chosen:
        return chosen, False
    names = [c.id for c in controls] + benchmarks(controls)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6) or [n for n in names if name in n][:3]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownControl(f"no control or benchmark named {name!r}{hint} (.controls lists them)")


def parameter_statements(control: Control, overrides: dict[str, str]) -> list[str]:
    values = {**control.parameters, **overrides}
    return [f"SET VARIABLE {name} = {literal}" for name, literal in values.items()]


def run_control(con: Any, control: Control, overrides: dict[str, str],
                on_progress: Callable[[Any], None] | None = None) -> Any:
    """The control's Result, after its parameters are set."""
    for statement in parameter_statements(control, overrides):
        con.sql(statement)
    return con.sql(control.sql, on_progress=on_progress)


def status_counts(columns: list[str], rows: list[tuple[Any, ...]]) -> Counter:
    if "status" not in columns:
        raise ValueError("returned no status column (a control returns resource, status, reason, ...)")
    i = columns.index("status")
    return Counter(str(row[i]) for row in rows)


def run_benchmark(con: Any, controls: list[Control], overrides: dict[str, str], token: Any,
                  line: Any) -> list[Outcome]:
    """Run every control; a failing control is reported as an error and the others still run."""
    from ..engine import QueryError

    outcomes = []
    for n, control in enumerate(controls, start=1):
        token.check()
        line.status = f"control {n}/{len(controls)} {control.id}"
        outcome = Outcome(control)
        try:
            result = run_control(con, control, overrides, line.update)
            outcome.counts = status_counts(result.columns, result.rows)
            outcome.warnings = [err.line() for err in result.errors]
            outcome.findings = [(control.id, control.severity, *_finding(result.columns, row))
                                for row in result.rows]
        except (QueryError, ValueError) as exc:
            outcome.error = str(exc)
            outcome.counts = Counter({"error": 1})
        outcomes.append(outcome)
    return outcomes


def _finding(columns: list[str], row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = dict(zip(columns, row))
    return tuple(values.get(c) for c in FINDING_COLUMNS[2:])


def summary_table(outcomes: list[Outcome]) -> Tabular:
    rows = [(o.control.id, o.control.severity, *(o.counts.get(s, 0) for s in STATUSES), o.control.title)
            for o in outcomes]
    return Tabular(["control", "severity", *STATUSES, "title"], ["VARCHAR", "VARCHAR", *["BIGINT"] * 5, "VARCHAR"],
                   rows)


def findings_table(outcomes: list[Outcome]) -> Tabular:
    return Tabular(list(FINDING_COLUMNS), ["VARCHAR"] * len(FINDING_COLUMNS),
                   [f for o in outcomes for f in o.findings])


def total_line(outcomes: list[Outcome], started: float) -> str:
    totals = Counter()
    for o in outcomes:
        totals.update(o.counts)
    counts = ", ".join(f"{totals.get(s, 0)} {s}" for s in STATUSES)
    return f"{len(outcomes)} control{'' if len(outcomes) == 1 else 's'}: {counts} ({time.monotonic() - started:.1f} s)"
