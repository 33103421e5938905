"""The demo organization: the demo account 123456789012 is its management account, with one member.

Member 210987654321 ("shop-partners"), made by Organizations CreateAccount (which, as on AWS, creates the
OrganizationAccountAccessRole there, trusting the management account), holds a small estate of its own
in us-east-1, partly insecure:

  REST API  partner-payouts-api   REGIONAL; GET /payouts with no authorization (open) on a MOCK integration;
                                  stage prod with no method settings at all (no execution logging), no
                                  access logs, no tracing.
  IAM role  AuditRole             trusts the management account when asked with the external id
                                  "apigw-sql-demo" (``--role-name AuditRole --external-id apigw-sql-demo``).

moto picks account ids at random on CreateAccount; the member's id is made stable by handing moto's id
maker the wanted id for that one call (the seeder runs in the server's process). Seeded from another
process, the id would be moto's random one: the estate says which (``estate["accounts"]``).
"""
from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator

MEMBER_ACCOUNT_ID = "210987654321"
MEMBER_ACCOUNT_NAME = "shop-partners"
ORG_ROLE = "OrganizationAccountAccessRole"
AUDIT_ROLE = "AuditRole"
AUDIT_EXTERNAL_ID = "apigw-sql-demo"
REGION = "us-east-1"


@contextlib.contextmanager
def _account_id_for_next_account(account_id: str) -> Iterator[None]:
    """moto's CreateAccount, while this is open, gives the new account `account_id` (in this process)."""
    from moto.organizations import utils

    original = utils.make_random_account_id
    utils.make_random_account_id = lambda: account_id
    try:
        yield
    finally:
        utils.make_random_account_id = original


def seed_accounts(s: Any, management_account: str) -> dict[str, Any]:
    """With seed.py's seeder `s` (clients by service, region and access key), creates the organization, its member account, the member's roles and estate; returns
    {"organization": ID, "management": ID, "members": {ID: {"name": ..., "rest_apis": {name: id}}}}."""
    org = s.client("organizations", REGION)
    organization = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    with _account_id_for_next_account(MEMBER_ACCOUNT_ID):
        status = org.create_account(AccountName=MEMBER_ACCOUNT_NAME, Email="partners@shop.example")
    member = status["CreateAccountStatus"]["AccountId"]
    key = s.client("sts", REGION).assume_role(RoleArn=f"arn:aws:iam::{member}:role/{ORG_ROLE}",
                                              RoleSessionName="shop-setup")["Credentials"]["AccessKeyId"]
    s.client("iam", REGION, key).create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{management_account}:root"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": AUDIT_EXTERNAL_ID}}}]}))
    return {"organization": organization, "management": management_account,
            "members": {member: {"name": MEMBER_ACCOUNT_NAME, "rest_apis": _member_estate(s, key)}}}


def _member_estate(s: Any, key: str) -> dict[str, str]:
    ag = s.client("apigateway", REGION, key)
    api = ag.create_rest_api(name="partner-payouts-api", description="Payouts to partners",
                             endpointConfiguration={"types": ["REGIONAL"]})
    payouts = ag.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="payouts")["id"]
    ag.put_method(restApiId=api["id"], resourceId=payouts, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api["id"], resourceId=payouts, httpMethod="GET", **s.MOCK)
    deployment = ag.create_deployment(restApiId=api["id"])["id"]
    ag.create_stage(restApiId=api["id"], stageName="prod", deploymentId=deployment)
    return {"partner-payouts-api": str(api["id"])}
