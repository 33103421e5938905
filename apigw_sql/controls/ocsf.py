"""OCSF 1.1 Compliance Finding (class 2003) events, one per finding, as a JSON array: the shape
Security Hub, Amazon Security Lake and Prowler's json-ocsf output speak."""
from __future__ import annotations

import json
import uuid

from .. import __version__
from .runner import Finding, Report

SEVERITY_ID = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
# compliance.status_id: 1 Pass, 2 Warning, 3 Fail, 99 Other.
COMPLIANCE = {"ok": (1, "Pass"), "alarm": (3, "Fail"), "info": (99, "Info"), "skip": (99, "Skip"),
              "error": (99, "Error")}
STATUS_CODE = {"ok": "PASS", "alarm": "FAIL", "info": "INFO", "skip": "SKIP", "error": "ERROR"}
_NAMESPACE = uuid.UUID("6c1f3f4e-4d6b-4f0e-9a43-61706967772d")


def ocsf_event(f: Finding, report: Report) -> dict:
    c = f.control
    when = int(report.started_at.timestamp() * 1000)
    status_id, status = COMPLIANCE[f.status]
    partition = f.resource.split(":")[1] if f.resource.startswith("arn:") else "aws"
    uid = str(uuid.uuid5(_NAMESPACE, f"{c.id}|{f.resource}|{f.account_id}|{f.region}"))
    return {
        "class_uid": 2003, "class_name": "Compliance Finding", "category_uid": 2, "category_name": "Findings",
        "activity_id": 1, "activity_name": "Create", "type_uid": 200301, "type_name": "Compliance Finding: Create",
        "severity_id": SEVERITY_ID[f.severity], "severity": f.severity.capitalize(),
        "status_id": 4 if f.baseline == "resolved" else 3 if f.muted else 1,
        "status": "Resolved" if f.baseline == "resolved" else "Suppressed" if f.muted else "New",
        "status_code": STATUS_CODE[f.status], "status_detail": f.reason, "message": f.reason,
        "time": when, "time_dt": report.started_at.isoformat(),
        "metadata": {"version": "1.1.0", "uid": uid, "event_code": c.id,
                     "product": {"name": "apigw-sql", "vendor_name": "apigw-sql", "version": __version__}},
        "finding_info": {"uid": uid, "title": c.title, "desc": c.description, "types": [c.resource_type],
                         "created_time": when},
        "compliance": {"control": c.id, "requirements": c.framework_refs(), "standards": list(c.benchmarks),
                       "status_id": status_id, "status": status, "status_detail": f.reason},
        "cloud": {"provider": "AWS", "region": f.region,
                  "account": {"uid": f.account_id, "type": "AWS Account", "type_id": 10}},
        "resources": [{"uid": f.resource, "name": f.resource.rsplit("/", 1)[-1], "type": c.resource_type,
                       "region": f.region, "cloud_partition": partition}],
        "remediation": {"desc": c.remediation},
        "unmapped": {**({"baseline": f.baseline} if f.baseline else {}),
                     "muted": f.muted, "mute_reason": f.mute_reason, "aliases": list(c.aliases), **f.dimensions},
    }


def render_ocsf(report: Report) -> str:
    return json.dumps([ocsf_event(f, report) for f in [*report.findings, *report.resolved]], indent=2,
                      default=str) + "\n"
