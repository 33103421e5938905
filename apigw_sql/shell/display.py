"""Show a result on the terminal: tables fitted to its width, long or wide output paged.

Formatting itself is `apigw_sql.output.render`; this module only picks `max_width` so a table fits,
and decides between writing and paging. Nothing is fitted or paged when stdout is not a TTY.

>>> from apigw_sql.output import render
>>> fitted = render(["name", "description"], ["VARCHAR"] * 2, [("a", "x" * 60)], "table", fit_width(
...     render(["name", "description"], ["VARCHAR"] * 2, [("a", "x" * 60)], "table"), 40))
>>> max(len(line) for line in fitted.splitlines()) <= 40
True
"""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any, TextIO

from ..output import render

MAX_TABLE_ROWS = 10_000  # beyond this a table is cut (tabulate is slow); .export writes every row
MIN_CELL = 6


def show(session: Any, columns: list[str], types: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Write rows in the session's output format, fitted and paged when stdout is a terminal."""
    out: TextIO = session.out
    tty = _isatty(out)
    fmt = session.format
    size = shutil.get_terminal_size()
    notes: list[str] = []
    shown = rows
    if fmt == "table" and tty and len(rows) > MAX_TABLE_ROWS:
        shown = rows[:MAX_TABLE_ROWS]
        notes.append(f"showing the first {MAX_TABLE_ROWS} of {len(rows)} rows: .export FILE saves them all")
    text = render(columns, types, shown, fmt)
    too_wide = False
    if fmt == "table" and tty:
        width = fit_width(text, size.columns)
        if width is not None:
            text = render(columns, types, shown, fmt, width)
        too_wide = _widest(text) > size.columns
    if fmt == "table":
        notes.insert(0, f"{len(rows)} row" + ("" if len(rows) == 1 else "s"))
    if too_wide:
        notes.append("wider than the terminal: name fewer columns, or .output line for one column per line")
    body = text.rstrip("\n")
    text = "".join(part + "\n" for part in ([body] if body else []) + notes)
    lines = text.count("\n")
    if tty and session.pager and (lines > size.lines - 2 or too_wide):
        page(text, out)
        return
    if too_wide:
        text = "".join(_chop(line, size.columns) + "\n" for line in text.splitlines())
    out.write(text)
    out.flush()


def fit_width(table_text: str, columns: int) -> int | None:
    """The largest cell width (render's max_width) at which the rendered table fits `columns`;
    None when it already fits, MIN_CELL * 3 when nothing fits (the pager scrolls sideways then)."""
    if _widest(table_text) <= columns:
        return None
    lines = table_text.splitlines()
    if not lines or len(lines) < 2:
        return None
    border, header = lines[0], lines[1]
    natural = [len(seg) - 2 for seg in border[1:-1].split("┬")]
    headers = [len(cell.strip()) + 2 for cell in header[1:-1].split("│")]
    if len(natural) != len(headers):
        return None
    overhead = 3 * len(natural) + 1
    for cap in range(max(natural), MIN_CELL - 1, -1):
        total = sum(max(min(w, cap), min(w, h)) for w, h in zip(natural, headers)) + overhead
        if total <= columns:
            return cap
    return MIN_CELL * 3


def page(text: str, out: TextIO) -> None:
    """Show text through $PAGER (default `less -SRFX`: scroll sideways, quit when it fits one screen)."""
    command = os.environ.get("PAGER")
    if command is None:
        command = "less" if shutil.which("less") else ""
    if not command.strip():
        out.write(text)
        out.flush()
        return
    env = dict(os.environ)
    env.setdefault("LESS", "-SRFX")
    out.flush()
    try:
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env, encoding="utf-8",
                                errors="replace")
    except OSError:
        out.write(text)
        return
    try:
        assert proc.stdin is not None
        proc.stdin.write(text)
        proc.stdin.close()
    except (BrokenPipeError, OSError):  # the user quit the pager before the end
        pass
    except KeyboardInterrupt:
        pass
    while True:
        try:
            proc.wait()
            break
        except KeyboardInterrupt:  # the pager handles Ctrl-C itself
            continue


def _widest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _chop(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
