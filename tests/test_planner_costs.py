"""What a check costs, in API calls: running one control alone never costs more than a benchmark that
contains it (the benchmark's plan reads each table once, for every control; one control's plan must not
read it in a costlier way, such as one LookupEvents read per value of an IN list).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from apigw_sql.controls import load_controls, run_controls, select

REGION = "eu-west-3"  # no other test uses it: LookupEvents there holds what is planted here
ACTIVITY = [c.id for c in select(load_controls(), ["cloudtrail_activity"])]


@pytest.fixture(scope="module")
def planted(sandbox) -> None:
    """150 events (three pages of LookupEvents) over the last day: discovery, API Gateway and CloudTrail calls."""
    now = datetime.now(timezone.utc)
    names = [("DescribeInstances", "ec2.amazonaws.com"), ("ListUsers", "iam.amazonaws.com"),
             ("GetStages", "apigateway.amazonaws.com"), ("UpdateStage", "apigateway.amazonaws.com"),
             ("StopLogging", "cloudtrail.amazonaws.com"), ("GetApiKey", "apigateway.amazonaws.com")]
    sandbox.record_events(REGION, [
        {"eventTime": (now - timedelta(minutes=5 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "eventName": names[i % len(names)][0], "eventSource": names[i % len(names)][1]} for i in range(150)])


def _lookups(connect, names: list[str]) -> int:
    con = connect(regions=[REGION], cloudtrail_logs=[])
    report = run_controls(con, names)
    assert not report.errors(), [f.reason for f in report.errors()]
    return sum(1 for call in con.fetch_log if call.operation == "LookupEvents")


def test_one_activity_control_costs_no_more_than_its_benchmark(connect, planted):
    alone = {control: _lookups(connect, [control]) for control in ACTIVITY}
    # Last: the sandbox records the audit's own calls as events, so the benchmark sees at least as many.
    benchmark = _lookups(connect, ["cloudtrail_activity"])
    assert benchmark >= 3  # the window is read whole: three pages or more
    assert {c: n for c, n in alone.items() if n > benchmark} == {}, (alone, benchmark)
