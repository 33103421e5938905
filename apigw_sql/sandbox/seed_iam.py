"""The demo estate's IAM side: who may change or invoke the shop's APIs, and who used that access.

Account 123456789012 (IAM is global). The sandbox loads AWS managed policies (MOTO_IAM_LOAD_MANAGED_POLICIES).

  role shop-apigateway-admin  AmazonAPIGatewayAdministrator (apigateway:* on arn:aws:apigateway:*::/*): full
                              admin of every API; never wrote in CloudTrail (one AccessDenied write only).
  user ci-pipeline            inline apigateway:* on *: full admin; wrote (CreateDeployment on orders-api).
  role partner-invoker        inline execute-api:Invoke on *: may invoke every API of the account.
  role orders-deployer        apigateway GET, POST, PATCH on orders-api only (well scoped); its assumed-role
                              session deploy-7 wrote (CreateDeployment), which counts for the role.
  role reports-reader         apigateway:GET on * (read only).
  role checkout-invoker       execute-api:Invoke on checkout-http's prod stage only (well scoped).
  role sandbox-developer      apigateway:* and execute-api:* on *, capped by the permissions boundary
                              shop-developer-boundary (apigateway:GET and execute-api:Invoke on storefront-http
                              only): neither admin nor invoke-all.
  group api-operators         AmazonAPIGatewayAdministrator, member user ops-oncall (inherits full admin); ops-oncall
                              never wrote.
  role apigateway-cloudwatch-logs (created by seed.py) has no API Gateway permission.

CloudTrail history (LookupEvents, planted with past times): ci-pipeline CreateDeployment 12 days ago,
orders-deployer session CreateDeployment 3 days ago, shop-apigateway-admin UpdateRestApi AccessDenied 20 days ago.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from .sandbox import DEMO_ACCOUNT_ID, control_request

ACCOUNT = DEMO_ACCOUNT_ID
ADMIN_POLICY = "arn:aws:iam::aws:policy/AmazonAPIGatewayAdministrator"
_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _event(name: str, identity: dict[str, Any], days_ago: float, params: dict[str, Any], **fields: Any) -> dict[str, Any]:
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)
    return {"eventVersion": "1.09", "userIdentity": identity, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "apigateway.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.20", "userAgent": "aws-cli/2.15.30", "requestParameters": params,
            "responseElements": None, "requestID": str(uuid.uuid4()), "eventID": str(uuid.uuid4()),
            "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
            "eventCategory": "Management", **fields}


def seed_iam(endpoint_url: str, iam: Any, estate: dict[str, Any]) -> None:
    """Creates the principals above with `iam` (a boto3 IAM client of the sandbox) and plants their history."""
    us = estate["us-east-1"]
    orders, checkout = us["rest_apis"]["orders-api"], us["http_apis"].get("checkout-http", "*")
    storefront = us["http_apis"].get("storefront-http", "*")

    def role(name: str, *statements: dict[str, Any], managed: str | None = None, boundary: str | None = None) -> None:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_TRUST,
                        **({"PermissionsBoundary": boundary} if boundary else {}))
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName=f"{name}-access", PolicyDocument=_doc(*statements))
        if managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=managed)

    role("shop-apigateway-admin", managed=ADMIN_POLICY)
    iam.create_user(UserName="ci-pipeline")
    iam.put_user_policy(UserName="ci-pipeline", PolicyName="deploy-everything", PolicyDocument=_doc(_allow("apigateway:*")))
    role("partner-invoker", _allow("execute-api:Invoke"))
    orders_arn = f"arn:aws:apigateway:us-east-1::/restapis/{orders}"
    role("orders-deployer", _allow(["apigateway:GET", "apigateway:POST", "apigateway:PATCH"], [orders_arn, f"{orders_arn}/*"]))
    role("reports-reader", _allow("apigateway:GET"))
    role("checkout-invoker", _allow("execute-api:Invoke", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{checkout}/prod/*"))
    boundary = iam.create_policy(PolicyName="shop-developer-boundary", PolicyDocument=_doc(
        _allow(["apigateway:GET", "execute-api:Invoke"],
               [f"arn:aws:apigateway:us-east-1::/apis/{storefront}", f"arn:aws:apigateway:us-east-1::/apis/{storefront}/*",
                f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{storefront}/*"])))["Policy"]["Arn"]
    role("sandbox-developer", _allow(["apigateway:*", "execute-api:*"]), boundary=boundary)
    iam.create_group(GroupName="api-operators")
    iam.attach_group_policy(GroupName="api-operators", PolicyArn=ADMIN_POLICY)
    iam.create_user(UserName="ops-oncall")
    iam.add_user_to_group(GroupName="api-operators", UserName="ops-oncall")

    ci = {"type": "IAMUser", "principalId": "AIDACIPIPELINE000001", "arn": f"arn:aws:iam::{ACCOUNT}:user/ci-pipeline",
          "accountId": ACCOUNT, "accessKeyId": "AKIACIPIPELINE000001", "userName": "ci-pipeline"}

    def session(role_name: str, name: str) -> dict[str, Any]:
        return {"type": "AssumedRole", "principalId": f"AROA{role_name.upper()[:12]}:{name}", "accountId": ACCOUNT,
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{name}", "accessKeyId": "ASIADEMOSESSION00001",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/{role_name}",
                                                     "accountId": ACCOUNT, "userName": role_name}}}

    deploy = {"restApiId": orders, "createDeploymentInput": {"stageName": "prod"}}
    control_request(endpoint_url, "POST", "events", {"region": "us-east-1", "records": [
        _event("CreateDeployment", ci, 12, deploy),
        _event("CreateDeployment", session("orders-deployer", "deploy-7"), 3, deploy),
        _event("UpdateRestApi", session("shop-apigateway-admin", "console"), 20, {"restApiId": orders},
               errorCode="AccessDenied", errorMessage="not authorized by a service control policy"),
    ]})
