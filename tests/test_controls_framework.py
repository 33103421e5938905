"""The control framework without AWS: the loader's rejections, benchmark membership and selection,
the result contract, parameters, the mutelist and every renderer, on synthetic reports."""
from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest

from apigw_sql.controls import (BENCHMARKS, CHECK_FORMATS, ControlError, ControlResult, Finding, MutelistError,
                                ParameterError, Report, SelectionError, apply_mutelist, load_controls, load_mutelist,
                                render_report, select, select_controls)
from apigw_sql.controls.control import parse_control
from apigw_sql.controls.runner import judge, parameter_values

HEADER = """-- id: {id}
-- title: Stages do the thing
-- description: Alarms when a stage does not do the thing.
-- severity: low
-- resource_type: REST stage
-- remediation: Do the thing.
--   CLI: aws apigateway update-stage ...
-- frameworks: fsbp: APIGateway.3
-- aliases: other_tool_thing
-- parameters: max_age_days BIGINT = 90
SELECT 'r' AS resource, 'ok' AS status, 'R is fine.' AS reason, '1' AS account_id, 'x' AS region
WHERE 1 < coalesce(getvariable('max_age_days'), 90);
"""

# Every API Gateway control of controls.md, by id: the contract users and benchmarks refer to.
API_GATEWAY_IDS = """
apigateway_stage_execution_logging_enabled apigateway_stage_client_certificate_configured
apigateway_stage_xray_tracing_enabled apigateway_stage_waf_associated apigateway_stage_cache_encrypted
apigateway_stage_cache_enabled apigateway_stage_access_logging_enabled apigatewayv2_stage_access_logging_enabled
apigateway_stage_data_trace_disabled apigateway_stage_detailed_metrics_enabled apigateway_stage_throttling_configured
apigateway_stage_variables_no_secrets apigateway_stage_access_log_format_complete apigateway_stage_waf_known_bad_inputs
apigateway_rest_api_endpoint_private apigateway_rest_api_authorizers_configured apigateway_rest_api_public_with_authorizer
apigateway_api_default_endpoint_disabled apigateway_api_custom_domain_bypass apigateway_rest_api_policy_no_public_access
apigateway_private_api_policy_restricts_source apigateway_method_authorization_configured
apigateway_method_api_key_not_sole_auth apigateway_method_request_validation_enabled apigateway_integration_backend_https
apigatewayv2_integration_private_tls_configured apigatewayv2_route_authorization_type_configured
apigatewayv2_api_authorizers_configured apigatewayv2_api_cors_restricted apigatewayv2_authorizer_jwt_audience_configured
apigateway_domain_name_tls_policy_current apigateway_domain_name_pqc_tls apigateway_domain_name_mtls_truststore_healthy
apigateway_domain_name_certificate_not_expiring apigateway_client_certificate_not_expiring apigateway_api_key_rotated
apigateway_api_key_in_usage_plan apigateway_usage_plan_limits_configured apigateway_account_cloudwatch_role_configured
""".split()
FSBP_API_GATEWAY = {"APIGateway.1", "APIGateway.2", "APIGateway.3", "APIGateway.4", "APIGateway.5", "APIGateway.8",
                    "APIGateway.9", "APIGateway.10", "APIGateway.11"}


def write(tmp_path: Path, text: str, name: str = "thing_done", folder: str = "apigateway") -> Path:
    (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    path = tmp_path / folder / f"{name}.sql"
    path.write_text(text)
    return path


# ---- the shipped catalogue -------------------------------------------------------------------------

def test_every_api_gateway_control_ships_once():
    controls = load_controls()
    ids = [c.id for c in controls]
    assert sorted(set(API_GATEWAY_IDS) - set(ids)) == []
    assert len(ids) == len(set(ids))
    assert {c.id for c in controls if c.home == "apigateway"} == set(API_GATEWAY_IDS)


def test_fsbp_membership_comes_from_the_header():
    controls = load_controls()
    refs = {ref for c in controls for ref in c.frameworks.get("fsbp", [])}
    assert FSBP_API_GATEWAY <= refs
    assert all("fsbp" in c.benchmarks for c in controls if "fsbp" in c.frameworks)
    assert all("fsbp" not in c.benchmarks for c in controls if "fsbp" not in c.frameworks and c.home != "fsbp")
    assert all({"apigateway", "all"} <= set(c.benchmarks) for c in controls if c.home == "apigateway")


def _coalesce_defaults(sql: str, name: str) -> list[str]:
    """The second arguments of every coalesce(getvariable('name'), ...) in the SQL (balanced parentheses)."""
    defaults = []
    for match in re.finditer(rf"coalesce\(getvariable\('{name}'\),\s*", sql):
        depth, i = 0, match.end()
        while depth >= 0:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        defaults.append(sql[match.end():i - 1])
    return defaults


@pytest.mark.parametrize("control", load_controls(), ids=lambda c: c.id)
def test_header_defaults_equal_the_sql_defaults(control):
    """The file runs without the runner: coalesce(getvariable('x'), DEFAULT) must repeat the header's default."""
    duck = duckdb.connect()
    for p in control.parameters:
        found = _coalesce_defaults(control.sql, p.name)
        assert found, f"{control.id}: {p.name} is not read as coalesce(getvariable('{p.name}'), default)"
        header = duck.execute(f"SELECT CAST({p.default} AS {p.type})").fetchone()[0]
        for default in found:
            assert duck.execute(f"SELECT CAST({default} AS {p.type})").fetchone()[0] == header, control.id
    assert control.remediation.count("\n") >= 1 and ("CLI" in control.remediation)
    assert control.description.endswith(".")


# ---- the loader's rejections ------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("-- severity: low", "-- severity: urgent"), "severity: 'urgent' is not one of"),
    (lambda t: t.replace("-- title: Stages do the thing\n", ""), "title: missing from the header"),
    (lambda t: t.replace("-- aliases:", "-- owner: me\n-- aliases:"), "owner: unknown key"),
    (lambda t: t.replace("-- id: thing_done", "-- id: other_thing"), "differs from the file name"),
    (lambda t: t.replace("fsbp: APIGateway.3", "nist: AC-2"), "unknown framework 'nist'"),
    (lambda t: t.replace("fsbp: APIGateway.3", "fsbp"), "must be 'framework: reference'"),
    (lambda t: t.replace("max_age_days BIGINT = 90", "max_age_days = 90"), "must be 'name TYPE = default'"),
    (lambda t: t.replace("max_age_days BIGINT = 90", ""), "does not declare it"),
    (lambda t: t.replace("getvariable('max_age_days')", "NULL"), "never reads it"),
    (lambda t: t.replace("-- description: Alarms when a stage does not do the thing.", "-- description: No period"),
     "description: must be a sentence"),
    (lambda t: t.replace("-- remediation: Do the thing.\n--   CLI: aws apigateway update-stage ...", "-- remediation:"),
     "remediation: empty"),
    (lambda t: t.replace("-- aliases: other_tool_thing", "-- aliases: Other-Tool"), "is not an identifier"),
    (lambda t: t.replace("-- title:", "--title:"), "header lines are '-- key: value'"),
    (lambda t: t.replace("-- aliases:", "-- also_in: usage, nope\n-- aliases:"), "also_in: 'nope' is not a benchmark"),
])
def test_loader_rejects_a_bad_header_naming_file_and_key(tmp_path, change, message):
    path = write(tmp_path, change(HEADER.format(id="thing_done")))
    with pytest.raises(ControlError) as info:
        load_controls(tmp_path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_loader_rejects_a_file_outside_a_benchmark_folder_and_duplicate_names(tmp_path):
    write(tmp_path, HEADER.format(id="thing_done"), folder="misc")
    with pytest.raises(ControlError, match="queries/<home benchmark>/"):
        load_controls(tmp_path)
    (tmp_path / "misc" / "thing_done.sql").unlink()
    write(tmp_path, HEADER.format(id="thing_done"))
    write(tmp_path, HEADER.format(id="other_thing"), name="other_thing")
    with pytest.raises(ControlError, match="'other_tool_thing' is also claimed by"):
        load_controls(tmp_path)


def test_a_good_file_loads_with_its_membership(tmp_path):
    write(tmp_path, HEADER.format(id="thing_done"))
    [control] = load_controls(tmp_path)
    assert control.benchmarks == ("fsbp", "apigateway", "all")
    assert control.remediation == "Do the thing.\nCLI: aws apigateway update-stage ..."
    write(tmp_path, HEADER.format(id="thing_done").replace("-- aliases:", "-- also_in: usage\n-- aliases:"))
    [listed] = load_controls(tmp_path)
    assert listed.home == "apigateway" and listed.benchmarks == ("fsbp", "apigateway", "usage", "all")
    assert [(p.name, p.type, p.default) for p in control.parameters] == [("max_age_days", "BIGINT", "90")]


# ---- selection --------------------------------------------------------------------------------------

def test_selection_by_benchmark_id_alias_and_pattern():
    controls = load_controls()
    assert {c.id for c in select(controls, ["fsbp"])} >= {"apigateway_stage_execution_logging_enabled"}
    assert [c.id for c in select(controls, ["apigateway_restapi_logging_enabled"])] == \
        ["apigateway_stage_execution_logging_enabled"]
    assert [c.id for c in select(controls, ["gatewayv2_stage_access_logging_enabled"])] == \
        ["apigatewayv2_stage_access_logging_enabled"]
    assert all(c.id.startswith("apigateway_domain_name_") for c in select(controls, ["apigateway_domain_name_*"]))
    assert len(select(controls, ["all"])) == len(controls) == len(select(controls, []))
    with pytest.raises(SelectionError, match="did you mean apigateway_stage_xray_tracing_enabled"):
        select(controls, ["apigateway_stage_xray_tracing_enable"])
    assert set(BENCHMARKS) == {"fsbp", "cis_v5", "cis_v6", "apigateway", "cloudtrail", "cloudtrail_activity",
                               "least_privilege", "usage", "all"}


def test_severity_and_where_filters():
    high = select_controls(["apigateway"], severities=["high"])
    assert high and all(c.severity == "high" for c in high)
    stage = select_controls([], where="list_contains(tables, 'aws_api_gateway_method_setting') AND severity = 'low'",
                            table_names=["aws_api_gateway_method_setting"])
    assert stage and all(c.severity == "low" for c in stage)
    with pytest.raises(SelectionError, match="--where"):
        select_controls([], where="no_such_column = 1")
    with pytest.raises(SelectionError, match="--severity 'urgent'"):
        select_controls([], severities=["urgent"])


def test_unknown_variables_are_refused():
    controls = select(load_controls(), ["apigateway_api_key_rotated"])
    assert parameter_values(controls, {"max_age_days": "30"}) == {"max_age_days": "30"}
    with pytest.raises(ParameterError, match="--var days: no selected control takes this parameter"):
        parameter_values(controls, {"days": "30"})


# ---- the result contract ------------------------------------------------------------------------------

def _control(tmp_path, severity="medium"):
    return parse_control(HEADER.format(id="thing_done").replace("severity: low", f"severity: {severity}"),
                         str(tmp_path / "apigateway" / "thing_done.sql"), "apigateway")


COLUMNS = ["resource", "status", "reason", "account_id", "region"]


@pytest.mark.parametrize("columns, rows, message", [
    (["resource", "status", "account_id", "region"], [], "lacks the column(s) reason"),
    (COLUMNS, [("arn:x", "fail", "X failed.", "1", "r")], "returned status 'fail' for arn:x"),
    (COLUMNS, [(None, "ok", "Fine.", "1", "r")], "row without a resource"),
    (COLUMNS, [("arn:x", "ok", "", "1", "r")], "no reason for arn:x"),
    (COLUMNS + ["severity"], [("arn:x", "alarm", "X.", "1", "r", "severe")], "severity 'severe'"),
])
def test_contract_violations_make_the_control_an_error(tmp_path, columns, rows, message):
    result = judge(_control(tmp_path), columns, rows)
    assert result.error is not None and message in result.error


def test_a_row_may_raise_its_own_severity_and_carry_dimensions(tmp_path):
    result = judge(_control(tmp_path), COLUMNS + ["severity", "api_id"],
                   [("arn:x", "alarm", "X is open.", "1", "r", "high", "abc")])
    [f] = result.findings
    assert (result.error, f.severity, f.dimensions) == (None, "high", {"api_id": "abc"})


# ---- synthetic reports: mutelist, exit codes, renderers -----------------------------------------------------

def _report(tmp_path) -> Report:
    high = _control(tmp_path, "high")
    low = parse_control(HEADER.format(id="other_thing").replace("other_tool_thing", "x_alias"),
                        str(tmp_path / "apigateway" / "other_thing.sql"), "apigateway")

    def f(control, resource, status, severity=None, region="eu-west-1"):
        return Finding(control, resource, status, f"Stage {resource.rsplit('/', 1)[-1]} is {status} <b>&.",
                       "123456789012", region, severity or control.severity, {"api_id": "abc"})

    results = [
        ControlResult(high, [f(high, "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/prod", "alarm"),
                             f(high, "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/dev", "ok"),
                             f(high, "arn:aws:apigateway:us-east-1::/restapis/def/stages/v1", "skip", region="us-east-1")]),
        ControlResult(low, [f(low, "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/prod", "alarm"),
                            f(low, "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/test", "info")]),
    ]
    return Report(results, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), 1.5, 12, ["123456789012"],
                  ["eu-west-1", "us-east-1"], ["aws_api_gateway_stage"])


def test_exit_codes_follow_fail_on_and_errors(tmp_path):
    report = _report(tmp_path)
    assert report.exit_code("low") == 1 and report.exit_code("high") == 1
    assert report.exit_code("critical") == 0 and report.exit_code("none") == 0
    report.results[0].findings.append(Finding(report.results[0].control, "arn:aws:::123456789012", "error",
                                              "Could not read.", "123456789012", None, "high"))
    assert report.exit_code("none") == 2


def test_mutelist_mutes_matching_findings_and_warns_on_expired_entries(tmp_path):
    mutes = tmp_path / "mutes.toml"
    mutes.write_text('''
[[mute]]
control = "thing_*"
resource = "arn:aws:apigateway:eu-west-1::/restapis/abc/*"
reason = "Accepted until the migration (SEC-1)."
expires = 2026-06-30

[[mute]]
control = "x_alias"
region = "eu-west-1"
account = "123456789012"
reason = "Old exception."
expires = 2025-12-31
''')
    report = _report(tmp_path)
    warnings = apply_mutelist(report, load_mutelist(mutes), today=date(2026, 1, 10))
    muted = [(f.control.id, f.status, f.mute_reason) for f in report.findings if f.muted]
    assert muted == [("thing_done", "alarm", "Accepted until the migration (SEC-1)."),
                     ("thing_done", "ok", "Accepted until the migration (SEC-1).")]
    assert len(warnings) == 1 and "entry 2" in warnings[0] and "expired on 2025-12-31" in warnings[0]
    assert report.warnings == warnings
    # The muted alarm keeps its status but no longer fails the run; the other control's alarm still does.
    assert [f.control.id for f in report.failing("low")] == ["other_thing"]
    assert report.exit_code("high") == 0 and report.exit_code("low") == 1


@pytest.mark.parametrize("text, message", [
    ("[[mute]]\nreason = 'x'\n", "mute entry 1: control: missing"),
    ("[[mute]]\ncontrol = 'a'\nreason = 'x'\nowner = 'me'\n", "owner: unknown key"),
    ("[[mute]]\ncontrol = 'a'\nreason = 'x'\nexpires = 'soon'\n", "is not a date"),
    ("[mute]\ncontrol = 'a'\n", "write entries as [[mute]] tables"),
    ("[[mute]\n", "not valid TOML"),
])
def test_mutelist_errors_name_file_and_entry(tmp_path, text, message):
    path = tmp_path / "mutes.toml"
    path.write_text(text)
    with pytest.raises(MutelistError) as info:
        load_mutelist(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_flat_formats(tmp_path):
    report = _report(tmp_path)
    apply_mutelist(report, load_mutelist(_mutes(tmp_path)), today=date(2026, 1, 1))
    rows = list(csv.DictReader(io.StringIO(render_report(report, "csv"))))
    assert len(rows) == 5 and rows[0]["control_id"] == "thing_done" and rows[0]["muted"] == "true"
    records = json.loads(render_report(report, "json"))
    assert {r["status"] for r in records} == {"alarm", "ok", "skip", "info"}
    assert records[0]["dimensions"] == {"api_id": "abc"} and records[0]["frameworks"] == ["fsbp: APIGateway.3"]
    lines = render_report(report, "jsonl").splitlines()
    assert [json.loads(line)["resource"] for line in lines] == [r["resource"] for r in records]
    assert render_report(report, "markdown").startswith("| control_id")


def _mutes(tmp_path) -> Path:
    path = tmp_path / "m.toml"
    path.write_text('[[mute]]\ncontrol = "thing_done"\nresource = "*/stages/prod"\nreason = "Known."\n')
    return path


def test_sarif(tmp_path):
    report = _report(tmp_path)
    apply_mutelist(report, load_mutelist(_mutes(tmp_path)), today=date(2026, 1, 1))
    doc = json.loads(render_report(report, "sarif"))
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    [run] = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "apigw-sql" and [r["id"] for r in rules] == ["thing_done", "other_thing"]
    assert rules[0]["properties"]["security-severity"] == "8.0" and rules[0]["help"]["text"].startswith("Do the thing.")
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [("thing_done", "error"), ("other_thing", "note")]
    first = run["results"][0]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"] and first["message"]["text"].startswith("Stage prod")
    assert first["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].endswith("/stages/prod")
    assert first["suppressions"][0]["justification"] == "Known." and "suppressions" not in run["results"][1]
    assert run["invocations"][0]["executionSuccessful"] is True


def test_junit(tmp_path):
    report = _report(tmp_path)
    apply_mutelist(report, load_mutelist(_mutes(tmp_path)), today=date(2026, 1, 1))
    root = ET.fromstring(render_report(report, "junit"))
    assert root.tag == "testsuites" and root.get("tests") == "5"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    high, low = suites["thing_done"], suites["other_thing"]
    assert (high.get("failures"), high.get("skipped"), high.get("tests")) == ("0", "2", "3")  # muted alarm + skip
    assert (low.get("failures"), low.get("skipped")) == ("1", "0")
    failure = low.find("testcase/failure")
    assert failure.get("type") == "alarm:low" and "Remediation" in failure.text
    muted = high.find("testcase/skipped")
    assert muted.get("message").startswith("muted alarm: Known.")


def test_ocsf(tmp_path):
    report = _report(tmp_path)
    apply_mutelist(report, load_mutelist(_mutes(tmp_path)), today=date(2026, 1, 1))
    events = json.loads(render_report(report, "ocsf"))
    assert len(events) == 5
    for event in events:
        assert event["class_uid"] == 2003 and event["category_uid"] == 2 and event["type_uid"] == 200301
        assert event["metadata"]["product"]["name"] == "apigw-sql" and event["metadata"]["version"]
        assert event["cloud"]["provider"] == "AWS" and event["cloud"]["account"]["uid"] == "123456789012"
        assert event["resources"][0]["uid"].startswith("arn:aws:apigateway:") and event["finding_info"]["uid"]
        assert isinstance(event["time"], int) and event["severity_id"] in (2, 4)
    first = events[0]
    assert (first["compliance"]["status"], first["status"], first["status_code"]) == ("Fail", "Suppressed", "FAIL")
    assert first["compliance"]["requirements"] == ["fsbp: APIGateway.3"] and first["unmapped"]["muted"] is True


def test_html_is_self_contained_and_escaped(tmp_path):
    html = render_report(_report(tmp_path), "html")
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert not re.search(r"""(src|href)=["']https?:""", html) and "<script src" not in html
    assert "\\u003cb\\u003e\\u0026" in html and "<b>&" not in html  # the reason, escaped in the embedded JSON
    assert html.index('href="#severity=high"') < html.index('href="#severity=low"')
    assert "Do the thing." in html


def test_text_summary_colours_only_when_asked(tmp_path):
    report = _report(tmp_path)
    plain = render_report(report, "text")
    assert "\033[" not in plain and "thing_done" in plain and "Stage prod is alarm" in plain
    assert "2 alarm(s) at or above low severity (exit 1)." in plain
    assert "\033[31m" in render_report(report, "text", color=True)
    assert set(CHECK_FORMATS) == {"text", "csv", "json", "jsonl", "markdown", "html", "sarif", "junit", "ocsf"}


def test_controls_are_a_table():
    import apigw_sql

    con = apigw_sql.connect(regions=["us-east-1"])
    try:
        rows = con.sql("SELECT id, severity, benchmarks, tables, parameters FROM apigw_sql_controls "
                       "WHERE id = 'apigateway_api_key_rotated'").dicts()
        assert con.fetch_log == []  # a local table: no AWS call
    finally:
        con.close()
    [row] = rows
    assert row["severity"] == "medium" and "apigateway" in row["benchmarks"]
    assert row["tables"] == ["aws_api_gateway_api_key"]
    assert json.loads(row["parameters"]) == {"max_age_days": {"type": "BIGINT", "default": "90"}}
