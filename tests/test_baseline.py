"""`check --baseline PREVIOUS`: every finding new or unchanged against a previous report or snapshot, the alarms
resolved since listed, in every output format; `--fail-on-new` fails on new alarms only."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

import apigw_sql
from apigw_sql.snapshot import collect

GONE = "arn:aws:apigateway:us-east-1::/restapis/gone0000/stages/prod"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apigw_sql.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


@pytest.fixture(scope="module")
def snapshot(sandbox, tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline") / "estate"
    with apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=list(sandbox.regions), rate_limit=False,
                           max_attempts=1) as con:
        collect(con, str(out))
    return out


@pytest.fixture(scope="module")
def report(snapshot, tmp_path_factory):
    """`check fsbp -o json` on the snapshot, and a changed copy: one alarm left out (so it is new now) and an
    alarm of a stage that no longer exists added (so it is resolved now)."""
    done = cli("check", "fsbp", "--snapshot", str(snapshot), "-o", "json")
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)
    folder = tmp_path_factory.mktemp("reports")
    (folder / "same.json").write_text(done.stdout)
    alarms = [f for f in findings if f["status"] == "alarm"]
    left_out = alarms[0]
    resolved = {**alarms[-1], "resource": GONE, "reason": "Stage prod of a deleted API had no logs."}
    changed = [f for f in findings if f is not left_out] + [resolved]
    (folder / "changed.json").write_text(json.dumps(changed))
    return folder, left_out, resolved


def test_an_unchanged_estate_has_only_unchanged_findings(snapshot, report):
    folder, _, _ = report
    done = cli("check", "fsbp", "--snapshot", str(snapshot), "--baseline", str(folder / "same.json"), "-o", "json")
    assert done.returncode == 1  # its alarms still fail the run ...
    rows = json.loads(done.stdout)
    assert rows and {r["baseline"] for r in rows} == {"unchanged"}
    quiet = cli("check", "fsbp", "--snapshot", str(snapshot), "--baseline", str(folder / "same.json"), "--fail-on-new")
    assert quiet.returncode == 0, quiet.stdout  # ... unless only new ones may
    assert "0 new alarm(s), 0 resolved" in quiet.stdout
    # A snapshot as the baseline: the same controls run on it.
    done = cli("check", "fsbp", "--snapshot", str(snapshot), "--baseline", str(snapshot), "-o", "csv")
    assert done.returncode == 1 and done.stdout.splitlines()[0].endswith(",baseline")
    assert {line.rsplit(",", 1)[1] for line in done.stdout.splitlines()[1:]} == {"unchanged"}


def test_new_and_resolved_findings_in_every_format(snapshot, report):
    folder, left_out, resolved = report
    base = ["check", "fsbp", "--snapshot", str(snapshot), "--baseline", str(folder / "changed.json")]
    done = cli(*base, "-o", "json")
    rows = json.loads(done.stdout)
    key = ("control_id", "resource", "account_id", "region")
    state = {tuple(r[k] for k in key): (r["status"], r["baseline"]) for r in rows}
    assert state[tuple(left_out[k] for k in key)] == ("alarm", "new")
    assert state[tuple(resolved[k] for k in key)] == ("alarm", "resolved")
    assert sum(1 for r in rows if r["baseline"] == "new") == 1
    assert cli(*base, "--fail-on-new").returncode == 1  # the one new alarm fails the run
    text = cli(*base).stdout
    assert "1 new alarm(s), 1 resolved" in text and GONE in text and "alarm [new]" in text
    sarif = json.loads(cli(*base, "-o", "sarif").stdout)
    states = {(r["ruleId"], r["properties"]["resource"]): r["baselineState"] for r in sarif["runs"][0]["results"]}
    assert states[(resolved["control_id"], GONE)] == "absent"
    assert states[(left_out["control_id"], left_out["resource"])] == "new"
    assert set(states.values()) == {"new", "unchanged", "absent"}
    html = cli(*base, "-o", "html").stdout
    assert '<section id="baseline">' in html and "1 new alarm (marked new below), 1 resolved" in html and GONE in html
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', html).group(1))
    assert len(data["new"]) == sum(1 for r in rows if r["baseline"] == "new" and r["status"] != "alarm") + 1
    ocsf = json.loads(cli(*base, "-o", "ocsf").stdout)
    assert [e["status"] for e in ocsf if e["resources"][0]["uid"] == GONE] == ["Resolved"]


def test_baseline_mistakes_are_one_line_errors(snapshot, tmp_path):
    done = cli("check", "fsbp", "--snapshot", str(snapshot), "--fail-on-new")
    assert done.returncode == 3 and "--baseline" in done.stderr
    (tmp_path / "notes.json").write_text('{"not": "a report"}')
    done = cli("check", "fsbp", "--snapshot", str(snapshot), "--baseline", str(tmp_path / "notes.json"))
    assert done.returncode == 3 and "neither a 'check -o json' report" in done.stderr
    assert "Traceback" not in done.stderr
