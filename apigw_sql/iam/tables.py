"""The rows functions the IAM table files name: each makes (or reads from the call cache) the account's ONE
paginated GetAccountAuthorizationDetails and shapes its lists; none calls IAM per principal."""
from __future__ import annotations

from typing import Any, Iterator

from ..rowbuild import Columnar
from ..transforms import json_string
from .documents import decode_document
from .apis import Api
from .grants import grant_rows
from .principals import Crawl, Principal, build_principals, default_document

OPERATION = "GetAccountAuthorizationDetails"
PAGE_SIZE = 1000  # AWS's largest page: an account of 2,000 principals is three calls


def crawl(ctx: Any) -> Crawl:
    """The account's crawl: one paginated call shared by every IAM table through the call cache."""
    return Crawl.from_pages(ctx.call(OPERATION, MaxItems=PAGE_SIZE) or [])


def _arns(attached: Any) -> list[str]:
    return [a.get("PolicyArn") for a in attached or [] if isinstance(a, dict) and a.get("PolicyArn")]


def _inline(entries: Any) -> list[dict[str, Any]]:
    """Inline policies as Steampipe shows them: [{"PolicyName": ..., "PolicyDocument": {...}}]."""
    return [{"PolicyName": e.get("PolicyName"), "PolicyDocument": decode_document(e.get("PolicyDocument"))[0]}
            for e in entries or [] if isinstance(e, dict)]


def user_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_iam_user: the crawl's UserDetailList."""
    for user in crawl(ctx).users:
        yield {**user, "attachedPolicyArns": _arns(user.get("AttachedManagedPolicies")),
               "inlinePolicies": _inline(user.get("UserPolicyList"))}


def group_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_iam_group: the crawl's GroupDetailList, with the users in each group."""
    found = crawl(ctx)
    members: dict[str, list[str]] = {}
    for user in found.users:
        for name in user.get("GroupList") or []:
            members.setdefault(name, []).append(user.get("Arn"))
    for group in found.groups:
        yield {**group, "attachedPolicyArns": _arns(group.get("AttachedManagedPolicies")),
               "inlinePolicies": _inline(group.get("GroupPolicyList")),
               "userArns": members.get(group.get("GroupName"), [])}


def role_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_iam_role: the crawl's RoleDetailList."""
    for role in crawl(ctx).roles:
        yield {**role, "attachedPolicyArns": _arns(role.get("AttachedManagedPolicies")),
               "inlinePolicies": _inline(role.get("RolePolicyList")),
               "assumeRolePolicy": decode_document(role.get("AssumeRolePolicyDocument"))[0],
               "instanceProfileArns": [p.get("Arn") for p in role.get("InstanceProfileList") or []]}


def policy_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_iam_policy: the crawl's managed policies, with the default version's document."""
    for policy in crawl(ctx).policies:
        yield {**policy, "document": decode_document(default_document(policy))[0],
               "isAwsManaged": str(policy.get("Arn", "")).startswith(("arn:aws:iam::aws:", "arn:aws-cn:iam::aws:",
                                                                      "arn:aws-us-gov:iam::aws:"))}


def _principals(ctx: Any) -> list[Principal]:
    wanted = ctx.constraints.get("principal_arn")
    found = build_principals(crawl(ctx), ctx.account_id or "")
    return [p for p in found if wanted is None or p.arn in wanted]


def _warn(ctx: Any, table: str, principal: Principal) -> None:
    from ..fetch import FetchError

    ctx.query.error(FetchError(table=table, account_id=ctx.account_id or "", region="global",
                               operation="ReadPolicies", code="MalformedPolicy",
                               message=f"{principal.arn}: {principal.error}"))


def statement_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """aws_iam_policy_statement: every statement in force for every principal; unreadable ones with an error
    (and a warning)."""
    for principal in _principals(ctx):
        if principal.error:
            _warn(ctx, "aws_iam_policy_statement", principal)
        sourced_all = list(principal.all_statements())
        if not sourced_all and principal.errors:  # nothing could be read: one row says why
            yield {"principalArn": principal.arn, "principalType": principal.type, "error": principal.error}
        for sourced in sourced_all:
            s = sourced.statement
            yield {"principalArn": principal.arn, "principalType": principal.type, "source": sourced.source,
                   "policyArn": sourced.policy_arn, "policyName": sourced.policy_name, "groupName": sourced.group_name,
                   "statementId": s.statement_id, "index": s.index, "sid": s.sid, "effect": s.effect,
                   "actions": list(s.actions), "notActions": list(s.not_actions), "resources": list(s.resources),
                   "notResources": list(s.not_resources), "condition": s.condition, "error": s.error}


def _apis(ctx: Any) -> list[Api]:
    """The audited account's REST, HTTP and WebSocket APIs in every region the session reads."""
    wanted = ctx.constraints.get("api_id")
    narrowed = {"api_id": wanted} if wanted else {}
    apis: list[Api] = []
    for row in ctx.fetcher.table_rows("aws_api_gateway_rest_api", dict(narrowed), ctx.query):
        if row.get("account_id") == ctx.account_id:
            apis.append(Api(row["api_id"], row.get("name"), "rest", row["region"], ctx.account_id,
                            row.get("partition") or "aws", json_string(row.get("policy"))))
    for row in ctx.fetcher.table_rows("aws_api_gatewayv2_api", dict(narrowed), ctx.query):
        if row.get("account_id") == ctx.account_id:
            kind = "websocket" if str(row.get("protocol_type", "")).upper() == "WEBSOCKET" else "http"
            apis.append(Api(row["api_id"], row.get("name"), kind, row["region"], ctx.account_id,
                            row.get("partition") or "aws"))
    return apis


def access_grant_rows(ctx: Any) -> Columnar:
    """aws_api_gateway_access_grant: identity-policy and resource-policy grants of the account's APIs.

    Column-wise (Columnar): an account of thousands of principals has tens of thousands of grant rows."""
    partition = ctx.target.partition if ctx.target else "aws"
    wanted = ctx.constraints.get("principal_arn")
    grants = grant_rows(_principals(ctx), _apis(ctx), ctx.account_id or "", partition)
    return Columnar([row for row in grants if wanted is None or row["principalArn"] in wanted])
