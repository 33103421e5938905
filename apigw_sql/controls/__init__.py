"""Audit controls: one SQL file per control under ``queries/<home benchmark>/``, run by a planner
that fetches each table once, held to the result contract, muted by a mutelist, rendered for
people and machines.

>>> from apigw_sql.controls import load_controls, run_controls
>>> controls = load_controls()                                   # doctest: +SKIP
>>> report = run_controls(con, ["fsbp"], {"max_age_days": "30"})  # doctest: +SKIP
>>> report.counts(), report.exit_code("high")                    # doctest: +SKIP
"""
from __future__ import annotations

from .benchmarks import BENCHMARKS, SelectionError, select
from .catalogue import load_controls
from .check import CheckOptions, PreparedCheck, check, prepare_check, run_check, select_controls
from .control import SEVERITIES, STATUSES, Control, ControlError, Parameter
from .mutelist import MuteEntry, MutelistError, apply_mutelist, load_mutelist
from .render import CHECK_FORMATS, format_for, render_report
from .runner import ControlResult, Finding, ParameterError, Report, run_controls

__all__ = ["BENCHMARKS", "CHECK_FORMATS", "CheckOptions", "Control", "ControlError", "ControlResult", "Finding",
           "MuteEntry", "MutelistError", "Parameter", "ParameterError", "PreparedCheck", "Report", "SEVERITIES", "STATUSES",
           "SelectionError", "apply_mutelist", "check", "format_for", "load_controls", "load_mutelist",
           "prepare_check", "render_report", "run_check", "run_controls", "select", "select_controls"]
