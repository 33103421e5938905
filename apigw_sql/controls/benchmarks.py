"""Benchmarks and how a control belongs to them, from facts recorded once in the control file.

- its home benchmark: the folder under ``queries/`` the file lives in;
- ``fsbp`` and ``cis_v5``: the ``frameworks`` header names a reference in that framework;
- ``apigateway``: every control whose home is ``queries/apigateway/`` (every API Gateway control lives there);
- ``cloudtrail_activity``: every control whose home is ``queries/cloudtrail_activity/``;
- ``usage``: every control whose home is ``queries/usage/``;
- any benchmark the ``also_in`` header names (the access-log format control lives in ``apigateway`` and is
  also in ``usage``);
- ``all``: every control.

``queries/cloudtrail/`` holds the CloudTrail configuration controls: a home folder that is not a benchmark of
its own, so they belong to ``fsbp`` and ``cis_v5`` through their frameworks, and to ``all``.
"""
from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import Iterable

from .control import MEMBERSHIP_FRAMEWORKS, Control

BENCHMARKS: dict[str, str] = {
    "fsbp": "AWS Security Hub Foundational Security Best Practices: the API Gateway and CloudTrail controls",
    "cis_v5": "CIS AWS Foundations Benchmark v5.0: the CloudTrail items of section 3",
    "apigateway": "Every API Gateway control: REST, HTTP and WebSocket stages, APIs, domains, keys and plans",
    "cloudtrail_activity": "CloudTrail activity: what happened, correlated with what is configured",
    "usage": "Usage monitoring: anomalies in access logs and metrics, and the log format they need",
    "all": "Every control apigw-sql ships",
}
# Folders a control file may live in: each benchmark's, and home folders that are no benchmark of their own.
HOME_FOLDERS = ("cloudtrail",)
HOME_BENCHMARKS = tuple(b for b in BENCHMARKS if b != "all") + HOME_FOLDERS + ("all",)


class SelectionError(ValueError):
    """A name on the command line is neither a benchmark, a control id, an alias nor a matching pattern."""


def memberships(control: Control) -> tuple[str, ...]:
    """The benchmarks a control belongs to, in the order of BENCHMARKS.

    >>> from apigw_sql.controls.control import Control
    >>> c = Control("x", "t", "d.", "low", "r", "fix", {"fsbp": ["APIGateway.3"]}, (), (), "apigateway", "", "x.sql")
    >>> memberships(c)
    ('fsbp', 'apigateway', 'all')
    """
    member = {control.home, "all", *control.also_in}
    member.update(f for f in MEMBERSHIP_FRAMEWORKS if f in control.frameworks)
    return tuple(b for b in BENCHMARKS if b in member)


def with_memberships(control: Control) -> Control:
    return replace(control, benchmarks=memberships(control))


def select(controls: Iterable[Control], names: Iterable[str]) -> list[Control]:
    """The controls named by benchmark names, control ids, aliases or glob patterns (``apigateway_stage_*``),
    in the catalogue's order, each once. No names selects every control."""
    controls = list(controls)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        return controls
    chosen: set[str] = set()
    by_alias = {a: c.id for c in controls for a in (c.id, *c.aliases)}
    for name in names:
        if name in BENCHMARKS:
            chosen.update(c.id for c in controls if name in c.benchmarks)
        elif name in by_alias:
            chosen.add(by_alias[name])
        elif any(ch in name for ch in "*?["):
            matched = {by_alias[a] for a in by_alias if fnmatch.fnmatchcase(a, name)}
            if not matched:
                raise SelectionError(f"no control matches the pattern {name!r}: 'apigw-sql controls' lists them")
            chosen.update(matched)
        else:
            raise SelectionError(_unknown(name, list(BENCHMARKS) + list(by_alias)))
    return [c for c in controls if c.id in chosen]


def _unknown(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return (f"{name!r} is neither a benchmark ({', '.join(BENCHMARKS)}) nor a control id or alias{hint} "
            "('apigw-sql controls' lists them)")
