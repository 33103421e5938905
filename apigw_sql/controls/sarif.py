"""SARIF 2.1.0: one rule per control, one result per alarm (muted ones carry a suppression), and the
controls that could not be judged as tool execution notifications.

GitHub code scanning rejects a result without a physical location, and an AWS resource is no file: each
result points at the control's SQL file (``queries/<benchmark>/<id>.sql`` under the project's repository,
at the line where its SQL starts) and names the resource as its logical location.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import PurePath

from .. import PROJECT_URL, __version__
from .control import Control
from .runner import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# The base the controls' file URIs are relative to: the project's repository, where queries/ lives.
CONTROLS_BASE = "APIGW_SQL_REPOSITORY"
# GitHub code scanning reads security-severity: >= 9 critical, >= 7 high, >= 4 medium, > 0 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "informational": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "informational": "note"}


def render_sarif(report: Report) -> str:
    rules, index = [], {}
    for result in report.results:
        c = result.control
        index[c.id] = len(rules)
        rules.append({
            "id": c.id, "name": "".join(w.capitalize() for w in c.id.split("_")),
            "shortDescription": {"text": c.title}, "fullDescription": {"text": c.description},
            "help": {"text": c.remediation, "markdown": f"**Remediation**\n\n{c.remediation}"},
            "defaultConfiguration": {"level": LEVEL[c.severity]},
            "properties": {"security-severity": SECURITY_SEVERITY[c.severity], "severity": c.severity,
                           "precision": "high", "tags": ["security", *c.benchmarks, *c.framework_refs()],
                           "resource_type": c.resource_type, "aliases": list(c.aliases)},
        })
    results, notifications = [], []
    for f in [*report.findings, *report.resolved]:
        if f.status == "error":
            notifications.append({"level": "error", "message": {"text": f.reason},
                                  "descriptor": {"id": f.control.id, "index": index[f.control.id]}})
            continue
        if f.status != "alarm":
            continue
        entry = {
            "ruleId": f.control.id, "ruleIndex": index[f.control.id], "kind": "fail", "level": LEVEL[f.severity],
            "message": {"text": f.reason},
            "locations": [{"physicalLocation": control_file_location(f.control),
                           "logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}]}],
            "partialFingerprints": {"resourceControl/v1": hashlib.sha256(
                f"{f.control.id}|{f.resource}".encode()).hexdigest()},
            "properties": {"resource": f.resource, "account_id": f.account_id, "region": f.region,
                           "severity": f.severity, "status": f.status, "muted": f.muted, **f.dimensions},
        }
        if f.baseline is not None:  # SARIF's own field: a resolved alarm is "absent" from this run
            entry["baselineState"] = "absent" if f.baseline == "resolved" else f.baseline
        if f.muted:
            entry["suppressions"] = [{"kind": "external", "status": "accepted",
                                      "justification": f.mute_reason or "muted by the mutelist"}]
        results.append(entry)
    end = report.started_at + timedelta(seconds=report.elapsed)
    doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "apigw-sql", "version": __version__, "semanticVersion": __version__,
                            "informationUri": f"{PROJECT_URL}/blob/main/README.md", "rules": rules}},
        "originalUriBaseIds": {CONTROLS_BASE: {
            "uri": f"{PROJECT_URL}/blob/main/",
            "description": {"text": "The apigw-sql repository: each control is one SQL file under queries/."}}},
        "invocations": [{"executionSuccessful": not notifications,
                         "startTimeUtc": report.started_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                         "endTimeUtc": end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                         "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {"accounts": report.accounts, "regions": report.regions, "api_calls": report.api_calls},
    }]}
    return json.dumps(doc, indent=2, default=str) + "\n"


def control_file_location(control: Control) -> dict:
    """The physical location of a control: its SQL file, relative to the repository, at its first SQL line."""
    path = PurePath(control.file)
    return {"artifactLocation": {"uri": f"queries/{control.home}/{path.name}", "uriBaseId": CONTROLS_BASE},
            "region": {"startLine": _first_sql_line(control.sql)}}


def _first_sql_line(text: str) -> int:
    """The 1-based line where the SQL starts, after the header's comment lines."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("--"):
            return number
    return 1
