"""An AWS-compatible sandbox on loopback: moto in server mode plus what moto lacks for auditing.

    >>> from apigw_sql.sandbox import Sandbox
    >>> with Sandbox(seed=True) as sb:                             # doctest: +SKIP
    ...     apis = sb.client("apigateway").get_rest_apis()["items"]

The additions (see the ext_* modules): CloudTrail LookupEvents over every request the sandbox received,
REST client certificates, GetTags, v2 GetAuthorizers, trail status and default event selectors, mutual TLS
on custom domains, CloudWatch metric dimensions matched as a set, and fault injection for tests. CloudWatch
Logs (PutLogEvents, FilterLogEvents) is moto's own. The demo estate is described in `seed`.
"""
from __future__ import annotations

from .sandbox import DEMO_ACCOUNT_ID, DEMO_REGIONS, Sandbox, SandboxError
from .seed import seed_demo
from .serve import serve

__all__ = ["DEMO_ACCOUNT_ID", "DEMO_REGIONS", "Sandbox", "SandboxError", "seed_demo", "serve"]
