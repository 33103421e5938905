"""JUnit XML for CI systems: a test suite per control, a test case per finding.

alarm -> <failure>, error -> <error>, skip -> <skipped>, ok and info -> passed. A muted alarm is
<skipped> with the mute reason, so it shows up without failing the build; its status stays in the
properties.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from .runner import Report


def render_junit(report: Report) -> str:
    root = ET.Element("testsuites", name="apigw-sql check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in report.results:
        c = result.control
        suite = ET.SubElement(root, "testsuite", name=c.id, time=f"{result.elapsed:.3f}",
                              timestamp=report.started_at.strftime("%Y-%m-%dT%H:%M:%S"))
        props = ET.SubElement(suite, "properties")
        for name, value in (("title", c.title), ("severity", c.severity), ("resource_type", c.resource_type),
                            ("frameworks", ", ".join(c.framework_refs())), ("benchmarks", ", ".join(c.benchmarks))):
            ET.SubElement(props, "property", name=name, value=value)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for f in result.findings:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"apigw-sql.{c.id}", name=f.resource, time="0")
            case_props = ET.SubElement(case, "properties")
            for name, value in (("status", f.status), ("severity", f.severity), ("account_id", f.account_id or ""),
                                ("region", f.region or ""), ("muted", str(f.muted).lower())):
                ET.SubElement(case_props, "property", name=name, value=value)
            if f.muted and f.status in ("alarm", "error"):
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"muted {f.status}: {f.mute_reason}").text = f.reason
            elif f.status == "alarm":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=f.reason, type=f"alarm:{f.severity}").text = \
                    f"{f.reason}\n\nRemediation:\n{c.remediation}"
            elif f.status == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=f.reason, type="error").text = f.reason
            elif f.status == "skip":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f.reason)
            else:
                ET.SubElement(case, "system-out").text = f"{f.status}: {f.reason}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{report.elapsed:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
