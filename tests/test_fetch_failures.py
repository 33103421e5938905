"""What a failed or vanished fetch means: a resource deleted in the middle of a crawl is no failure (the
table's ``ignore_errors``), and a control is blind only where the tables it reads could not be read.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from apigw_sql.catalog import SpecError, load_table
from apigw_sql.controls import run_controls

REGION = "ap-northeast-3"  # no other test uses it


@pytest.fixture()
def api(sandbox):
    ag = sandbox.client("apigateway", REGION)
    created = ag.create_rest_api(name="vanishing-api")
    yield created["id"]
    sandbox.clear_faults()
    if created["id"] in {a["id"] for a in ag.get_rest_apis()["items"]}:  # a test may have deleted it
        ag.delete_rest_api(restApiId=created["id"])


def test_an_api_deleted_mid_crawl_yields_no_rows_and_no_failure(connect, sandbox, api):
    con = connect(regions=[REGION])
    listed = con.sql("SELECT api_id FROM aws_api_gateway_rest_api")  # the parent list, cached for the TTL
    assert [r[0] for r in listed.rows] == [api]
    sandbox.client("apigateway", REGION).delete_rest_api(restApiId=api)
    for table in ("aws_api_gateway_stage", "aws_api_gateway_resource", "aws_api_gateway_authorizer"):
        result = con.sql(f"SELECT * FROM {table}")
        assert (result.rows, result.errors) == ([], []), table
    failed = con.sql("SELECT operation, error_code FROM apigw_sql_fetch_log WHERE operation = 'GetStages'")
    assert failed.rows == [("GetStages", "NotFoundException")]  # the call is logged, as every call is


def test_ignore_errors_is_validated(tmp_path: Path):
    spec = (Path(__file__).parent.parent / "tables" / "aws_api_gateway_stage.toml").read_text()
    bad = tmp_path / "aws_api_gateway_stage.toml"
    bad.write_text(spec.replace('ignore_errors = ["NotFoundException"]', 'ignore_errors = "NotFoundException"'))
    with pytest.raises(SpecError, match=r"aws_api_gateway_stage.toml: ignore_errors: expected a list of AWS error"):
        load_table(bad)
    assert load_table(Path(__file__).parent.parent / "tables" / "aws_api_gateway_stage.toml").ignore_errors == \
        {"NotFoundException"}


def test_a_control_is_blind_only_where_its_own_tables_failed(connect, sandbox, api):
    sandbox.add_fault(service="apigateway", region=REGION, operation="GetResources", code="AccessDeniedException",
                      status=403)
    con = connect(regions=[REGION])
    report = run_controls(con, ["cloudtrail_trail_enabled", "apigateway_method_authorization_configured"])
    statuses = {r.control.id: {f.status for f in r.findings} for r in report.results}
    # The method control reads aws_api_gateway_method (GetResources): it is blind in REGION.
    assert "error" in statuses["apigateway_method_authorization_configured"]
    # The trail control reads trails and the fetch log, not methods: the failed GetResources is not its error.
    assert "error" not in statuses["cloudtrail_trail_enabled"], report.results
