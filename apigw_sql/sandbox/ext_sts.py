"""STS GetCallerIdentity answering as the identity CloudTrail records (moto says user/moto), and
AssumeRole checked against the role's trust policy.

An engine that shows "who am I" then names the same principal the sandbox's CloudTrail events name.
moto lets anyone assume any role and hands out credentials of the role's account; here a role that
exists must trust the caller's account (its root, or a principal of that account, or "*") and, when its
trust policy has an ``sts:ExternalId`` condition, be asked with that external id: else AccessDenied, as
on AWS. A role that does not exist is still assumed as moto does (tests make accounts that way).
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from . import moto_backends
from .aws_errors import AwsError
from .cloudtrail_event import user_identity
from .exchange import Call, Reply
from .extension import Forward, HandlerTable


class StsExtensions:
    def handlers(self) -> HandlerTable:
        return {("sts", "GetCallerIdentity"): self._get_caller_identity, ("sts", "AssumeRole"): self._assume_role}

    def _assume_role(self, call: Call, forward: Forward) -> Reply:
        form = parse_qs(call.body.decode("utf-8", "replace")) if call.body else {}
        params = {**{k: v[0] for k, v in call.query.items() if v}, **{k: v[0] for k, v in form.items() if v}}
        role_arn = str(params.get("RoleArn", ""))
        policy = moto_backends.role_trust_policy(role_arn)
        if policy is not None and not trusts(policy, call.account_id, params.get("ExternalId")):
            caller = user_identity(call.credential.access_key_id if call.credential else "", call.account_id)["arn"]
            raise AwsError("AccessDenied", f"User: {caller} is not authorized to perform: sts:AssumeRole on "
                                           f"resource: {role_arn}", 403)
        return forward()

    def _get_caller_identity(self, call: Call, forward: Forward) -> Reply:
        assert call.credential is not None
        identity = user_identity(call.credential.access_key_id, call.account_id)
        user_id = identity["principalId"]
        xml = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
               f"<GetCallerIdentityResult><Arn>{escape(identity['arn'])}</Arn><UserId>{escape(user_id)}</UserId>"
               f"<Account>{escape(call.account_id)}</Account></GetCallerIdentityResult>"
               f"<ResponseMetadata><RequestId>{call.request_id}</RequestId></ResponseMetadata>"
               "</GetCallerIdentityResponse>")
        body = xml.encode()
        return Reply(200, [("Content-Type", "text/xml"), ("Content-Length", str(len(body))),
                           ("x-amzn-RequestId", call.request_id)], body)


def trusts(policy: dict[str, Any], account: str, external_id: str | None) -> bool:
    """Whether a trust policy lets principals of `account` assume the role with this external id.

    >>> p = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
    ...                     "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x1"}}}]}
    >>> trusts(p, "111111111111", "x1"), trusts(p, "111111111111", None), trusts(p, "222222222222", "x1")
    (True, False, False)
    """
    statements = policy.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect") != "Allow" or not _names(st.get("Action"), "sts:AssumeRole"):
            continue
        principal = st.get("Principal")
        principals = _list(principal.get("AWS")) if isinstance(principal, dict) else _list(principal)
        if not any(p == "*" or p == account or p.startswith(f"arn:aws:iam::{account}:") for p in principals):
            continue
        wanted = [v for test, values in (st.get("Condition") or {}).items() if test.startswith("StringEquals")
                  for key, v in values.items() if key.lower() == "sts:externalid"]
        if all(external_id in _list(v) for v in wanted):
            return True
    return False


def _names(actions: Any, action: str) -> bool:
    return any(a in (action, "sts:*", "*") for a in _list(actions))


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
