"""Run one SQL statement from the shell: in a cancellable worker, with the progress line, then show
the result, the fetch warnings and (with `.timing on`) what it cost."""
from __future__ import annotations

from typing import Any

from . import display
from .progress import ProgressLine
from .session import Tabular
from .worker import CancelToken, run_cancellable


def run_statement(session: Any, sql: str) -> None:
    line = ProgressLine(session.err)

    def work(token: CancelToken) -> Any:
        con = open_for(session, line, token)
        return con.sql(sql, on_progress=line.update)

    with line:
        result = run_cancellable(session, work, line)
    show_result(session, result)


def open_for(session: Any, line: ProgressLine, token: CancelToken) -> Any:
    """The connection, with the progress line saying so while it opens (the sandbox may be starting)."""
    if session.connection_if_ready() is None:
        line.status = "starting the sandbox" if getattr(session.args, "sandbox", False) else "connecting"
    con = session.connection()
    token.check()
    line.status = None
    line.regions = len(con.config.regions) if con.config.regions else None
    return con


def show_result(session: Any, result: Any) -> None:
    for err in result.errors:
        print(err.line(), file=session.err)
    if result.columns:
        session.last = Tabular(list(result.columns), list(result.types), result.rows, result.arrow())
        display.show(session, session.last.columns, session.last.types, session.last.rows)
    if session.timing:
        print(timing_line(result), file=session.err)


def timing_line(result: Any) -> str:
    """
    >>> from types import SimpleNamespace as R
    >>> timing_line(R(elapsed=0.4213, calls=12, cache_hits=3, throttled=0, columns=["a"], table=None))
    'time 0.421 s · 0 rows · 12 API calls · 3 cache hits · 0 throttling retries'
    """
    rows = 0 if result.table is None else result.table.num_rows
    return (f"time {result.elapsed:.3f} s · {rows} row{'' if rows == 1 else 's'} · {result.calls} API call"
            f"{'' if result.calls == 1 else 's'} · {result.cache_hits} cache hit{'' if result.cache_hits == 1 else 's'}"
            f" · {result.throttled} throttling retr{'y' if result.throttled == 1 else 'ies'}")
