"""The HTML report: one self-contained file (inline CSS, no script, no external resource) that a
person opens in a browser: a summary first, then the controls by severity with their findings
and remediation."""
from __future__ import annotations

from html import escape
from typing import Iterable

from .. import __version__
from .control import SEVERITIES, STATUSES
from .runner import ControlResult, Finding, Report

_CSS = """
:root { --ok:#1a7f37; --alarm:#cf222e; --info:#0969da; --skip:#6e7781; --error:#8250df; --muted:#57606a;
  --critical:#a40e26; --high:#cf222e; --medium:#bc4c00; --low:#0969da; --informational:#6e7781;
  --border:#d0d7de; --bg:#f6f8fa; --text:#1f2328; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--text);
  margin: 0; background: #fff; }
header { background: #24292f; color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #d0d7de; }
main { padding: 24px 40px 64px; max-width: 1280px; }
h2 { font-size: 20px; border-bottom: 1px solid var(--border); padding-bottom: 6px; margin-top: 36px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid var(--border); border-radius: 8px; padding: 12px 18px; min-width: 120px; background: var(--bg); }
.card .n { font-size: 28px; font-weight: 600; display: block; }
.card.alarm .n { color: var(--alarm); } .card.ok .n { color: var(--ok); } .card.error .n { color: var(--error); }
.card.info .n { color: var(--info); } .card.skip .n, .card.muted .n { color: var(--skip); }
.verdict { font-size: 16px; font-weight: 600; padding: 10px 14px; border-radius: 6px; display: inline-block; }
.verdict.fail { background: #ffebe9; color: var(--alarm); } .verdict.pass { background: #dafbe1; color: var(--ok); }
.verdict.incomplete { background: #fbefff; color: var(--error); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #fff; white-space: nowrap; }
.pill.ok { background: var(--ok); } .pill.alarm { background: var(--alarm); } .pill.info { background: var(--info); }
.pill.skip { background: var(--skip); } .pill.error { background: var(--error); } .pill.muted { background: var(--muted); }
.sev { display: inline-block; min-width: 92px; text-align: center; padding: 0 6px; border-radius: 4px;
  font-size: 12px; font-weight: 700; text-transform: uppercase; color: #fff; }
.sev.critical { background: var(--critical); } .sev.high { background: var(--high); }
.sev.medium { background: var(--medium); } .sev.low { background: var(--low); }
.sev.informational { background: var(--informational); }
details.control { border: 1px solid var(--border); border-radius: 8px; margin: 10px 0; }
details.control > summary { cursor: pointer; padding: 10px 14px; list-style: none; display: flex; gap: 10px;
  align-items: center; flex-wrap: wrap; background: var(--bg); border-radius: 8px; }
details.control[open] > summary { border-bottom: 1px solid var(--border); border-radius: 8px 8px 0 0; }
details.control > summary .title { font-weight: 600; flex: 1 1 320px; }
details.control > summary code { color: var(--muted); }
.body { padding: 4px 16px 12px; }
.meta { color: var(--muted); margin: 6px 0; }
.resource { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; color: var(--muted);
  word-break: break-all; }
.remediation { background: var(--bg); border-left: 4px solid var(--info); padding: 8px 12px; white-space: pre-wrap;
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
tr.muted td { color: var(--muted); }
a { color: var(--info); text-decoration: none; } a:hover { text-decoration: underline; }
footer { color: var(--muted); margin-top: 40px; font-size: 12px; }
@media print { details.control { break-inside: avoid; } header { background: none; color: #000; } }
"""


def render_html(report: Report, title: str = "API Gateway and CloudTrail audit") -> str:
    counts = report.counts()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(title)} - apigw-sql</title><style>{_CSS}</style></head><body>",
             f"<header><h1>{escape(title)}</h1><p>{escape(_subtitle(report))}</p></header><main>"]
    parts.append('<section id="summary"><h2>Summary</h2>')
    parts.append(_verdict(report))
    parts.append('<div class="cards">')
    for status in ("alarm", "error", "ok", "info", "skip"):
        parts.append(f'<div class="card {status}"><span class="n">{counts[status]}</span>{status}</div>')
    parts.append(f'<div class="card muted"><span class="n">{report.muted}</span>muted</div>')
    parts.append(f'<div class="card"><span class="n">{len(report.results)}</span>controls</div></div>')
    parts.append(_severity_matrix(report))
    parts.append(_control_index(report.results))
    parts.append("</section>")
    for severity in SEVERITIES:
        results = [r for r in report.results if r.control.severity == severity]
        if not results:
            continue
        parts.append(f'<section id="severity-{severity}"><h2><span class="sev {severity}">{severity}</span> '
                     f"{len(results)} control{'s' if len(results) != 1 else ''}</h2>")
        parts.extend(_control(r) for r in results)
        parts.append("</section>")
    if report.warnings:
        parts.append("<section><h2>Warnings</h2><ul>")
        parts.extend(f"<li>{escape(w)}</li>" for w in report.warnings)
        parts.append("</ul></section>")
    parts.append(f"<footer>Generated by apigw-sql {escape(__version__)} on "
                 f"{escape(report.started_at.strftime('%Y-%m-%d %H:%M UTC'))}. Each control is a SQL file: "
                 "run it yourself with <code>apigw-sql query -f FILE</code>.</footer></main></body></html>")
    return "\n".join(parts) + "\n"


def _subtitle(report: Report) -> str:
    accounts = ", ".join(report.accounts) or "no account"
    regions = ", ".join(report.regions) or "no region"
    return (f"Account {accounts} · regions {regions} · {report.started_at.strftime('%Y-%m-%d %H:%M UTC')} · "
            f"{len(report.results)} controls, {len(report.findings)} findings · {report.api_calls} API calls "
            f"in {report.elapsed:.1f} s")


def _verdict(report: Report) -> str:
    errors, alarms = report.errors(), report.failing("informational")
    if errors:
        return (f'<p class="verdict incomplete">Incomplete: {len(errors)} error(s) left part of the estate '
                "unjudged.</p>")
    if alarms:
        controls = len({f.control.id for f in alarms})
        return (f'<p class="verdict fail">{len(alarms)} unmuted alarm{"s" if len(alarms) != 1 else ""} '
                f"in {controls} control{'s' if controls != 1 else ''}.</p>")
    return '<p class="verdict pass">No unmuted alarm.</p>'


def _severity_matrix(report: Report) -> str:
    rows = ["<table><thead><tr><th>Severity</th><th>Controls</th>"
            + "".join(f"<th>{s}</th>" for s in STATUSES) + "</tr></thead><tbody>"]
    for severity in SEVERITIES:
        results = [r for r in report.results if r.control.severity == severity]
        if not results:
            continue
        totals = dict.fromkeys(STATUSES, 0)
        for r in results:
            for status, n in r.counts().items():
                totals[status] += n
        rows.append(f'<tr><td><a href="#severity-{severity}"><span class="sev {severity}">{severity}</span></a></td>'
                    f'<td class="num">{len(results)}</td>'
                    + "".join(f'<td class="num">{totals[s]}</td>' for s in STATUSES) + "</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _control_index(results: Iterable[ControlResult]) -> str:
    flagged = [r for r in results if any(f.status in ("alarm", "error") and not f.muted for f in r.findings)]
    if not flagged:
        return ""
    items = "".join(f'<li><span class="sev {r.control.severity}">{r.control.severity}</span> '
                    f'<a href="#{escape(r.control.id)}">{escape(r.control.title)}</a> '
                    f"({_alarm_phrase(r)})</li>" for r in flagged)
    return f"<h3>Controls to act on</h3><ul>{items}</ul>"


def _alarm_phrase(r: ControlResult) -> str:
    c = r.counts()
    parts = [f"{c[s]} {s}{'s' if c[s] != 1 else ''}" for s in ("alarm", "error") if c[s]]
    return ", ".join(parts)


def _control(r: ControlResult) -> str:
    c = r.control
    counts = r.counts()
    pills = " ".join(f'<span class="pill {s}">{counts[s]} {s}</span>' for s in STATUSES if counts[s]) \
        or '<span class="pill skip">no resources</span>'
    if r.muted:
        pills += f' <span class="pill muted">{r.muted} muted</span>'
    is_open = " open" if counts["alarm"] or counts["error"] else ""
    out = [f'<details class="control" id="{escape(c.id)}"{is_open}><summary>'
           f'<span class="sev {c.severity}">{c.severity}</span><span class="title">{escape(c.title)}</span>'
           f"<code>{escape(c.id)}</code> {pills}</summary><div class=\"body\">"]
    out.append(f"<p>{escape(c.description)}</p>")
    meta = [f"Resource: {escape(c.resource_type)}"]
    if c.frameworks:
        meta.append("Frameworks: " + escape(", ".join(c.framework_refs())))
    if c.aliases:
        meta.append("Also known as: " + escape(", ".join(c.aliases)))
    out.append(f'<p class="meta">{" · ".join(meta)}</p>')
    if r.findings:
        out.append("<table><thead><tr><th>Status</th><th>Resource and reason</th><th>Account</th><th>Region</th>"
                   "</tr></thead><tbody>")
        out.extend(_finding_row(f) for f in r.findings)
        out.append("</tbody></table>")
    else:
        out.append('<p class="meta">No resource of this kind in the regions read.</p>')
    out.append(f'<h4>Remediation</h4><div class="remediation">{escape(c.remediation)}</div></div></details>')
    return "".join(out)


def _finding_row(f: Finding) -> str:
    muted = f' <span class="pill muted" title="{escape(f.mute_reason or "")}">muted</span>' if f.muted else ""
    note = f'<div class="meta">Muted: {escape(f.mute_reason or "")}</div>' if f.muted else ""
    return (f'<tr class="{"muted" if f.muted else f.status}"><td><span class="pill {f.status}">{f.status}</span>'
            f"{muted}</td><td>{escape(f.reason)}<div class=\"resource\">{escape(f.resource)}</div>{note}</td>"
            f'<td class="nowrap">{escape(f.account_id or "")}</td><td class="nowrap">{escape(f.region or "")}</td></tr>')
