"""`check --baseline`: each finding marked against a previous run, and the alarms resolved since listed.

The previous run is a ``check -o json`` report, or a snapshot on which the same controls are run now.
A finding is identified by control id + resource + account + region, and compared with its status:

- ``unchanged``: the previous run had the same finding with the same status;
- ``new``: it did not (a new resource, or a status that changed: an ok that is now an alarm is a new alarm);
- ``resolved``: an alarm of the previous run that is no alarm now (fixed, or its resource is gone), among
  the controls run now (a control left out of this run resolves nothing). Resolved findings are listed in
  ``Report.resolved`` with the previous run's reason, and never fail the run.

SARIF carries the states in its own ``baselineState`` field (new, unchanged, absent for resolved).
"""
from __future__ import annotations

import json
import os
from typing import Any, Sequence

from ..errors import UserError
from .runner import Finding, Report

BASELINE_STATES = ("new", "unchanged", "resolved")


def finding_key(control_id: str, resource: str, account_id: str | None, region: str | None) -> tuple[str, ...]:
    """What identifies a finding across runs."""
    return (control_id, resource, account_id or "", region or "")


def is_snapshot(path: str) -> bool:
    """A snapshot (s3:// prefix, folder or DuckDB file) rather than a JSON report."""
    if path.startswith("s3://") or os.path.isdir(path):
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def load_report_records(path: str) -> list[dict[str, Any]]:
    """The findings of a ``check -o json`` report (a JSON array of finding records). Raises UserError."""
    try:
        with open(path, encoding="utf-8") as fh:
            records = json.load(fh)
    except OSError as exc:
        raise UserError(f"--baseline {path}: cannot read it ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        records = None
    required = {"control_id", "resource", "status", "account_id", "region"}
    if not isinstance(records, list) or not all(isinstance(r, dict) and required <= set(r) for r in records):
        raise UserError(f"--baseline {path}: neither a 'check -o json' report (a JSON array of findings with "
                        "control_id, resource, status, account_id, region) nor a snapshot")
    return records


def finding_records(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as the records a JSON report holds (the fields a baseline reads)."""
    return [{"control_id": f.control.id, "resource": f.resource, "status": f.status, "account_id": f.account_id,
             "region": f.region, "severity": f.severity, "reason": f.reason, "muted": f.muted,
             "mute_reason": f.mute_reason} for f in findings]


def apply_baseline(report: Report, previous: list[dict[str, Any]], source: str) -> None:
    """Mark every finding of ``report`` new or unchanged against ``previous`` records, and list in
    ``report.resolved`` the previous alarms (of controls in this run) that are no alarm now."""
    before = {(finding_key(r["control_id"], r["resource"], r.get("account_id"), r.get("region")), r["status"])
              for r in previous}
    now = set()
    for f in report.findings:
        key = finding_key(f.control.id, f.resource, f.account_id, f.region)
        f.baseline = "unchanged" if (key, f.status) in before else "new"
        now.add((key, f.status))
    controls = {r.control.id: r.control for r in report.results}
    resolved = []
    for r in previous:
        key = finding_key(r["control_id"], r["resource"], r.get("account_id"), r.get("region"))
        if r["status"] != "alarm" or (key, "alarm") in now or r["control_id"] not in controls:
            continue
        control = controls[r["control_id"]]
        severity = r.get("severity") if r.get("severity") in ("critical", "high", "medium", "low",
                                                                "informational") else control.severity
        resolved.append(Finding(control, r["resource"], "alarm", r.get("reason") or "An alarm of the baseline.",
                                r.get("account_id"), r.get("region"), severity, muted=bool(r.get("muted")),
                                mute_reason=r.get("mute_reason"), baseline="resolved"))
    report.resolved = resolved
    report.baseline = source


def baseline_records(path: str, prepared: Any) -> list[dict[str, Any]]:
    """The previous findings of a baseline: a JSON report's, or those of the same prepared check run now on
    a snapshot (no AWS call). Raises UserError."""
    if not is_snapshot(path):
        return load_report_records(path)
    from ..app import open_connection
    from ..connection_options import ConnectionOptions
    from .check import run_check

    with open_connection(ConnectionOptions(snapshot=path)) as con:
        return finding_records(run_check(con, prepared).findings)
