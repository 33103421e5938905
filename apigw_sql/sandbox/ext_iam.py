"""IAM GetAccountAuthorizationDetails as AWS answers it.

With no Filter, AWS lists the customer managed policies and only the AWS managed policies that something in
the account uses (attached, or set as a permissions boundary); moto lists every AWS managed policy it loaded
(about 1,600 with MOTO_IAM_LOAD_MANAGED_POLICIES=true), which makes each crawl seconds long and hides whether
the engine reads only what is in use. The backend's answer is narrowed once, where moto computes it.
"""
from __future__ import annotations

from typing import Any

from .extension import HandlerTable

_INSTALLED = False


def _in_use(policy: Any, boundaries: set[str]) -> bool:
    return getattr(policy, "attachment_count", 0) > 0 or getattr(policy, "arn", None) in boundaries


def _boundary_arn(principal: Any) -> str | None:
    """The permissions boundary a moto user or role carries (roles keep the ARN, users a dict or nothing)."""
    arn = getattr(principal, "permissions_boundary_arn", None)
    if arn:
        return str(arn)
    boundary = getattr(principal, "permissions_boundary", None)
    return boundary.get("PermissionsBoundaryArn") if isinstance(boundary, dict) else boundary


def install() -> None:
    """Wraps moto's IAMBackend.get_account_authorization_details (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.iam.models import IAMBackend

    original = IAMBackend.get_account_authorization_details

    def get_account_authorization_details(self: Any, policy_filter: list[str]) -> dict[str, Any]:
        details = original(self, policy_filter)
        if policy_filter:
            return details
        aws_managed = {id(p) for p in self.aws_managed_policies}
        boundaries = {_boundary_arn(p) for p in (*self.users.values(), *self.roles.values())}
        details["managed_policies"] = [p for p in details["managed_policies"]
                                       if id(p) not in aws_managed or _in_use(p, boundaries)]
        return details

    IAMBackend.get_account_authorization_details = get_account_authorization_details  # type: ignore[method-assign]
    _INSTALLED = True


class IamExtensions:
    def __init__(self) -> None:
        install()

    def handlers(self) -> HandlerTable:
        return {}
