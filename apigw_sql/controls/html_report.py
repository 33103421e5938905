"""The HTML report: one self-contained file (inline CSS and script, no external resource, no network
access) that a security team keeps open: a summary and breakdowns by severity, region and account first,
then the controls, collapsed, with their counts; filters (severity, status, region, account, muted), a text
search and sortable columns narrow the findings.

The findings travel as one embedded JSON document (strings interned, rows as arrays) that the script
renders on demand: a large audit stays a few hundred bytes per finding, and a control's rows are built
only when its section is opened or a search matches in it. The filters live in the URL fragment
(``report.html#q=prod&status=alarm``), so a filtered view can be bookmarked or sent.
"""
from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import Any

from .. import __version__
from .control import SEVERITIES, STATUSES
from .runner import Report

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
.pill.new { background: var(--alarm); }
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
.breakdowns { display: flex; gap: 24px; flex-wrap: wrap; }
.breakdowns > div { flex: 1 1 420px; }
.filters { position: sticky; top: 0; z-index: 2; background: #fff; padding: 10px 0; display: flex; gap: 8px;
  flex-wrap: wrap; align-items: center; border-bottom: 1px solid var(--border); }
.filters input[type=search] { flex: 1 1 280px; padding: 6px 10px; font: inherit; border: 1px solid var(--border);
  border-radius: 6px; }
.filters select, .filters button { padding: 5px 8px; font: inherit; border: 1px solid var(--border); border-radius: 6px;
  background: var(--bg); }
.filters button { cursor: pointer; }
#shown { color: var(--muted); margin: 8px 0; }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
th.sortable::after { content: " ↕"; color: var(--border); }
th.sorted-asc::after { content: " ↑"; color: var(--text); } th.sorted-desc::after { content: " ↓"; color: var(--text); }
button.more { border: none; background: none; color: var(--info); cursor: pointer; padding: 0 4px; font: inherit; }
.reason { white-space: pre-wrap; word-break: break-word; }
"""


def render_html(report: Report, title: str = "API Gateway and CloudTrail audit") -> str:
    counts = report.counts()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             # No network: nothing may be loaded from anywhere, whatever a finding's text holds.
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
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
    parts.append('<div class="breakdowns">')
    parts.append(_breakdown(report, "region", "Region"))
    parts.append(_breakdown(report, "account_id", "Account"))
    parts.append("</div></section>")
    parts.append('<section id="controls"><h2>Controls and findings</h2>'
                 '<noscript><p class="verdict incomplete">The filters and findings need JavaScript: '
                 "open this file in a browser with scripts allowed, or use --output csv.</p></noscript>"
                 '<div class="filters" role="search">'
                 '<input type="search" id="search" placeholder="Search resources, reasons, controls..." '
                 'aria-label="Search findings">'
                 + "".join(f'<select id="filter-{name}" aria-label="{label}"><option value="">{label}: all</option>'
                           "</select>" for name, label in _FILTERS)
                 + '<button type="button" id="expand">Expand all</button>'
                 '<button type="button" id="collapse">Collapse all</button>'
                 '<button type="button" id="reset">Reset</button></div>'
                 '<p id="shown"></p><div id="control-list"></div></section>')
    if report.baseline is not None:
        parts.append(_baseline_section(report))
    if report.warnings:
        parts.append("<section><h2>Warnings</h2><ul>")
        parts.extend(f"<li>{escape(w)}</li>" for w in report.warnings)
        parts.append("</ul></section>")
    parts.append(f"<footer>Generated by apigw-sql {escape(__version__)} on "
                 f"{escape(report.started_at.strftime('%Y-%m-%d %H:%M UTC'))}. Each control is a SQL file: "
                 "run it yourself with <code>apigw-sql query -f FILE</code>.</footer></main>")
    parts.append(f'<script type="application/json" id="report-data">{_data_json(report)}</script>')
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _baseline_section(report: Report) -> str:
    """The findings compared with --baseline: how many alarms are new, and the alarms resolved since."""
    new = [f for f in report.findings if f.status == "alarm" and f.baseline == "new"]
    parts = [f'<section id="baseline"><h2>Against the baseline</h2><p>{escape(report.baseline or "")}: '
             f"{len(new)} new alarm{'s' if len(new) != 1 else ''} (marked new below), "
             f"{len(report.resolved)} resolved.</p>"]
    if report.resolved:
        parts.append("<table><thead><tr><th>Control</th><th>Resource</th><th>Account</th><th>Region</th>"
                     "<th>Reason in the baseline</th></tr></thead><tbody>")
        parts.extend(f"<tr><td><code>{escape(f.control.id)}</code></td><td class=\"resource\">{escape(f.resource)}</td>"
                     f"<td>{escape(f.account_id or '')}</td><td>{escape(f.region or '')}</td>"
                     f"<td>{escape(f.reason)}</td></tr>" for f in report.resolved)
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


_FILTERS = (("severity", "Severity"), ("status", "Status"), ("region", "Region"), ("account", "Account"),
            ("muted", "Muted"))


def _data_json(report: Report) -> str:
    """The report's controls and findings as compact JSON, safe inside a <script> element.

    Findings are rows ``[control, status, resource, reason, account, region, severity, muted, mute reason]``
    whose strings that repeat (resources, accounts, regions) are indexes into shared lists.
    """
    strings: dict[str, int] = {}

    def intern(value: str | None) -> int:
        return strings.setdefault(value or "", len(strings))

    controls, findings = [], []
    fresh: list[int] = []  # with --baseline: the findings that are new
    ordered = sorted(report.results, key=lambda r: (r.control.severity_rank, r.control.id))  # the most severe first
    for index, r in enumerate(ordered):
        c = r.control
        controls.append({"id": c.id, "title": c.title, "severity": SEVERITIES.index(c.severity),
                         "description": c.description, "remediation": c.remediation,
                         "resource_type": c.resource_type, "frameworks": c.framework_refs(),
                         "aliases": list(c.aliases), "error": r.error})
        for f in r.findings:
            row: list[Any] = [index, STATUSES.index(f.status), intern(f.resource), f.reason, intern(f.account_id),
                              intern(f.region), SEVERITIES.index(f.severity)]
            if f.muted:
                row += [1, f.mute_reason or ""]
            if f.baseline == "new":
                fresh.append(len(findings))
            findings.append(row)
    data = {"severities": SEVERITIES, "statuses": STATUSES, "strings": list(strings), "controls": controls,
            "findings": findings}
    if report.baseline is not None:
        data["new"] = fresh
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    # Inside <script> only "</script" and "<!--" could end or confuse the element: escape every "<" (and the
    # two line separators older parsers take for line ends).
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


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
    rows = ["<h3>By severity</h3><table><thead><tr><th>Severity</th><th>Controls</th>"
            + "".join(f"<th>{s}</th>" for s in STATUSES) + "</tr></thead><tbody>"]
    for severity in SEVERITIES:
        results = [r for r in report.results if r.control.severity == severity]
        if not results:
            continue
        totals = dict.fromkeys(STATUSES, 0)
        for r in results:
            for status, n in r.counts().items():
                totals[status] += n
        rows.append(f'<tr><td><a href="#severity={severity}"><span class="sev {severity}">{severity}</span></a></td>'
                    f'<td class="num">{len(results)}</td>'
                    + "".join(f'<td class="num">{totals[s]}</td>' for s in STATUSES) + "</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _breakdown(report: Report, attribute: str, label: str) -> str:
    """Findings per region (or account) and status; each name links to the findings filtered by it."""
    counts: Counter[tuple[str, str]] = Counter()
    muted: Counter[str] = Counter()
    for f in report.findings:
        key = getattr(f, attribute) or ""
        counts[key, f.status] += 1
        muted[key] += f.muted
    keys = sorted({k for k, _ in counts}, key=lambda k: (-counts[k, "alarm"] - counts[k, "error"], k))
    fragment = "region" if attribute == "region" else "account"
    rows = [f'<div><h3>By {label.lower()}</h3><table class="breakdown" id="by-{fragment}"><thead><tr>'
            f"<th>{label}</th>" + "".join(f"<th>{s}</th>" for s in ("alarm", "error", "ok", "info", "skip"))
            + "<th>muted</th></tr></thead><tbody>"]
    for key in keys:
        name = escape(key) if key else "(none)"
        link = f'<a href="#{fragment}={escape(key)}">{name}</a>' if key else name
        rows.append(f"<tr><td>{link}</td>"
                    + "".join(f'<td class="num">{counts[key, s]}</td>' for s in ("alarm", "error", "ok", "info", "skip"))
                    + f'<td class="num">{muted[key]}</td></tr>')
    rows.append("</tbody></table></div>")
    return "".join(rows)


# The page's script: reads the embedded data and the URL fragment, fills the filters and draws the controls.
# It builds every node with textContent, never from markup, so a finding's text cannot become HTML.
_SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var S = D.strings, REASON_SHOWN = 240, ROWS_SHOWN = 200;
  var FIELDS = ["q", "severity", "status", "region", "account", "muted", "sort", "dir", "open"];
  var state = {};
  var opened = {};   // control id -> true when its section is open
  var extra = {};    // control id -> true when all its rows are shown
  var NEW = {};
  (D.new || []).forEach(function (i) { NEW[i] = true; });
  var rows = D.findings.map(function (f, i) {
    var c = D.controls[f[0]];
    return {i: i, fresh: NEW[i] === true,
            control: f[0], status: D.statuses[f[1]], resource: S[f[2]], reason: f[3], account: S[f[4]],
            region: S[f[5]], severity: f[6], muted: f[7] === 1, muteReason: f[8] || "",
            text: (S[f[2]] + "\n" + f[3] + "\n" + S[f[4]] + "\n" + S[f[5]] + "\n" + c.id + "\n" + c.title +
                   "\n" + (f[8] || "")).toLowerCase()};
  });
  var byControl = D.controls.map(function () { return []; });
  rows.forEach(function (r) { byControl[r.control].push(r); });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    state = {};
    FIELDS.forEach(function (k) { state[k] = params.get(k) || ""; });
    opened = {};
    if (state.open === "all") D.controls.forEach(function (c) { opened[c.id] = true; });
    else state.open.split(",").forEach(function (id) { if (id) opened[id] = true; });
  }
  function writeHash() {
    var params = new URLSearchParams();
    FIELDS.forEach(function (k) { if (state[k]) params.set(k, state[k]); });
    var text = params.toString();
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
  }
  function fillSelect(name, values) {
    var select = document.getElementById("filter-" + name);
    var label = select.options[0].textContent.split(":")[0];  // "Status: alarm" says what is filtered
    values.forEach(function (v) {
      var o = el("option", null, label + ": " + v[1]); o.value = v[0]; select.appendChild(o);
    });
  }
  function distinct(key) {
    var seen = {};
    rows.forEach(function (r) { if (r[key]) seen[r[key]] = true; });
    return Object.keys(seen).sort().map(function (v) { return [v, v]; });
  }
  fillSelect("severity", D.severities.map(function (s) { return [s, s]; }));
  fillSelect("status", D.statuses.map(function (s) { return [s, s]; }));
  fillSelect("region", distinct("region"));
  fillSelect("account", distinct("account"));
  fillSelect("muted", [["no", "unmuted only"], ["yes", "muted only"]]);

  function matches(r) {
    if (state.severity && D.severities[r.severity] !== state.severity) return false;
    if (state.status && r.status !== state.status) return false;
    if (state.region && r.region !== state.region) return false;
    if (state.account && r.account !== state.account) return false;
    if (state.muted === "yes" && !r.muted) return false;
    if (state.muted === "no" && r.muted) return false;
    if (state.q) {
      var words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      for (var i = 0; i < words.length; i++) if (r.text.indexOf(words[i]) < 0) return false;
    }
    return true;
  }
  var SORTS = {
    severity: function (r) { return r.severity; },
    status: function (r) { return ["alarm", "error", "info", "skip", "ok"].indexOf(r.status) * 2 + (r.muted ? 1 : 0); },
    resource: function (r) { return r.resource.toLowerCase(); },
    reason: function (r) { return r.reason.toLowerCase(); },
    account: function (r) { return r.account; },
    region: function (r) { return r.region; }
  };
  function sorted(list) {
    var key = SORTS[state.sort] || SORTS.status, dir = state.dir === "desc" ? -1 : 1;
    return list.slice().sort(function (a, b) {
      var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : a.i - b.i) * dir;
    });
  }
  function pill(cls, text) { return el("span", "pill " + cls, text); }
  function reasonCell(r) {
    var td = el("td"), span = el("span", "reason");
    var long = r.reason.length > REASON_SHOWN;
    span.textContent = long ? r.reason.slice(0, REASON_SHOWN) + "…" : r.reason;
    td.appendChild(span);
    if (long) {
      var more = el("button", "more", "show all");
      more.type = "button";
      more.addEventListener("click", function () { span.textContent = r.reason; more.remove(); });
      td.appendChild(more);
    }
    if (r.muted) td.appendChild(el("div", "meta", "Muted: " + r.muteReason));
    return td;
  }
  var COLUMNS = [["severity", "Severity"], ["status", "Status"], ["resource", "Resource"], ["reason", "Reason"],
                 ["account", "Account"], ["region", "Region"]];
  function table(control, list) {
    var t = el("table", "findings"), head = el("tr"), body = el("tbody");
    COLUMNS.forEach(function (col) {
      var th = el("th", "sortable", col[1]);
      th.dataset.sort = col[0];
      if (state.sort === col[0] || (!state.sort && col[0] === "status"))
        th.className += state.dir === "desc" ? " sorted-desc" : " sorted-asc";
      th.addEventListener("click", function () {
        var same = (state.sort || "status") === col[0];
        state.dir = same && state.dir !== "desc" ? "desc" : "";
        state.sort = col[0] === "status" ? "" : col[0];
        writeHash();
        render();
      });
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    t.appendChild(thead);
    var shown = extra[control.id] ? list : list.slice(0, ROWS_SHOWN);
    shown.forEach(function (r) {
      var tr = el("tr", "finding " + (r.muted ? "muted" : r.status));
      tr.dataset.resource = r.resource;
      var sev = D.severities[r.severity];
      var td = el("td", "nowrap"); td.appendChild(el("span", "sev " + sev, sev)); tr.appendChild(td);
      td = el("td", "nowrap"); td.appendChild(pill(r.status, r.status));
      if (r.muted) { td.appendChild(document.createTextNode(" ")); td.appendChild(pill("muted", "muted")); }
      if (r.fresh) { td.appendChild(document.createTextNode(" ")); td.appendChild(pill("new", "new")); }
      tr.appendChild(td);
      tr.appendChild(el("td", "resource", r.resource));
      tr.appendChild(reasonCell(r));
      tr.appendChild(el("td", "nowrap", r.account));
      tr.appendChild(el("td", "nowrap", r.region));
      body.appendChild(tr);
    });
    t.appendChild(body);
    var wrap = el("div");
    wrap.appendChild(t);
    if (shown.length < list.length) {
      var more = el("button", "more", "Show all " + list.length + " findings");
      more.type = "button";
      more.addEventListener("click", function () { extra[control.id] = true; render(); });
      wrap.appendChild(more);
    }
    return wrap;
  }
  function sectionBody(c, list) {
    var body = el("div", "body");
    body.appendChild(el("p", null, c.description));
    var meta = ["Resource: " + c.resource_type];
    if (c.frameworks.length) meta.push("Frameworks: " + c.frameworks.join(", "));
    if (c.aliases.length) meta.push("Also known as: " + c.aliases.join(", "));
    body.appendChild(el("p", "meta", meta.join(" · ")));
    if (c.error) body.appendChild(el("p", "verdict incomplete", c.error));
    if (list.length) body.appendChild(table(c, sorted(list)));
    else body.appendChild(el("p", "meta", byControl[D.controls.indexOf(c)].length ?
      "No finding matches the filters." : "No resource of this kind in the regions read."));
    body.appendChild(el("h4", null, "Remediation"));
    body.appendChild(el("div", "remediation", c.remediation));
    return body;
  }
  function render() {
    var list = document.getElementById("control-list");
    list.textContent = "";
    var filtering = !!(state.q || state.severity || state.status || state.region || state.account || state.muted);
    var total = 0, controlsShown = 0;
    D.controls.forEach(function (c, index) {
      var all = byControl[index], hits = all.filter(matches);
      if (filtering && !hits.length) return;
      controlsShown++;
      total += hits.length;
      var counts = {}, muted = 0;
      hits.forEach(function (r) { counts[r.status] = (counts[r.status] || 0) + 1; if (r.muted) muted++; });
      var details = el("details", "control");
      details.id = c.id;
      var isOpen = opened[c.id] || (!!state.q && hits.length > 0);
      var summary = el("summary"), sev = D.severities[c.severity];
      summary.appendChild(el("span", "sev " + sev, sev));
      summary.appendChild(el("span", "title", c.title));
      summary.appendChild(el("code", null, c.id));
      var any = false;
      D.statuses.forEach(function (s) {
        if (counts[s]) { summary.appendChild(pill(s, counts[s] + " " + s)); any = true; }
      });
      if (!any) summary.appendChild(pill("skip", "no resources"));
      if (muted) summary.appendChild(pill("muted", muted + " muted"));
      details.appendChild(summary);
      if (isOpen) { details.open = true; details.appendChild(sectionBody(c, hits)); }
      var wasOpen = isOpen;  // setting .open fires a toggle too: react to the reader's clicks only
      details.addEventListener("toggle", function () {
        if (details.open === wasOpen) return;
        wasOpen = details.open;
        if (details.open && !details.querySelector(".body")) details.appendChild(sectionBody(c, hits));
        if (details.open) opened[c.id] = true; else delete opened[c.id];
        state.open = Object.keys(opened).join(",");
        writeHash();
      });
      list.appendChild(details);
    });
    document.getElementById("shown").textContent = filtering ?
      total + " of " + rows.length + " findings match, in " + controlsShown + " of " + D.controls.length + " controls." :
      rows.length + " findings in " + D.controls.length + " controls. Open a control to see its findings.";
  }
  function syncInputs() {
    document.getElementById("search").value = state.q;
    ["severity", "status", "region", "account", "muted"].forEach(function (k) {
      document.getElementById("filter-" + k).value = state[k];
    });
  }
  var pending = null;
  document.getElementById("search").addEventListener("input", function (e) {
    state.q = e.target.value.trim();
    clearTimeout(pending);
    pending = setTimeout(function () { writeHash(); render(); }, 120);
  });
  ["severity", "status", "region", "account", "muted"].forEach(function (k) {
    document.getElementById("filter-" + k).addEventListener("change", function (e) {
      state[k] = e.target.value; writeHash(); render();
    });
  });
  document.getElementById("expand").addEventListener("click", function () {
    D.controls.forEach(function (c) { opened[c.id] = true; }); state.open = "all"; writeHash(); render();
  });
  document.getElementById("collapse").addEventListener("click", function () {
    opened = {}; state.open = ""; writeHash(); render();
  });
  document.getElementById("reset").addEventListener("click", function () {
    history.replaceState(null, "", location.pathname + location.search); readHash(); syncInputs(); render();
  });
  window.addEventListener("hashchange", function () {
    readHash(); syncInputs(); render();
    document.getElementById("controls").scrollIntoView();
  });
  readHash();
  syncInputs();
  render();
})();
"""
