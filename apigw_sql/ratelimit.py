"""AWS's published rates, so a crawl stays under the account's budget (``scheduler.py`` applies them).

API Gateway's control plane allows 10 requests/s per account (burst 40) shared by every GET of
REST and v2 APIs, and GetResources 5 per 2 s; CloudTrail LookupEvents 2/s per account and region;
CloudWatch Logs FilterLogEvents 5/s and CloudWatch GetMetricData 50/s per account and region; IAM
(global) 5/s, its GetAccountAuthorizationDetails crawl 1 page/s. One bucket per (account, budget[,
region]) is shared by every table and thread of a session. The sandbox's --aws-quotas enforces the
same table.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ApigwSqlError


@dataclass(frozen=True)
class Limit:
    budget: str       # the bucket's name: services that share a budget use the same one
    rate: float       # tokens per second
    burst: float      # bucket size
    per_region: bool = False


# (service, operation or None) -> limits that apply; an operation limit applies on top of its service's.
LIMITS: dict[tuple[str, str | None], Limit] = {
    ("apigateway", None): Limit("apigateway", 10, 40),
    ("apigatewayv2", None): Limit("apigateway", 10, 40),
    ("apigateway", "GetResources"): Limit("apigateway:GetResources", 2.5, 5),
    ("cloudtrail", "LookupEvents"): Limit("cloudtrail:LookupEvents", 2, 2, per_region=True),
    ("cloudtrail", None): Limit("cloudtrail", 10, 20, per_region=True),
    ("wafv2", None): Limit("wafv2", 10, 20, per_region=True),
    ("acm", None): Limit("acm", 10, 20, per_region=True),
    ("logs", "FilterLogEvents"): Limit("logs:FilterLogEvents", 5, 5, per_region=True),
    ("s3", None): Limit("s3", 50, 100),
    ("cloudwatch", "GetMetricData"): Limit("cloudwatch:GetMetricData", 50, 50, per_region=True),
    # IAM is global (one budget per account) and its quota is low and unpublished per call; the crawl is one
    # paginated GetAccountAuthorizationDetails (1,000 principals a page), paced at 1 page/s, burst 2.
    ("iam", None): Limit("iam", 5, 10),
    ("iam", "GetAccountAuthorizationDetails"): Limit("iam:GetAccountAuthorizationDetails", 1, 2),
}


class Cancelled(ApigwSqlError):
    """The user cancelled the running fetch."""
