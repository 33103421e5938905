"""`apigw-sql check`, `benchmarks` and `controls` as a user meets them: exit codes, every output format,
exports, the mutelist, filters, and the HTML report rendered in headless Chromium.

The estate is two REST stages in CHECK_REGION (a region no other test uses, so the exit codes depend on
nothing else): prod traces with X-Ray, dev does not; one method needs no authorization.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Iterator

import pytest

from apigw_sql.cli import main

CHECK_REGION = "sa-east-1"
XRAY = "apigateway_stage_xray_tracing_enabled"
METHOD_AUTH = "apigateway_method_authorization_configured"


@pytest.fixture(scope="module")
def estate(sandbox) -> Iterator[dict[str, str]]:
    ag = sandbox.client("apigateway", CHECK_REGION)
    api = ag.create_rest_api(name="chk-api", endpointConfiguration={"types": ["REGIONAL"]})
    ag.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET", type="MOCK")
    deployment = ag.create_deployment(restApiId=api["id"])["id"]
    ag.create_stage(restApiId=api["id"], stageName="prod", deploymentId=deployment, tracingEnabled=True)
    ag.create_stage(restApiId=api["id"], stageName="dev", deploymentId=deployment)
    base = f"arn:aws:apigateway:{CHECK_REGION}::/restapis/{api['id']}"
    yield {"api": base, "prod": f"{base}/stages/prod", "dev": f"{base}/stages/dev"}
    ag.delete_rest_api(restApiId=api["id"])  # leave the shared sandbox as it was


@pytest.fixture()
def check(sandbox, estate, capsys):
    """Run `apigw-sql check ...` in-process against CHECK_REGION; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["check", *argv, "--endpoint-url", sandbox.endpoint_url, "--regions", CHECK_REGION,
                     "--max-attempts", "1", "--no-rate-limit"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


# ---- exit codes ---------------------------------------------------------------------------------------

def test_exit_0_when_no_alarm_reaches_fail_on(check, estate):
    code, out, _ = check(XRAY, "--fail-on", "medium")
    assert code == 0
    assert "REST stages have X-Ray tracing enabled" in out and "Totals" in out and "ok 1  alarm 1" in out
    assert "No unmuted alarm at or above medium severity (exit 0)." in out


def test_exit_1_on_alarms_and_aliases_work(check, estate):
    code, out, _ = check("apigateway_restapi_tracing_enabled")  # Prowler's name for the control
    assert code == 1
    assert "Stage dev of REST API chk-api" in out and estate["dev"] in out and "\033[" not in out


def test_exit_2_when_a_region_cannot_be_read(check, sandbox):
    sandbox.add_fault(service="apigateway", region=CHECK_REGION, operation="GetStages",
                      code="AccessDeniedException", status=403)
    try:
        code, out, _ = check(XRAY, "--fail-on", "none")
    finally:
        sandbox.clear_faults()
    assert code == 2
    assert "Could not read aws_api_gateway_stage" in out and "AccessDeniedException" in out


@pytest.mark.parametrize("argv, message", [
    (["apigateway_stage_xray_tracing_enable"], "did you mean apigateway_stage_xray_tracing_enabled"),
    (["apigateway_api_key_rotated", "--var", "max_age=3"], "--var max_age: no selected control takes this parameter"),
    (["apigateway_api_key_rotated", "--var", "max_age_days=soon"], "not a BIGINT value"),
    (["apigateway_api_key_rotated", "--var", "max_age_days"], "write NAME=VALUE"),
    (["--severity", "urgent"], "--severity 'urgent'"),
    (["--where", "nonsense ="], "--where"),
    (["--mutelist", "/no/such/mutes.toml"], "cannot read the mutelist /no/such/mutes.toml"),
    (["--export", "report.pdf"], "--export report.pdf: name the format"),
])
def test_exit_3_on_usage_errors_before_any_call(check, argv, message):
    code, out, err = check(*argv)
    assert code == 3 and out == "" and message in err and err.count("\n") == 1


def test_exit_3_when_aws_cannot_be_reached(capsys):
    code = main(["check", XRAY, "--endpoint-url", "http://127.0.0.1:9", "--regions", CHECK_REGION,
                 "--max-attempts", "1"])
    _, err = capsys.readouterr()
    assert code == 3 and "cannot reach AWS STS" in err


# ---- formats and exports ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "markdown", "sarif", "junit", "ocsf", "html"])
def test_machine_formats_on_stdout(check, estate, fmt):
    code, out, _ = check(XRAY, METHOD_AUTH, "--output", fmt)
    assert code == 1
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {(r["control_id"], r["resource"], r["status"]) for r in rows} >= {(XRAY, estate["dev"], "alarm")}
    elif fmt == "json":
        assert {r["status"] for r in json.loads(out)} == {"ok", "alarm"}
    elif fmt == "jsonl":
        assert all(json.loads(line)["region"] == CHECK_REGION for line in out.splitlines())
    elif fmt == "markdown":
        assert out.startswith("| control_id") and XRAY in out
    elif fmt == "sarif":
        run = json.loads(out)["runs"][0]
        assert {r["ruleId"] for r in run["results"]} == {XRAY, METHOD_AUTH}
        assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {XRAY, METHOD_AUTH}
    elif fmt == "junit":
        root = ET.fromstring(out)
        assert root.get("failures") == "2" and {s.get("name") for s in root} == {XRAY, METHOD_AUTH}
    elif fmt == "ocsf":
        assert {e["compliance"]["status"] for e in json.loads(out)} == {"Pass", "Fail"}
    else:
        assert out.startswith("<!DOCTYPE html>")


def test_export_writes_files_beside_the_text_summary(check, tmp_path):
    html, sarif = tmp_path / "report.html", tmp_path / "findings.sarif"
    code, out, err = check(XRAY, "--export", str(html), "--export", str(sarif))
    assert code == 1 and "Totals" in out
    assert f"wrote {html} (html)" in err and f"wrote {sarif} (sarif)" in err
    assert html.read_text().startswith("<!DOCTYPE html>") and json.loads(sarif.read_text())["version"] == "2.1.0"


# ---- mutelist and filters -------------------------------------------------------------------------------

def test_muted_alarm_keeps_its_status_and_does_not_fail(check, estate, tmp_path):
    mutes = tmp_path / "mutes.toml"
    mutes.write_text(f'''
[[mute]]
control = "apigateway_restapi_tracing_enabled"
resource = "{estate["dev"]}"
region = "{CHECK_REGION}"
reason = "Dev stage: tracing off on purpose (SEC-42)."

[[mute]]
control = "{METHOD_AUTH}"
reason = "Expired exception."
expires = 2020-01-01
''')
    code, out, err = check(XRAY, "--mutelist", str(mutes))
    assert code == 0 and "[muted: Dev stage: tracing off on purpose (SEC-42).]" in out and "(1 muted)" in out
    assert "warning: mutelist entry 2" in err and "expired on 2020-01-01" in err
    code, out, _ = check(XRAY, "--mutelist", str(mutes), "--output", "json")
    [dev] = [r for r in json.loads(out) if r["resource"] == estate["dev"]]
    assert (dev["status"], dev["muted"], dev["mute_reason"]) == ("alarm", True, "Dev stage: tracing off on purpose (SEC-42).")
    code, _, _ = check(METHOD_AUTH, "--mutelist", str(mutes))
    assert code == 1  # the expired entry mutes nothing


def test_severity_and_where_filters(check):
    code, out, _ = check("apigateway", "--severity", "high", "--where", "id LIKE 'apigateway_method_%'", "-o", "json")
    assert code == 1 and {r["control_id"] for r in json.loads(out)} == {METHOD_AUTH}


def test_benchmarks_and_controls_listings(capsys):
    assert main(["benchmarks", "-o", "csv"]) == 0
    rows = {r["benchmark"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert set(rows) == {"fsbp", "cis_v5", "cis_v6", "apigateway", "cloudtrail", "cloudtrail_activity",
                         "least_privilege", "usage", "all"}
    assert int(rows["least_privilege"]["controls"]) == 4
    assert int(rows["apigateway"]["controls"]) >= 39 and rows["fsbp"]["title"]
    assert int(rows["usage"]["controls"]) == 6
    assert main(["controls", "fsbp", "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["control"] for r in listed} >= {XRAY, "apigateway_stage_execution_logging_enabled"}
    assert all("fsbp" in r["benchmarks"] for r in listed)
    assert main(["controls", "no_such_benchmark"]) == 3


def test_check_is_documented_with_an_example(capsys):
    for command in ("check", "benchmarks", "controls"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "Example:" in capsys.readouterr().out


# ---- the HTML report in a browser -------------------------------------------------------------------------

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.open_details: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "details" and "open" in attributes:
            self.open_details.append(attributes.get("id", ""))

    def handle_data(self, data):
        if data.strip():
            self.text.append(" ".join(data.split()))


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (apt-get install chromium chromium-driver)")
def test_html_report_renders_in_chromium(check, estate, tmp_path):
    report = tmp_path / "report.html"
    check(XRAY, METHOD_AUTH, "--export", str(report))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

    def dom(fragment: str = "") -> str:
        return subprocess.run([_chromium(), *flags, "--dump-dom", report.as_uri() + fragment], capture_output=True,
                              text=True, timeout=60, check=True).stdout

    page = _Text()
    page.feed(dom())
    text = " | ".join(page.text)
    assert "API Gateway and CloudTrail audit" in text and "Summary" in text
    assert "2 unmuted alarms in 2 controls." in text
    assert "REST stages have X-Ray tracing enabled" in text and "REST methods require authorization" in text
    assert page.open_details == []  # the controls start collapsed, with their counts
    alarms = dom("#status=alarm&open=all")  # a filtered, expanded view, as a bookmark would open it
    page = _Text()
    page.feed(alarms)
    text = " | ".join(page.text)
    assert "Stage dev of REST API chk-api" in text and estate["dev"] in text
    assert "Remediation" in text and "aws apigateway update-stage" in text
    assert set(page.open_details) == {XRAY, METHOD_AUTH}  # only the controls with alarms are left
    assert alarms.index(f'id="{METHOD_AUTH}"') < alarms.index(f'id="{XRAY}"')  # the most severe first
    shot = tmp_path / "report.png"
    subprocess.run([_chromium(), *flags, "--hide-scrollbars", "--window-size=1280,1600", f"--screenshot={shot}",
                    report.as_uri()], capture_output=True, timeout=60, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
