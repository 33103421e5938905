"""`check`: what ``apigw-sql check`` does, as library calls.

``prepare_check`` validates everything a user typed (names, filters, variables, the mutelist) without
touching AWS, so mistakes fail fast; ``run_check`` runs the prepared check over a Connection.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Sequence

from .benchmarks import SelectionError, select
from .catalogue import control_record, load_controls, user_controls_dirs
from .control import SEVERITIES, Control
from .mutelist import MuteEntry, apply_mutelist, load_mutelist
from .runner import Report, check_variables, parameter_values, run_controls


@dataclass
class CheckOptions:
    names: list[str] = field(default_factory=list)       # benchmarks, ids, aliases, patterns; none: all
    severities: list[str] | None = None                 # keep only these severities
    where: str | None = None                            # a SQL condition on apigw_sql_controls' columns
    variables: dict[str, Any] = field(default_factory=dict)
    mutelist: str | None = None
    controls_dirs: list[str] = field(default_factory=list)  # the user's folders, besides config.toml's

@dataclass
class PreparedCheck:
    controls: list[Control]
    variables: dict[str, Any]
    mutes: list[MuteEntry]


def select_controls(names: Sequence[str], severities: Sequence[str] | None = None, where: str | None = None,
                    controls: Sequence[Control] | None = None, table_names: Sequence[str] = ()) -> list[Control]:
    """The controls named, narrowed by severity and by a SQL condition on their metadata.

    Raises SelectionError with a sentence a user can act on.
    """
    pool = list(controls) if controls is not None else load_controls()
    chosen = select(pool, names)
    if severities:
        bad = [s for s in severities if s not in SEVERITIES]
        if bad:
            raise SelectionError(f"--severity {bad[0]!r}: use one or more of {', '.join(SEVERITIES)}")
        chosen = [c for c in chosen if c.severity in severities]
    if where:
        chosen = _where(chosen, where, table_names)
    if not chosen:
        raise SelectionError("no control is left after the filters: 'apigw-sql controls' lists them "
                             "with their severities")
    return chosen


def _where(controls: list[Control], condition: str, table_names: Sequence[str]) -> list[Control]:
    import duckdb
    import pyarrow as pa

    records = [{**r, "parameters": json.dumps(r["parameters"])} for r in (control_record(c, table_names) for c in controls)]
    if not records:
        return []
    duck = duckdb.connect()
    try:
        duck.register("apigw_sql_controls", pa.Table.from_pylist(records))
        try:
            keep = {row[0] for row in duck.execute(f"SELECT id FROM apigw_sql_controls WHERE {condition}").fetchall()}
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise SelectionError(f"--where {condition!r}: {first} (columns: {', '.join(records[0])})") from None
    finally:
        duck.close()
    return [c for c in controls if c.id in keep]


def prepare_check(options: CheckOptions, controls: Sequence[Control] | None = None,
                  table_names: Sequence[str] | None = None) -> PreparedCheck:
    """Validate a check without calling AWS; raises SelectionError, ParameterError, MutelistError or ControlError."""
    import duckdb

    if table_names is None and options.where:  # only --where reads the controls' tables
        from ..catalog import load_catalog

        table_names = list(load_catalog())
    mutes = load_mutelist(options.mutelist) if options.mutelist else []
    if controls is None:
        controls = load_controls(user_dirs=user_controls_dirs(options.controls_dirs))
    chosen = select_controls(options.names, options.severities, options.where, controls, table_names or ())
    variables = parameter_values(chosen, options.variables)
    scratch = duckdb.connect()
    try:
        check_variables(scratch, chosen, variables)
    finally:
        scratch.close()
    return PreparedCheck(chosen, variables, mutes)


def run_check(con: Any, prepared: PreparedCheck, today: date | None = None,
              on_progress: Callable[[Any], None] | None = None, engine: Any = None) -> Report:
    """Run a prepared check; the caller renders the report and takes ``report.exit_code(fail_on)``.

    ``on_progress`` receives the fetch's Progress as calls complete. With an ``engine`` (runner.ControlEngine,
    ``con`` None) the controls run there over data in place."""
    report = run_controls(con, prepared.controls, prepared.variables, on_progress=on_progress, engine=engine)
    apply_mutelist(report, prepared.mutes, today)
    return report


def check(con: Any, options: CheckOptions, controls: Sequence[Control] | None = None,
          today: date | None = None) -> Report:
    """prepare_check then run_check, in one call."""
    return run_check(con, prepare_check(options, controls, list(con.catalog)), today)
