"""AWS's published request quotas, enforced the way AWS enforces them (`apigw-sql sandbox --aws-quotas`).

A request beyond a quota is refused with the service's own error shape: API Gateway (REST and v2
share one budget) answers HTTP 429 TooManyRequestsException, CloudTrail and CloudWatch Logs HTTP 400
ThrottlingException "Rate exceeded". A refused request costs no token. Each quota is a token bucket
per account (and per region where AWS counts per region). `share` simulates a second client of the
same account (a deploy pipeline, a console) that uses that share of every bucket's refill rate, so
this client gets only the rest.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Quota:
    budget: str
    rate: float          # requests per second
    burst: float
    per_region: bool
    code: str
    status: int
    message: str


_APIGW = ("TooManyRequestsException", 429, "Too Many Requests")
_RATE = ("ThrottlingException", 400, "Rate exceeded")
# (signing name, operation or None) -> quota; an operation's quota applies on top of its service's.
QUOTAS: dict[tuple[str, str | None], Quota] = {
    ("apigateway", None): Quota("apigateway", 10, 40, False, *_APIGW),
    ("apigateway", "GetResources"): Quota("apigateway:GetResources", 2.5, 5, False, *_APIGW),
    ("cloudtrail", "LookupEvents"): Quota("cloudtrail:LookupEvents", 2, 2, True, *_RATE),
    ("logs", "FilterLogEvents"): Quota("logs:FilterLogEvents", 5, 5, True, *_RATE),
}


class _Bucket:
    def __init__(self, rate: float, burst: float, now: float):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now


class QuotaRules:
    """The buckets of every account; `admit` decides each request. Thread-safe."""

    def __init__(self, share: float = 0.0, clock: Callable[[], float] = time.monotonic):
        if not 0.0 <= share < 1.0:
            raise ValueError("the quota share of the other client must be at least 0 and below 1")
        self.share = share
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}
        self.admitted: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    def admit(self, signing_name: str | None, operation: str | None, account: str,
              region: str | None) -> Quota | None:
        """None when the request may go on; else the quota it exceeds (the request takes no token)."""
        quotas = [q for q in (QUOTAS.get((signing_name or "", None)), QUOTAS.get((signing_name or "", operation)))
                  if q is not None]
        if not quotas:
            return None
        with self._lock:
            now = self._clock()
            buckets = []
            for quota in quotas:
                key = (quota.budget, account, (region or "") if quota.per_region else "")
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = _Bucket(quota.rate * (1 - self.share), quota.burst, now)
                bucket.refill(now)
                buckets.append(bucket)
            for quota, bucket in zip(quotas, buckets):
                if bucket.tokens < 1:
                    self.refused[quota.budget] = self.refused.get(quota.budget, 0) + 1
                    return quota
            for quota, bucket in zip(quotas, buckets):
                bucket.tokens -= 1
                self.admitted[quota.budget] = self.admitted.get(quota.budget, 0) + 1
            return None

    def state(self) -> dict[str, object]:
        with self._lock:
            return {"enabled": True, "share": self.share, "admitted": dict(self.admitted),
                    "refused": dict(self.refused)}
