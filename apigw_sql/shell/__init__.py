"""The interactive SQL shell (`apigw-sql`, `apigw-sql shell`).

Importing this package loads nothing heavy: prompt-toolkit loads when the shell starts, DuckDB and boto3
in a background thread once the prompt shows, the sandbox only with --sandbox.

Modules, one job each: `repl` (the loop), `dispatch` (one input: meta-command or SQL), `meta` (the meta-commands), `execute` (one statement
and its result), `worker` (Ctrl-C cancels), `progress` (the status line), `display` (fit and page),
`completion`, `lexer` (highlighting), `sqltext` (tokens), `session` (state and the lazy connection),
`history`, `vocabulary`. `.run` runs controls with `apigw_sql.controls.run_controls`, as `check` does.
"""
from __future__ import annotations

import argparse


def run_shell(args: argparse.Namespace) -> int:
    from .repl import run_shell as run

    return run(args)
