"""Benchmarks and how a control belongs to them, from facts recorded once in the control file.

- its home benchmark: the folder under ``queries/`` the file lives in;
- ``fsbp``, ``cis_v5`` and ``cis_v6``: the ``frameworks`` header names a reference in that framework;
- ``apigateway``: every control whose home is ``queries/apigateway/`` (every API Gateway control lives there);
- ``cloudtrail``: every control whose home is ``queries/cloudtrail/`` (the CloudTrail configuration controls);
- ``cloudtrail_activity``: every control whose home is ``queries/cloudtrail_activity/``;
- ``least_privilege``: every control whose home is ``queries/least_privilege/``;
- ``usage``: every control whose home is ``queries/usage/``;
- any benchmark the ``also_in`` header names (the access-log format control lives in ``apigateway`` and is
  also in ``usage``);
- ``all``: every control.

A user's own folders of controls (``--controls-dir``) add benchmarks: a folder name that is not one of
BENCHMARKS is a new benchmark of the controls that live in it.
"""
from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import Iterable

from .control import MEMBERSHIP_FRAMEWORKS, Control
from ..errors import UserError, did_you_mean

BENCHMARKS: dict[str, str] = {
    "fsbp": "AWS Security Hub Foundational Security Best Practices: the API Gateway and CloudTrail controls",
    "cis_v5": "CIS AWS Foundations Benchmark v5.0: the CloudTrail items of section 3",
    "cis_v6": "CIS AWS Foundations Benchmark v6.0: the items the controls' headers cite",
    "apigateway": "Every API Gateway control: REST, HTTP and WebSocket stages, APIs, domains, keys and plans",
    "cloudtrail": "CloudTrail configuration: trails, their buckets, event selectors and event data stores",
    "cloudtrail_activity": "CloudTrail activity: what happened, correlated with what is configured",
    "least_privilege": "Least privilege: who may change or invoke the APIs, and which write grants go unused",
    "usage": "Usage monitoring: anomalies in access logs and metrics, and the log format they need",
    "all": "Every control apigw-sql ships, and the user's own",
}
# Folders a shipped control file may live in: each benchmark's.
HOME_BENCHMARKS = tuple(BENCHMARKS)


class SelectionError(UserError, ValueError):
    """A name on the command line is neither a benchmark, a control id, an alias nor a matching pattern."""


def memberships(control: Control) -> tuple[str, ...]:
    """The benchmarks a control belongs to, in the order of BENCHMARKS, then its own home when that is
    a user's folder.

    >>> from apigw_sql.controls.control import Control
    >>> c = Control("x", "t", "d.", "low", "r", "fix", {"fsbp": ["APIGateway.3"]}, (), (), "apigateway", "", "x.sql")
    >>> memberships(c)
    ('fsbp', 'apigateway', 'all')
    """
    member = {control.home, "all", *control.also_in}
    member.update(f for f in MEMBERSHIP_FRAMEWORKS if f in control.frameworks)
    own = () if control.home in BENCHMARKS else (control.home,)
    return tuple(b for b in BENCHMARKS if b in member) + own


def benchmark_names(controls: Iterable[Control]) -> list[str]:
    """The benchmarks of BENCHMARKS, then those the user's folders of controls add, by name."""
    return list(BENCHMARKS) + sorted({c.home for c in controls} - set(BENCHMARKS))


def with_memberships(control: Control) -> Control:
    return replace(control, benchmarks=memberships(control))


def select(controls: Iterable[Control], names: Iterable[str]) -> list[Control]:
    """The controls named by benchmark names, control ids, aliases or glob patterns (``apigateway_stage_*``),
    in the catalogue's order, each once. No names selects every control."""
    controls = list(controls)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        return controls
    controls = list(controls)
    chosen: set[str] = set()
    by_alias = {a: c.id for c in controls for a in (c.id, *c.aliases)}
    benchmarks = benchmark_names(controls)
    for name in names:
        if name in benchmarks:
            chosen.update(c.id for c in controls if name in c.benchmarks)
        elif name in by_alias:
            chosen.add(by_alias[name])
        elif any(ch in name for ch in "*?["):
            matched = {by_alias[a] for a in by_alias if fnmatch.fnmatchcase(a, name)}
            if not matched:
                raise SelectionError(f"no control matches the pattern {name!r}: 'apigw-sql controls' lists them")
            chosen.update(matched)
        else:
            raise SelectionError(_unknown(name, benchmarks, list(by_alias)))
    return [c for c in controls if c.id in chosen]


def _unknown(name: str, benchmarks: list[str], ids: list[str]) -> str:
    hint = did_you_mean(name, benchmarks + ids)
    return (f"{name!r} is neither a benchmark ({', '.join(benchmarks)}) nor a control id or alias"
            f"{'; ' + hint if hint else ''} "
            "('apigw-sql controls' lists them)")
