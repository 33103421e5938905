"""One input from the prompt or a script: a meta-command, or SQL statements run one after the other.
Whatever goes wrong is printed as one line and the shell goes on.

>>> [kind for kind, text in script_items(".timing on\\nSELECT 1;\\nSELECT\\n2;\\n.tables\\nSELECT 3")]
['meta', 'sql', 'sql', 'meta', 'sql']
"""
from __future__ import annotations

import os
from typing import Any, Iterator

from ..errors import UserError, did_you_mean
from .execute import run_statement
from .meta import COMMANDS, QUIT, ShellError
from .sqltext import is_complete, split_statements, tokenize


def dispatch(session: Any, text: str) -> bool:
    """Run one input from the prompt; False when the shell should end."""
    stripped = text.strip()
    if not stripped:
        return True
    try:
        if stripped.startswith("."):
            return run_meta(session, stripped) is not QUIT
        statements = split_statements(text)
        for n, statement in enumerate(statements, start=1):
            try:
                run_statement(session, statement)
            except Exception as exc:  # noqa: BLE001 - reported; the remaining statements still run
                if _is_cancel(exc):
                    raise
                report(session, exc, f"statement {n}: " if len(statements) > 1 else "")
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the shell goes on after any error
        report(session, exc)
    return True


def run_meta(session: Any, text: str) -> Any:
    name, _, arg = text.strip().partition(" ")
    meta = COMMANDS.get(name.lower())
    if meta is None:
        hint = did_you_mean(name.lower(), COMMANDS, n=2, sep=" or ")
        hint = f"{hint} " if hint else ""
        raise ShellError(f"unknown command {name}: {hint}(.help lists the commands; SQL ends with ;)")
    return meta.run(session, arg.strip())


def script_items(text: str) -> Iterator[tuple[str, str]]:
    """('meta', line) and ('sql', statement) items of a script, in order."""
    pending: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith(".") and not any(t.significant for t in tokenize("\n".join(pending))):
            pending = []
            yield "meta", line.strip()
            continue
        pending.append(line)
        if is_complete("\n".join(pending)):
            for statement in split_statements("\n".join(pending)):
                yield "sql", statement
            pending = []
    for statement in split_statements("\n".join(pending)):
        yield "sql", statement


def run_script(session: Any, text: str) -> Any:
    """Run each meta-command and statement of a script; errors are reported and the script goes on;
    Ctrl-C stops it. Returns QUIT when the script says .quit."""
    failed = 0
    for kind, item in script_items(text):
        try:
            if kind == "meta":
                if run_meta(session, item) is QUIT:
                    return QUIT
            else:
                run_statement(session, item)
        except Exception as exc:  # noqa: BLE001 - reported; the script goes on
            if _is_cancel(exc):
                raise
            failed += 1
            report(session, exc, f"{_first_line(item)}: " if kind == "sql" else "")
    return failed


def report(session: Any, exc: BaseException, prefix: str = "") -> None:
    """Print an error as one line; only a bug in apigw-sql shows a traceback (with APIGW_SQL_DEBUG=1)."""
    if _is_cancel(exc) or isinstance(exc, KeyboardInterrupt):
        print("cancelled", file=session.err)
        return
    if isinstance(exc, OSError) and exc.strerror:
        message = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    elif isinstance(exc, (UserError, UnicodeDecodeError)):
        message = str(exc)
    else:
        message = f"{type(exc).__name__}: {exc} (a bug in apigw-sql; APIGW_SQL_DEBUG=1 shows where)"
        if os.environ.get("APIGW_SQL_DEBUG"):
            import traceback

            traceback.print_exception(exc, file=session.err)
    print(f"error: {prefix}{message}", file=session.err)


def _is_cancel(exc: BaseException) -> bool:
    from ..ratelimit import Cancelled

    return isinstance(exc, Cancelled)


def _first_line(sql: str) -> str:
    line = sql.strip().splitlines()[0] if sql.strip() else ""
    return line if len(line) <= 40 else line[:39] + "…"
