"""The size of the HTML report for a large audit, and how long it takes to write.

    python benchmarks/html_report_size.py 7542

Builds a synthetic report of N findings over every shipped control (REST stages of many APIs in four
regions and two accounts, about a third of them alarms, a few muted, one reason listing 100 stage ids as
real controls do), renders it as HTML and prints the file size, bytes per finding and render time.
No AWS call and no sandbox: the report's size depends only on its findings.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

from apigw_sql.controls import ControlResult, Finding, Report, load_controls, render_report

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
ACCOUNTS = ["123456789012", "210987654321"]
STATUSES = ["alarm", "ok", "ok", "info", "skip", "alarm"]


def build_report(n: int) -> Report:
    controls = load_controls()
    per_control = max(1, n // len(controls))
    results, made = [], 0
    for c_index, control in enumerate(controls):
        findings = []
        count = per_control if c_index < len(controls) - 1 else n - made
        for i in range(count):
            region, account = REGIONS[i % len(REGIONS)], ACCOUNTS[i % len(ACCOUNTS)]
            api = f"{(i * 7919) % 100000:05x}abcd"[:10]
            resource = f"arn:aws:apigateway:{region}::/restapis/{api}/stages/stage-{i % 3}"
            status = STATUSES[(i + c_index) % len(STATUSES)]
            reason = (f"Stage stage-{i % 3} of REST API orders-{api} in {region} is {status}: "
                      f"{control.title.lower()}.")
            if i == 0 and c_index == 0:
                reason += " Stages: " + ", ".join(f"{k:010x}/prod" for k in range(100)) + "."
            findings.append(Finding(control, resource, status, reason, account, region, control.severity,
                                    muted=(i % 97 == 0 and status == "alarm"),
                                    mute_reason="Accepted risk SEC-1234." if i % 97 == 0 else None))
        made += count
        results.append(ControlResult(control, findings))
    return Report(results, datetime.now(timezone.utc), 137.0, 1567, ACCOUNTS, REGIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("findings", type=int, nargs="?", default=7542)
    args = parser.parse_args()
    report = build_report(args.findings)
    started = time.perf_counter()
    html = render_report(report, "html")
    elapsed = time.perf_counter() - started
    size = len(html.encode("utf-8"))
    print(f"findings: {len(report.findings)} in {len(report.results)} controls")
    print(f"html: {size / 1e6:.2f} MB ({size / len(report.findings):.0f} bytes per finding), "
          f"rendered in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
