"""Rendering a check Report: the text summary for people, and one function per machine format.

Flat formats (csv, json, jsonl, markdown) are the findings table rendered by the shared output
module; html, sarif, junit and ocsf have a module each.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from ..output import render
from .control import STATUSES
from .runner import FINDING_COLUMNS, FINDING_TYPES, Report, finding_record

CHECK_FORMATS = ("text", "csv", "json", "jsonl", "markdown", "html", "sarif", "junit", "ocsf")
# --export picks a format from the file name when none is given.
EXTENSIONS = ((".ocsf.json", "ocsf"), (".sarif.json", "sarif"), (".sarif", "sarif"), (".html", "html"),
              (".htm", "html"), (".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json"),
              (".md", "markdown"), (".xml", "junit"), (".txt", "text"))
MAX_ALARMS_SHOWN = 25


def format_for(path: str) -> str | None:
    """The format an export file's name implies.

    >>> format_for("out/report.html"), format_for("r.sarif"), format_for("f.ocsf.json"), format_for("x.bin")
    ('html', 'sarif', 'ocsf', None)
    """
    lower = path.lower()
    return next((fmt for ext, fmt in EXTENSIONS if lower.endswith(ext)), None)


def render_report(report: Report, fmt: str, *, color: bool = False, fail_on: str = "low") -> str:
    if fmt not in CHECK_FORMATS:
        raise ValueError(f"unknown check output format {fmt!r}: use one of {', '.join(CHECK_FORMATS)}")
    if fmt == "text":
        return render_text(report, color=color, fail_on=fail_on)
    if fmt in ("csv", "json", "jsonl", "markdown"):
        rows = [tuple(record[c] for c in FINDING_COLUMNS) for record in map(finding_record, report.findings)]
        columns, types = FINDING_COLUMNS, FINDING_TYPES
        if report.baseline is not None:  # a baseline column, and the resolved alarms after the findings
            columns, types = (*FINDING_COLUMNS, "baseline"), (*FINDING_TYPES, "VARCHAR")
            rows = [(*row, f.baseline) for row, f in zip(rows, report.findings)]
            rows += [(*(record[c] for c in FINDING_COLUMNS), f.baseline)
                     for record, f in zip(map(finding_record, report.resolved), report.resolved)]
        text = render(columns, types, rows, fmt)
        return text if text.endswith("\n") else text + "\n"
    renderer: Callable[[Report], str]
    if fmt == "html":
        from .html_report import render_html as renderer
    elif fmt == "sarif":
        from .sarif import render_sarif as renderer
    elif fmt == "junit":
        from .junit import render_junit as renderer
    else:
        from .ocsf import render_ocsf as renderer
    return renderer(report)


def use_color(stream: Any, choice: str = "auto") -> bool:
    if choice in ("always", "never"):
        return choice == "always"
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ \
        and os.environ.get("TERM") != "dumb"


# ---- text ------------------------------------------------------------------------------------------

_COLORS = {"ok": "32", "alarm": "31", "info": "36", "skip": "90", "error": "35", "muted": "90",
           "critical": "1;31", "high": "31", "medium": "33", "low": "34", "informational": "90", "bold": "1",
           "dim": "2"}
_MARKS = {"alarm": "✗", "error": "!", "ok": "✓", "info": "i", "skip": "-"}


def render_text(report: Report, color: bool = False, fail_on: str = "low") -> str:
    def paint(text: str, style: str) -> str:
        return f"\033[{_COLORS[style]}m{text}\033[0m" if color else text

    lines: list[str] = []
    counts = report.counts()
    regions = ", ".join(report.regions) or "no region"
    accounts = ", ".join(report.accounts) or "no account"
    lines.append(paint(f"apigw-sql check: {len(report.results)} controls, {len(report.findings)} findings", "bold")
                 + f" (account {accounts}; {regions}; {report.elapsed:.1f} s, {report.api_calls} API calls)")
    current = None
    for result in report.results:
        c = result.control
        if c.severity != current:
            current = c.severity
            lines.append("")
            lines.append(paint(c.severity.upper(), c.severity))
        rc = result.counts()
        worst = "error" if rc["error"] else "alarm" if rc["alarm"] else "ok" if rc["ok"] else \
            "info" if rc["info"] else "skip"
        summary = "  ".join(paint(f"{s} {rc[s]}", s) if rc[s] else f"{s} 0" for s in STATUSES if rc[s]) \
            or "no resources"
        muted = f"  ({result.muted} muted)" if result.muted else ""
        lines.append(f"  {paint(_MARKS[worst], worst)} {c.id}: {c.title}")
        lines.append(f"      {summary}{muted}")
        shown = [f for f in result.findings if f.status in ("alarm", "error")]
        for f in shown[:MAX_ALARMS_SHOWN]:
            tag = paint(f.status, "muted" if f.muted else f.status)
            mute = paint(f" [muted: {f.mute_reason}]", "muted") if f.muted else ""
            state = f" [{f.baseline}]" if f.baseline else ""
            lines.append(f"      {tag}{state}  {f.reason}{mute}")
            lines.append(f"             {paint(f.resource, 'dim')}")
        if len(shown) > MAX_ALARMS_SHOWN:
            lines.append(f"      ... and {len(shown) - MAX_ALARMS_SHOWN} more: see --output csv or --export report.html")
    if report.baseline is not None:
        new = sum(1 for f in report.findings if f.status == "alarm" and f.baseline == "new")
        lines.append("")
        lines.append(paint(f"Against the baseline {report.baseline}", "bold")
                     + f": {new} new alarm(s), {len(report.resolved)} resolved")
        for f in report.resolved[:MAX_ALARMS_SHOWN]:
            lines.append(f"  {paint('resolved', 'ok')}  {f.control.id}: {paint(f.resource, 'dim')}")
        if len(report.resolved) > MAX_ALARMS_SHOWN:
            lines.append(f"  ... and {len(report.resolved) - MAX_ALARMS_SHOWN} more: see --output csv")
    lines.append("")
    totals = "  ".join(paint(f"{s} {counts[s]}", s) if counts[s] else f"{s} 0" for s in STATUSES)
    muted = f"  ({report.muted} muted)" if report.muted else ""
    lines.append(paint("Totals", "bold") + f"  {totals}{muted}")
    failing, errors = report.failing(fail_on), report.errors()
    with_alarms = sum(1 for r in report.results if any(f.status == "alarm" and not f.muted for f in r.findings))
    lines.append(f"Controls: {len(report.results)}, {with_alarms} with alarms, "
                 f"{sum(1 for r in report.results if r.error or r.counts()['error'])} with errors.")
    if errors:
        lines.append(paint(f"{len(errors)} error(s): part of the estate was not judged (exit 2).", "error"))
    elif failing:
        lines.append(paint(f"{len(failing)} {'new ' if report.fail_on_new else ''}alarm(s) at or above {fail_on} "
                           "severity (exit 1).", "alarm"))
    else:
        lines.append(paint(f"No unmuted {'new ' if report.fail_on_new else ''}alarm at or above {fail_on} "
                           "severity (exit 0).", "ok"))
    return "\n".join(lines) + "\n"

