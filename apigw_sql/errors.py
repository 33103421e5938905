"""The exceptions every part of apigw-sql raises derive from here, and the one "did you mean" hint.

``ApigwSqlError`` is the base of all of them; ``UserError`` marks the ones a user can fix (bad input, a
wrong table or control file, a failing statement): their message is one line that says what to do,
so a front end prints it as is (the CLI: ``error: ...``, exit 3) and catches nothing else by name.
"""
from __future__ import annotations

import difflib
from typing import Iterable


class ApigwSqlError(Exception):
    """Something apigw-sql raised on purpose (not a bug of a library underneath)."""


class UserError(ApigwSqlError):
    """Something the user can fix; the message is one line that says what to do."""


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to n candidates that look like name: close spellings first, else those that contain it.

    >>> closest("aws_api_gateway_stag", ["aws_api_gateway_stage", "aws_cloudtrail_trail"])
    ['aws_api_gateway_stage']
    >>> closest("stage", ["aws_api_gateway_stage", "aws_api_gatewayv2_stage", "aws_api_gateway_method"])
    ['aws_api_gateway_stage', 'aws_api_gatewayv2_stage']
    """
    names = list(dict.fromkeys(candidates))
    found = difflib.get_close_matches(name, names, n=n, cutoff=0.6)
    if not found:  # a user who types "stage" wants every table about stages
        found = [c for c in sorted(names) if name.lower() in c.lower()][:n]
    return found


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3, sep: str = ", ") -> str:
    """'did you mean A, B?' for the candidates closest to name, or '' when none is close.

    >>> did_you_mean("fspb", ["fsbp", "cis_v5"])
    'did you mean fsbp?'
    >>> did_you_mean("zzz", ["fsbp"])
    ''
    """
    found = closest(name, candidates, n)
    return f"did you mean {sep.join(found)}?" if found else ""


def unknown_table(name: str, tables: Iterable[str]) -> str:
    """The start of every "unknown table" message, with the hint when a table name is close.

    >>> unknown_table("aws_api_gateway_stag", ["aws_api_gateway_stage"])
    "unknown table 'aws_api_gateway_stag'; did you mean aws_api_gateway_stage?"
    """
    hint = did_you_mean(name, tables)
    return f"unknown table {name!r}" + (f"; {hint}" if hint else "")
