"""SARIF that GitHub code scanning accepts: valid against the official SARIF 2.1.0 schema, and every result
located in a file (the control's SQL) as well as at its resource.

tests/fixtures/sarif-schema-2.1.0.json is the OASIS schema (its $id names oasis-tcs/sarif-spec), kept here so
that the test runs offline.
"""
from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, timezone
from pathlib import Path

import jsonschema
import pytest

import apigw_sql
from apigw_sql.controls import ControlResult, Finding, Report, apply_mutelist, load_controls, load_mutelist
from apigw_sql.controls import render_report

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
ACCOUNT = "123456789012"


def _report(tmp_path: Path) -> Report:
    """Shipped controls with an alarm, a muted alarm, an ok and an error finding."""
    by_id = {c.id: c for c in load_controls()}
    xray, trail = by_id["apigateway_stage_xray_tracing_enabled"], by_id["cloudtrail_trail_enabled"]
    stage = "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/{}"
    results = [
        ControlResult(xray, [Finding(xray, stage.format("prod"), "alarm", "Stage prod does not trace.", ACCOUNT,
                                     "eu-west-1", xray.severity),
                             Finding(xray, stage.format("dev"), "alarm", "Stage dev does not trace.", ACCOUNT,
                                     "eu-west-1", xray.severity),
                             Finding(xray, stage.format("v1"), "ok", "Stage v1 traces.", ACCOUNT, "eu-west-1",
                                     xray.severity)]),
        ControlResult(trail, [Finding(trail, f"arn:aws:::{ACCOUNT}", "error", "Could not read the trails.", ACCOUNT,
                                      "us-east-1", trail.severity)]),
    ]
    report = Report(results, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), 1.5, 12, [ACCOUNT],
                    ["eu-west-1", "us-east-1"], ["aws_api_gateway_stage"])
    mutes = tmp_path / "mutes.toml"
    mutes.write_text('[[mute]]\ncontrol = "apigateway_stage_xray_tracing_enabled"\nresource = "*/stages/dev"\n'
                     'reason = "A test stage."\n')
    apply_mutelist(report, load_mutelist(mutes), today=date(2026, 1, 1))
    return report


def test_sarif_is_valid_against_the_sarif_2_1_0_schema(tmp_path):
    doc = json.loads(render_report(_report(tmp_path), "sarif"))
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []
    assert len(doc["runs"][0]["results"]) == 2 and doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]


def test_the_schema_catches_a_broken_document(tmp_path):
    """The validation above can fail: a result whose level is not a SARIF level is rejected."""
    doc = json.loads(render_report(_report(tmp_path), "sarif"))
    doc["runs"][0]["results"][0]["level"] = "critical"
    assert not jsonschema.Draft7Validator(SCHEMA).is_valid(doc)


def test_every_result_points_at_the_controls_sql_file_and_names_the_resource(tmp_path):
    doc = json.loads(render_report(_report(tmp_path), "sarif"))
    [run] = doc["runs"]
    base = run["originalUriBaseIds"]["APIGW_SQL_REPOSITORY"]["uri"]
    assert base.startswith(apigw_sql.PROJECT_URL) and base.endswith("/")
    for result in run["results"]:
        [location] = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert physical["artifactLocation"]["uriBaseId"] == "APIGW_SQL_REPOSITORY"
        assert uri == f"queries/apigateway/{result['ruleId']}.sql" and (ROOT / uri).is_file()
        line = (ROOT / uri).read_text().splitlines()[physical["region"]["startLine"] - 1]
        assert line.strip() and not line.startswith("--")  # the first line of SQL, after the header
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("arn:aws:apigateway:eu-west-1")
    assert [r.get("suppressions", [{}])[0].get("justification") for r in run["results"]] == [None, "A test stage."]


def test_information_uri_is_the_projects_readme_as_pyproject_names_it(tmp_path):
    doc = json.loads(render_report(_report(tmp_path), "sarif"))
    driver = doc["runs"][0]["tool"]["driver"]
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Homepage"] == apigw_sql.PROJECT_URL
    assert driver["informationUri"] == urls["Documentation"] and driver["informationUri"].endswith("/README.md")


@pytest.mark.parametrize("control_home", ["apigateway", "cloudtrail", "cloudtrail_activity"])
def test_every_shipped_control_has_a_sql_line_to_point_at(control_home):
    from apigw_sql.controls.sarif import control_file_location

    for control in (c for c in load_controls() if c.home == control_home):
        where = control_file_location(control)
        path = ROOT / where["artifactLocation"]["uri"]
        assert path.is_file(), path
        assert not path.read_text().splitlines()[where["region"]["startLine"] - 1].startswith("--")
