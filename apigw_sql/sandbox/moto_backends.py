"""moto's in-memory state, read by the extensions that answer what moto cannot.

The middleware runs in the server's process, so moto's backends are plain objects here, whether the
server runs in a thread or in a child process.
"""
from __future__ import annotations

import os
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID


def account_for(access_key_id: str | None, headers: dict[str, str]) -> str:
    """The account moto serves this request from, decided the way moto decides it."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if "x-moto-account-id" in headers:
        return headers["x-moto-account-id"]
    if not access_key_id:
        return DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key_id))


def role_trust_policy(role_arn: str) -> dict[str, Any] | None:
    """The trust policy of an IAM role by ARN, or None when the role does not exist."""
    import json

    from moto.iam.models import iam_backends

    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit() or parts[4] not in iam_backends:
        return None
    try:
        role = iam_backends[parts[4]][parts[1] or "aws"].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's NotFound: no such role
        return None
    try:
        return json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        return {}


def apigateway(account_id: str, region: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[account_id][region]


def apigatewayv2(account_id: str, region: str) -> Any:
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account_id][region]


def cloudtrail(account_id: str, region: str) -> Any:
    from moto.cloudtrail.models import cloudtrail_backends

    return cloudtrail_backends[account_id][region]


def all_trails(account_id: str) -> list[Any]:
    """Every trail of the account, in whichever region it was created (its home region)."""
    from moto.cloudtrail.models import cloudtrail_backends

    trails: list[Any] = []
    for backend in cloudtrail_backends[account_id].values():
        trails.extend(backend.trails.values())
    return trails
