"""The least-privilege tables and controls, judged on IAM principals built in the sandbox (path /lp-test/ in the
demo account: every assertion looks at those only) and on planted CloudTrail log files.

Each principal is named after the case it covers: a direct wildcard, a group-inherited grant, a Deny that
removes one verb, a boundary that caps a wildcard, NotAction, a conditional grant, a scoped grant, a
service-linked role (never judged), a role whose assumed-role session wrote, and a user whose only writes
failed with AccessDenied.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

import apigw_sql
from apigw_sql.cloudtrail.layout import log_file_key
from apigw_sql.cloudtrail.synthetic import write_log_file
from apigw_sql.controls import run_controls
from apigw_sql.iam.apis import Api
from apigw_sql.iam.grants import grant_rows
from apigw_sql.iam.principals import Crawl, build_principals

ACCOUNT = "123456789012"
REGION = "ap-northeast-3"   # no other test builds APIs here
PATH = "/lp-test/"
FOREIGN = "444455556666"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AmazonAPIGatewayAdministrator"
TODAY = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}{PATH}{name}"


@pytest.fixture(scope="module")
def estate(sandbox) -> Iterator[dict[str, Any]]:
    iam = sandbox.client("iam")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})

    def role(name: str, *statements: dict[str, Any], boundary: str | None = None, managed: str | None = None) -> None:
        iam.create_role(RoleName=name, Path=PATH, AssumeRolePolicyDocument=trust,
                        **({"PermissionsBoundary": boundary} if boundary else {}))
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc(*statements))
        if managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=managed)

    iam.create_user(UserName="lp-ci", Path=PATH)
    iam.put_user_policy(UserName="lp-ci", PolicyName="ci", PolicyDocument=doc(allow("apigateway:*")))
    iam.create_group(GroupName="lp-admins", Path=PATH)
    iam.attach_group_policy(GroupName="lp-admins", PolicyArn=ADMIN_POLICY)
    iam.create_user(UserName="lp-member", Path=PATH)
    iam.add_user_to_group(GroupName="lp-admins", UserName="lp-member")
    iam.create_user(UserName="lp-plain", Path=PATH)
    role("lp-deny-delete", allow("apigateway:*"), {"Effect": "Deny", "Action": "apigateway:DELETE", "Resource": "*"})
    cap = iam.create_policy(PolicyName="lp-read-only-boundary", Path=PATH,
                            PolicyDocument=doc(allow(["apigateway:GET", "execute-api:Invoke"],
                                                     f"arn:aws:execute-api:*:{ACCOUNT}:scoped1/*")))["Policy"]["Arn"]
    role("lp-capped", allow(["apigateway:*", "execute-api:*"]), boundary=cap)
    role("lp-notaction", {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    role("lp-conditional", allow("execute-api:Invoke", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    role("lp-scoped-invoker", allow("execute-api:Invoke", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:scoped1/prod/GET/*"))
    role("lp-deployer", allow(["apigateway:POST", "apigateway:PATCH", "apigateway:GET"], "arn:aws:apigateway:*::/restapis/*"))
    role("lp-reader", allow("apigateway:GET"))
    role("lp-region-invoker", allow("execute-api:Invoke", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*"))
    role("lp-region-admin", allow("apigateway:*", f"arn:aws:apigateway:{REGION}::*"))
    # A policy that cannot be read: the sandbox lets an attached policy be deleted (AWS refuses with
    # DeleteConflict), leaving an attachment the crawl cannot resolve.
    gone = iam.create_policy(PolicyName="lp-vanishing", Path=PATH, PolicyDocument=doc(allow("apigateway:*")))["Policy"]["Arn"]
    iam.create_user(UserName="lp-dangling", Path=PATH)
    iam.attach_user_policy(UserName="lp-dangling", PolicyArn=gone)
    iam.delete_policy(PolicyArn=gone)
    slr = iam.create_service_linked_role(AWSServiceName="ops.apigateway.amazonaws.com")["Role"]["Arn"]
    ag = sandbox.client("apigateway", REGION)
    foreign = ag.create_rest_api(name="lp-partner-api", policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"}, "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*"}))["id"]
    own = ag.create_rest_api(name="lp-own-api", policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role{PATH}lp-reader"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}))["id"]
    blocked = ag.create_rest_api(name="lp-blocked-api", policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": FOREIGN}, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}))["id"]
    plain = ag.create_rest_api(name="lp-no-policy")["id"]
    yield {"slr": slr, "foreign": foreign, "own": own, "blocked": blocked, "plain": plain}
    # The sandbox is shared by the whole run: leave no unreadable policy behind for other modules' tables.
    # The policy is created again (same ARN) so that the attachment can be undone.
    iam.create_policy(PolicyName="lp-vanishing", Path=PATH, PolicyDocument=doc(allow("apigateway:*")))
    iam.detach_user_policy(UserName="lp-dangling", PolicyArn=gone)
    iam.delete_policy(PolicyArn=gone)
    iam.delete_user(UserName="lp-dangling")


def record(name: str, who: dict[str, Any], when: datetime, params: dict[str, Any] | None = None,
           **fields: Any) -> dict[str, Any]:
    return {"eventVersion": "1.09", "userIdentity": who, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "apigateway.amazonaws.com", "eventName": name, "awsRegion": REGION,
            "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2 lp-test", "requestParameters": params,
            "responseElements": None, "requestID": str(uuid.uuid4()), "eventID": str(uuid.uuid4()),
            "readOnly": name.startswith("Get"), "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": ACCOUNT, "eventCategory": "Management", **fields}


def session(role_name: str) -> dict[str, Any]:
    return {"type": "AssumedRole", "principalId": "AROAEXAMPLE:deploy", "accountId": ACCOUNT,
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/deploy-42",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": arn("role", role_name),
                                                 "accountId": ACCOUNT, "userName": role_name}}}


def iam_user(name: str) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": arn("user", name), "accountId": ACCOUNT,
            "userName": name}


def write_logs(root: Path, records: list[dict[str, Any]]) -> Path:
    for r in records:
        when = datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        write_log_file(root / log_file_key(ACCOUNT, REGION, when + timedelta(minutes=5), uuid.uuid4().hex[:16].upper()), [r])
    return root


@pytest.fixture(scope="module")
def logs(tmp_path_factory, estate) -> Path:
    """90 days covered (a read the day before the window), a role session that wrote, a user denied twice."""
    return write_logs(tmp_path_factory.mktemp("lp-logs"), [
        record("GetRestApis", iam_user("lp-plain"), TODAY - timedelta(days=90, hours=12)),
        record("UpdateStage", session("lp-deployer"), TODAY - timedelta(days=5),
               {"restApiId": estate["own"], "stageName": "prod"}),
        record("UpdateStage", iam_user("lp-ci"), TODAY - timedelta(days=3),
               {"restApiId": estate["own"], "stageName": "prod"}, errorCode="AccessDenied",
               errorMessage="User is not authorized"),
        record("DeleteRestApi", iam_user("lp-ci"), TODAY - timedelta(days=2), {"restApiId": estate["own"]},
               errorCode="AccessDenied"),
    ])


def connect(sandbox: Any, logs: Path | None) -> apigw_sql.Connection:
    return apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=[REGION], max_attempts=1, rate_limit=False,
                             cloudtrail_logs=[str(logs)] if logs else [])


@pytest.fixture(scope="module")
def report(sandbox, logs) -> Iterator[Any]:
    con = connect(sandbox, logs)
    yield run_controls(con, ["least_privilege"])
    con.close()


def verdicts(report: Any, control: str) -> dict[str, tuple[str, str]]:
    """The test principals' findings of a control: resource -> (status, reason)."""
    return {f.resource: (f.status, f.reason) for f in report.findings if f.control.id == control and PATH in f.resource}


def status(report: Any, control: str) -> dict[str, str]:
    return {r.rsplit("/", 1)[-1]: s for r, (s, _) in verdicts(report, control).items()}


def test_every_control_runs_without_error(report):
    assert [(r.control.id, r.error) for r in report.results if r.error] == []


def test_full_admin(report):
    found = status(report, "iam_principal_apigateway_full_admin")
    assert found == {"lp-ci": "alarm", "lp-admins": "alarm", "lp-member": "alarm", "lp-plain": "ok",
                     "lp-deny-delete": "ok", "lp-capped": "ok", "lp-notaction": "alarm", "lp-conditional": "ok",
                     "lp-scoped-invoker": "ok", "lp-deployer": "ok", "lp-reader": "ok", "lp-dangling": "error",
                     "lp-region-invoker": "ok", "lp-region-admin": "ok"}   # one region is not every API
    reasons = verdicts(report, "iam_principal_apigateway_full_admin")
    assert "AmazonAPIGatewayAdministrator#0" in reasons[arn("user", "lp-member")][1]   # inherited from its group


def test_full_admin_listed_principals_are_info(sandbox, logs):
    con = connect(sandbox, logs)
    try:
        result = run_controls(con, ["iam_principal_apigateway_full_admin"], {"admin_principals": [arn("group", "lp-admins")]})
    finally:
        con.close()
    found = status(result, "iam_principal_apigateway_full_admin")
    assert found["lp-admins"] == "info" and found["lp-member"] == "alarm"


def test_invoke_all(report):
    found = status(report, "iam_principal_execute_api_invoke_all")
    assert found["lp-notaction"] == "alarm" and found["lp-conditional"] == "alarm"
    assert found["lp-scoped-invoker"] == "ok" and found["lp-capped"] == "ok" and found["lp-ci"] == "ok"
    assert found["lp-region-invoker"] == "alarm"   # arn:aws:execute-api:REGION:ACCOUNT:* is every API there
    assert REGION in verdicts(report, "iam_principal_execute_api_invoke_all")[arn("role", "lp-region-invoker")][1]
    reason = verdicts(report, "iam_principal_execute_api_invoke_all")[arn("role", "lp-conditional")][1]
    assert "under conditions that are not evaluated" in reason


def test_service_linked_roles_are_never_judged(report, estate):
    assert "/aws-service-role/" in estate["slr"]
    assert not [f for f in report.findings if f.resource == estate["slr"]]


def test_write_unused(report):
    found = status(report, "iam_principal_apigateway_write_unused")
    assert found["lp-deployer"] == "ok"             # its assumed-role session wrote
    assert found["lp-ci"] == "alarm"                # two writes, both AccessDenied
    assert found["lp-notaction"] == "alarm" and found["lp-deny-delete"] == "alarm" and found["lp-region-admin"] == "alarm"
    assert found["lp-capped"] == "ok" and found["lp-reader"] == "ok" and found["lp-plain"] == "ok"
    assert "lp-admins" not in found                 # groups make no calls
    [deployer] = [f for f in report.findings if f.control.id == "iam_principal_apigateway_write_unused"
                  and f.resource == arn("role", "lp-deployer")]
    policy = json.loads(deployer.dimensions["suggested_policy"])
    assert policy["Statement"][0]["Resource"][0].endswith("/restapis/" + deployer.dimensions["used_api_arns"][0].rsplit("/", 1)[-1])


def test_write_unused_is_info_when_cloudtrail_does_not_cover_the_window(sandbox, tmp_path, estate):
    short = write_logs(tmp_path, [record("UpdateStage", iam_user("lp-ci"), TODAY - timedelta(days=10),
                                         {"restApiId": estate["own"]}, errorCode="AccessDenied")])
    con = connect(sandbox, short)
    try:
        result = run_controls(con, ["iam_principal_apigateway_write_unused"])
    finally:
        con.close()
    found = status(result, "iam_principal_apigateway_write_unused")
    assert found["lp-ci"] == "info" and found["lp-plain"] == "ok"


def test_cross_account(report, estate, sandbox, logs):
    found = {f.resource.rsplit("/", 1)[-1]: f.status for f in report.findings
             if f.control.id == "apigateway_rest_api_policy_cross_account"}
    assert found[estate["foreign"]] == "alarm" and found[estate["own"]] == "ok"
    assert found[estate["blocked"]] == "ok" and found[estate["plain"]] == "ok"   # Deny * removes it; no policy
    con = connect(sandbox, logs)
    try:
        trusted = run_controls(con, ["apigateway_rest_api_policy_cross_account"], {"trusted_accounts": [FOREIGN]})
    finally:
        con.close()
    assert {f.status for f in trusted.findings} == {"ok"}


def test_one_crawl_serves_the_four_tables(sandbox):
    con = connect(sandbox, None)
    try:
        rows = con.sql("SELECT (SELECT count(*) FROM aws_iam_user) AS users, (SELECT count(*) FROM aws_iam_group) AS groups,"
                       " (SELECT count(*) FROM aws_iam_role) AS roles, (SELECT count(*) FROM aws_iam_policy) AS policies,"
                       " (SELECT any_value(region) FROM aws_iam_role) AS region").dicts()
        crawls = [c for c in con.fetch_log if c.operation == "GetAccountAuthorizationDetails"]
    finally:
        con.close()
    assert rows[0]["users"] >= 3 and rows[0]["roles"] >= 8 and rows[0]["groups"] >= 1 and rows[0]["policies"] >= 2
    assert rows[0]["region"] is None
    assert len(crawls) == 1 and crawls[0].service == "iam"


def test_statement_table_flattens_group_boundary_and_managed(sandbox, estate):
    con = connect(sandbox, None)
    try:
        rows = con.sql("SELECT principal_arn, source, policy_name, effect, actions, not_actions FROM aws_iam_policy_statement"
                       f" WHERE principal_arn IN ('{arn('user', 'lp-member')}', '{arn('role', 'lp-capped')}',"
                       f" '{arn('role', 'lp-notaction')}')").dicts()
    finally:
        con.close()
    got = {(r["principal_arn"].rsplit("/", 1)[-1], r["source"]) for r in rows}
    assert got == {("lp-member", "group"), ("lp-capped", "inline"), ("lp-capped", "boundary"), ("lp-notaction", "inline")}
    assert [r["not_actions"] for r in rows if r["principal_arn"].endswith("lp-notaction")] == [["iam:*", "organizations:*"]]


def test_who_can_invoke_an_api(sandbox, estate):
    con = connect(sandbox, None)
    try:
        rows = con.sql("SELECT principal_arn, via, api_id FROM aws_api_gateway_access_grant WHERE access = 'invoke'"
                       f" AND api_id IN ('*', '{estate['own']}')").dicts()
    finally:
        con.close()
    who = {(r["principal_arn"], r["via"]) for r in rows}
    assert (arn("role", "lp-reader"), "resource_policy") in who
    assert (arn("role", "lp-notaction"), "identity_policy") in who
    assert not any(r["principal_arn"].endswith("lp-scoped-invoker") for r in rows)   # scoped to another API


def test_a_denied_crawl_is_an_error_for_the_account(sandbox):
    fault = sandbox.add_fault(service="iam", operation="GetAccountAuthorizationDetails", code="AccessDenied")
    con = connect(sandbox, None)
    try:
        result = run_controls(con, ["iam_principal_apigateway_full_admin"])
    finally:
        con.close()
        sandbox.remove_fault(fault)
    assert {f.status for f in result.findings} == {"error"}
    assert all(f.resource == f"arn:aws:::{ACCOUNT}" and "AccessDenied" in f.reason for f in result.findings)


def test_malformed_documents_are_rows_with_an_error_not_a_crash():
    crawl = Crawl(users=[{"UserName": "bad", "Arn": "arn:aws:iam::1:user/bad", "Path": "/", "UserPolicyList": [
        {"PolicyName": "json", "PolicyDocument": "{not json"},
        {"PolicyName": "op", "PolicyDocument": {"Statement": [allow("apigateway:*", Condition={"StringMatchez": {"a": "b"}})]}},
        {"PolicyName": "noaction", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Resource": "*"}]}}]},
        {"UserName": "good", "Arn": "arn:aws:iam::1:user/good", "Path": "/",
         "UserPolicyList": [{"PolicyName": "ok", "PolicyDocument": {"Statement": [allow("apigateway:*")]}}],
         "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::1:policy/vanished"}]},
        {"UserName": "fine", "Arn": "arn:aws:iam::1:user/fine", "Path": "/",
         "UserPolicyList": [{"PolicyName": "ok", "PolicyDocument": {"Statement": [allow("apigateway:*")]}}]}])
    principals = {p.name: p for p in build_principals(crawl, "1")}
    errors = principals["bad"].error
    assert "not valid JSON" in errors and "StringMatchez" in errors and "neither Action nor NotAction" in errors
    assert "vanished" in principals["good"].error and principals["fine"].error is None
    rows = list(grant_rows(principals.values(), [Api("a1", "x", "rest", "us-east-1", "1")], "1"))
    by = {(r["principalName"], r["access"]) for r in rows}
    assert ("bad", None) in by and ("good", None) in by and ("fine", "admin") in by
    assert not any(r["principalName"] == "bad" and r["access"] for r in rows)


def test_a_principal_whose_policy_cannot_be_read_is_an_error_for_it_alone(report, sandbox):
    for control in ("iam_principal_apigateway_full_admin", "iam_principal_execute_api_invoke_all",
                    "iam_principal_apigateway_write_unused"):
        found = verdicts(report, control)
        assert found[arn("user", "lp-dangling")][0] == "error", control
        assert "lp-vanishing is not in the account's authorization details" in found[arn("user", "lp-dangling")][1]
        assert [r for r, (st, _) in found.items() if st == "error"] == [arn("user", "lp-dangling")], control
    con = connect(sandbox, None)
    try:
        result = con.sql(f"SELECT error FROM aws_iam_policy_statement WHERE principal_arn = '{arn('user', 'lp-dangling')}'")
        rows, warnings = result.rows, [e.line() for e in result.errors]
    finally:
        con.close()
    assert len(rows) == 1 and "lp-vanishing" in rows[0][0]
    assert any("lp-dangling" in w and "aws_iam_policy_statement" in w for w in warnings), warnings


def test_access_grant_rows_column_wise_are_the_rows_of_the_table_file():
    """The table's rows, built column-wise (Columnar), hold the values and types the row mapping gives: error rows,
    conditions, every-API and resource-policy rows included."""
    from apigw_sql.catalog import load_catalog
    from apigw_sql.rowbuild import arrow_table, build_rows, build_table

    spec = load_catalog()["aws_api_gateway_access_grant"]
    crawl = Crawl(users=[
        {"UserName": "bad", "Arn": "arn:aws:iam::1:user/bad", "Path": "/", "UserPolicyList": [
            {"PolicyName": "json", "PolicyDocument": "{not json"}]},
        {"UserName": "ops", "Arn": "arn:aws:iam::1:user/ops", "Path": "/", "UserPolicyList": [{"PolicyName": "p",
         "PolicyDocument": {"Statement": [allow("apigateway:*"), allow("execute-api:Invoke", "arn:aws:execute-api:us-east-1:1:a1/*",
                                                                        Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})]}}]}],
        roles=[{"RoleName": "linked", "Arn": "arn:aws:iam::1:role/aws-service-role/linked", "Path": "/aws-service-role/",
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Statement": [allow("apigateway:GET", "arn:aws:apigateway:us-east-1::/restapis/a1")]}}]}])
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}
    apis = [Api("a1", "one", "rest", "us-east-1", "1", policy=policy), Api("h1", "two", "http", "eu-west-1", "1")]
    grants = list(grant_rows(build_principals(crawl, "1"), apis, "1"))
    assert {g["via"] for g in grants} == {"identity_policy", "resource_policy"} and any(g["conditions"] for g in grants)
    assert any(g["error"] for g in grants) and any(g["api_id"] == "*" for g in grants)
    context = {"$region": None, "$account_id": "1", "$partition": "aws", "$parent": {}}
    by_columns = build_table(spec, grants, context)
    by_rows = arrow_table(spec, build_rows(spec, grants, context))
    assert by_columns.schema == by_rows.schema
    assert by_columns.to_pylist() == by_rows.to_pylist()


def test_access_grant_columns_have_the_types_of_the_table_file(sandbox, estate):
    from apigw_sql.catalog import load_catalog

    con = connect(sandbox, None)
    try:
        described = con.sql("DESCRIBE SELECT * FROM aws_api_gateway_access_grant").rows
        count = con.sql("SELECT count(*) FROM aws_api_gateway_access_grant WHERE principal_arn LIKE '%/lp-test/%'",
                        fetch=False).rows[0][0]
    finally:
        con.close()
    spec = load_catalog()["aws_api_gateway_access_grant"]
    assert [(name, kind) for name, kind, *_ in described] == [(c.name, c.type) for c in spec.columns]
    assert count > 0
