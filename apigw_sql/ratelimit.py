"""Client-side rate limits at AWS's published rates, so a crawl stays under the account's budget.

API Gateway's control plane allows 10 requests/s per account (burst 40) shared by every GET of
REST and v2 APIs, and GetResources 5 per 2 s; CloudTrail LookupEvents 2/s per account and region;
CloudWatch Logs FilterLogEvents 5/s and CloudWatch GetMetricData 50/s per account and region.
One bucket per (account, budget[, region]) is shared by every table and thread of a session.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


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
    ("s3", None): Limit("s3", 50, 100),
    ("logs", "FilterLogEvents"): Limit("logs:FilterLogEvents", 5, 5, per_region=True),
    ("cloudwatch", "GetMetricData"): Limit("cloudwatch:GetMetricData", 50, 50, per_region=True),
}


class Cancelled(Exception):
    """The user cancelled the running fetch."""


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class RateLimiter:
    def __init__(self, enabled: bool = True, limits: dict[tuple[str, str | None], Limit] | None = None):
        self.enabled = enabled
        self.limits = LIMITS if limits is None else limits
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.waited = 0.0

    def _bucket(self, limit: Limit, account: str, region: str) -> TokenBucket:
        key = (limit.budget, account, region if limit.per_region else "")
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(limit.rate, limit.burst)
            return bucket

    def acquire(self, service: str, operation: str, account: str, region: str,
                cancel: threading.Event | None = None) -> None:
        if not self.enabled:
            return
        wait = 0.0
        for key in ((service, None), (service, operation)):
            limit = self.limits.get(key)
            if limit is not None:
                wait = max(wait, self._bucket(limit, account, region).reserve())
        if wait > 0:
            self.waited += wait
            if cancel is not None:
                if cancel.wait(wait):
                    raise Cancelled()
            else:
                time.sleep(wait)
