"""Many accounts in one session: profiles, AssumeRole (with and without an external id), the organization,
account_id pushdown, an account that cannot be reached, a check over two accounts, and the CLI's errors.

The sandbox's demo account 123456789012 manages an organization with one member, 210987654321, which holds
partner-payouts-api (an open GET method, a stage without logs) and two roles: OrganizationAccountAccessRole
(trusts the management account) and AuditRole (trusts it with the external id "apigw-sql-demo").
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from apigw_sql.cli import main
from apigw_sql.controls import run_controls
from apigw_sql.sandbox.seed_accounts import AUDIT_EXTERNAL_ID, AUDIT_ROLE, MEMBER_ACCOUNT_ID, ORG_ROLE

MANAGEMENT = "123456789012"
MEMBER = MEMBER_ACCOUNT_ID
DENIED = "333344445555"  # has an AuditRole that trusts someone else: AssumeRole is refused
APIS = "SELECT account_id, name FROM aws_api_gateway_rest_api ORDER BY account_id, name"


def calls_by_account(con: Any) -> dict[str, list[str]]:
    """account -> the operations the fetch log shows in it (AssumeRole is logged under the target account)."""
    found: dict[str, list[str]] = {}
    for record in con.fetch_log:
        found.setdefault(record.account_id, []).append(record.operation)
    return found


@pytest.fixture(scope="module")
def denied_account(sandbox) -> str:
    """An account whose AuditRole trusts only 999999999999 (made through moto's any-role AssumeRole)."""
    key = sandbox.client("sts").assume_role(RoleArn=f"arn:aws:iam::{DENIED}:role/setup",
                                            RoleSessionName="setup")["Credentials"]["AccessKeyId"]
    sandbox.client("iam", access_key_id=key).create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                                "Action": "sts:AssumeRole"}]}))
    return DENIED


def test_the_sandbox_serves_an_organization_with_a_member_account(sandbox):
    accounts = sandbox.client("organizations").list_accounts()["Accounts"]
    assert {a["Id"] for a in accounts} == {MANAGEMENT, MEMBER}
    assert sandbox.estate["accounts"]["members"][MEMBER]["rest_apis"]


def test_org_reads_every_active_account_the_caller_with_its_own_credentials(connect):
    con = connect(org=True)
    rows = con.sql(APIS).rows
    assert (MEMBER, "partner-payouts-api") in rows and (MANAGEMENT, "orders-api") in rows
    assert not [r for r in rows if r[0] == MEMBER and r[1] != "partner-payouts-api"]  # each account its own
    log = calls_by_account(con)
    assert log[MANAGEMENT].count("ListAccounts") == 1
    assert "AssumeRole" not in log[MANAGEMENT]  # the management account is read as itself
    assert log[MEMBER].count("AssumeRole") == 1  # the default role, OrganizationAccountAccessRole
    assert {t.account_id for t in con.fetcher.known_targets()} == {MANAGEMENT, MEMBER}


def test_role_with_an_external_id_is_assumed_and_without_it_refused(connect):
    con = connect(role_name=AUDIT_ROLE, accounts=[MEMBER], external_id=AUDIT_EXTERNAL_ID)
    result = con.sql(APIS)
    assert result.rows == [(MEMBER, "partner-payouts-api")] and not result.errors
    refused = connect(role_name=AUDIT_ROLE, accounts=[MEMBER]).sql(APIS)
    assert refused.rows == []
    [error] = refused.errors
    assert (error.account_id, error.operation, error.code) == (MEMBER, "AssumeRole", "AccessDenied")
    assert "account 210987654321" in error.line() and "AuditRole" in error.line()


def test_role_without_external_id_and_assumed_credentials_renew_themselves(connect, sandbox):
    con = connect(role_name=ORG_ROLE, accounts=[MEMBER])
    assert con.sql(APIS).rows == [(MEMBER, "partner-payouts-api")]
    [target] = [t for t in con.fetcher.known_targets() if t.account_id == MEMBER]
    credentials = target.session.get_credentials()
    assert type(credentials).__name__ == "RefreshableCredentials"
    first_key = credentials.get_frozen_credentials().access_key
    # Past its expiry, botocore renews the credentials with a new AssumeRole before the next call.
    credentials._expiry_time = datetime.now(timezone.utc) - timedelta(seconds=1)
    con.fetcher.clear_cache()
    assert con.sql(APIS).rows == [(MEMBER, "partner-payouts-api")]
    assert credentials.get_frozen_credentials().access_key != first_key


def test_account_id_is_pushed_down_no_other_account_is_assumed_into_or_called(connect):
    con = connect(role_name=ORG_ROLE, accounts=[MANAGEMENT, MEMBER])
    assert con.sql(f"SELECT DISTINCT account_id FROM aws_api_gateway_stage WHERE account_id = '{MEMBER}'").rows \
        == [(MEMBER,)]
    log = calls_by_account(con)
    assert log[MANAGEMENT] == ["GetCallerIdentity"]  # who the caller is (the partition), nothing else
    assert "GetStages" in log[MEMBER] and log[MEMBER].count("AssumeRole") == 1

    con = connect(role_name=ORG_ROLE, accounts=[MANAGEMENT, MEMBER])
    con.sql(f"SELECT * FROM aws_api_gateway_rest_api WHERE account_id = '{MANAGEMENT}'")
    assert MEMBER not in calls_by_account(con)  # not even AssumeRole

    con = connect(org=True)
    con.sql(f"SELECT * FROM aws_api_gateway_rest_api WHERE account_id IN ('{MEMBER}')")
    assert sorted(set(calls_by_account(con)[MANAGEMENT])) == ["GetCallerIdentity", "ListAccounts"]


def test_a_failed_list_accounts_is_reported_and_the_caller_still_read(connect, sandbox):
    fault = sandbox.add_fault(service="organizations", operation="ListAccounts", code="AccessDeniedException",
                              count=1)
    try:
        result = connect(org=True).sql(APIS)
    finally:
        sandbox.remove_fault(fault)
    assert {r[0] for r in result.rows} == {MANAGEMENT}
    [error] = result.errors
    assert (error.account_id, error.operation, error.code) == (MANAGEMENT, "ListAccounts", "AccessDeniedException")
    assert "management account or a delegated administrator" in error.line()


def test_each_account_has_its_own_rate_buckets(connect):
    con = connect(org=True, rate_limit=True)
    con.sql("SELECT * FROM aws_api_gateway_rest_api")
    budgets = {(s.budget, s.account) for s in con.fetcher.scheduler.states()}
    assert {("apigateway", MANAGEMENT), ("apigateway", MEMBER)} <= budgets


def test_an_account_that_cannot_be_assumed_is_reported_and_the_others_answered(connect, denied_account):
    con = connect(role_name=AUDIT_ROLE, external_id=AUDIT_EXTERNAL_ID, accounts=[MEMBER, denied_account])
    result = con.sql(APIS)
    assert result.rows == [(MEMBER, "partner-payouts-api")]
    [error] = result.errors
    assert (error.account_id, error.operation, error.code) == (denied_account, "AssumeRole", "AccessDenied")
    assert [r.error_code for r in con.fetch_log if r.account_id == denied_account] == ["AccessDenied"]

    report = run_controls(con, ["apigateway_method_authorization_configured"])
    errors = [f for f in report.findings if f.status == "error"]
    assert [f.account_id for f in errors] == [denied_account]
    assert f"account {denied_account}" in errors[0].reason and "AssumeRole" in errors[0].reason
    assert {f.account_id for f in report.findings if f.status == "alarm"} == {MEMBER}
    assert report.exit_code() == 2  # the audit is incomplete


def test_check_over_two_accounts_names_both_in_its_findings(sandbox, capsys):
    code = main(["check", "apigateway_method_authorization_configured", "apigateway_stage_execution_logging_enabled",
                 "--endpoint-url", sandbox.endpoint_url, "--regions", "us-east-1", "--no-rate-limit",
                 "--org", "--output", "jsonl"])
    assert code == 1  # alarms, no errors
    findings = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    for control in ("apigateway_method_authorization_configured", "apigateway_stage_execution_logging_enabled"):
        alarms = {f["account_id"] for f in findings if f["control_id"] == control and f["status"] == "alarm"}
        assert alarms == {MANAGEMENT, MEMBER}, control


def test_a_failed_assume_role_is_a_warning_in_query_and_an_error_finding_with_exit_2_in_check(
        sandbox, denied_account, capsys):
    targets = ["--endpoint-url", sandbox.endpoint_url, "--regions", "us-east-1", "--no-rate-limit", "--role-name",
               AUDIT_ROLE, "--external-id", AUDIT_EXTERNAL_ID, "--accounts", f"{MEMBER},{denied_account}"]
    assert main(["query", APIS, "--output", "csv", *targets]) == 0
    captured = capsys.readouterr()
    assert f"warning: account {denied_account}: AssumeRole failed: AccessDenied" in captured.err
    assert captured.out.splitlines()[1:] == [f"{MEMBER},partner-payouts-api"]

    assert main(["check", "apigateway_method_authorization_configured", "--output", "csv", *targets]) == 2
    captured = capsys.readouterr()
    out = captured.out
    # said once on stderr, as query says it, whatever the number of controls it blinds
    assert captured.err.count(f"warning: account {denied_account}: AssumeRole failed: AccessDenied") == 1
    assert f"Could not read account {denied_account}: AssumeRole failed with AccessDenied" in out
    assert f",alarm," in out and MEMBER in out


def test_profiles_read_one_account_each(tmp_path, monkeypatch, sandbox):
    import apigw_sql

    member_key = sandbox.client("sts").assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/{ORG_ROLE}",
                                                   RoleSessionName="profile-setup")["Credentials"]["AccessKeyId"]
    iam = sandbox.client("iam", access_key_id=member_key)
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[shop]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n"
                           f"[partners]\naws_access_key_id = {key['AccessKeyId']}\n"
                           f"aws_secret_access_key = {key['SecretAccessKey']}\n")
    config = tmp_path / "config"
    config.write_text("[profile shop]\nregion = us-east-1\n\n[profile partners]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=["us-east-1"], rate_limit=False,
                            profiles=["shop", "partners"])
    try:
        rows = con.sql(APIS).rows
        assert {r[0] for r in rows} == {MANAGEMENT, MEMBER}
        assert (MEMBER, "partner-payouts-api") in rows
        assert [r.operation for r in con.fetch_log if r.table == "(session)"] == ["GetCallerIdentity"] * 2
    finally:
        con.close()
    one = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=["us-east-1"], rate_limit=False,
                            profiles=["partners"])  # one profile is --profile
    try:
        assert one.sql(APIS).rows == [(MEMBER, "partner-payouts-api")]
    finally:
        one.close()


def test_the_config_file_names_the_accounts_when_the_command_line_does_not(tmp_path, monkeypatch, connect):
    (tmp_path / "apigw-sql").mkdir()
    (tmp_path / "apigw-sql" / "config.toml").write_text(
        f'role_name = "{AUDIT_ROLE}"\naccounts = ["{MEMBER}"]\nexternal_id = "{AUDIT_EXTERNAL_ID}"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert connect().sql(APIS).rows == [(MEMBER, "partner-payouts-api")]
    assert {r[0] for r in connect(org=True).sql(APIS).rows} == {MANAGEMENT, MEMBER}  # the command line wins
    (tmp_path / "apigw-sql" / "config.toml").write_text('accounts = ["12"]\nrole_name = "AuditRole"\n')
    with pytest.raises(Exception, match=r"config.toml: --accounts '12' is not an account id"):
        connect().sql(APIS)


@pytest.mark.parametrize("argv, message", [
    (["--accounts", "111111111111"], "--accounts needs --role-name ROLE"),
    (["--role-name", "AuditRole"], "--role-name needs --accounts ID,ID or --org"),
    (["--org", "--accounts", "111111111111", "--role-name", "R"], "give --org (every account of the organization) or --accounts, not both"),
    (["--profile", "a,b"], "--profile takes one profile: give several with --profiles a,b"),
    (["--profile", "a", "--profiles", "b,c"], "give --profile or --profiles, not both"),
    (["--profiles", "a,b", "--org"], "--profiles reads each profile's own account"),
    (["--external-id", "xyz"], "--external-id goes with --role-name"),
    (["--role-name", "R", "--accounts", "1234"], "--accounts '1234' is not an account id"),
    (["--role-name", "arn:aws:iam::111111111111:role/R", "--accounts", "111111111111"], "is not a role name"),
])
def test_bad_combinations_are_one_line_errors_with_exit_3(argv, message, capsys):
    code = main(["query", "SELECT 1", *argv])
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_a_missing_profile_among_several_stops_the_run(tmp_path, monkeypatch, sandbox, capsys):
    config = tmp_path / "config"
    config.write_text("[profile shop]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    code = main(["query", "SELECT * FROM aws_api_gateway_rest_api", "--endpoint-url", sandbox.endpoint_url,
                 "--profiles", "shop,nosuch"])
    assert code == 3
    assert "AWS profile 'nosuch' not found" in capsys.readouterr().err


def test_readme_documents_the_flags():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for flag in ("--profiles", "--role-name", "--accounts", "--external-id", "--org"):
        assert flag in readme
