"""The one scheduler every AWS call of a session goes through, retries included.

On real AWS the speed of a crawl is set by quotas, not by threads: API Gateway's control plane allows
10 requests/s per account (burst 40) shared by REST and v2 reads, GetResources 5 per 2 s, LookupEvents
2/s per region. A call that would exceed a quota comes back as HTTP 429 and only wastes time. So:

- Every call waits for a grant here and is sent the moment it gets it: the tokens of its buckets
  (``ratelimit.LIMITS``) are taken at send time, never when the call is queued. All waiting calls of
  all tables are candidates at once, parents first (a lower ``priority``), so that the account bucket
  never idles while work waits; a call held back by its own bucket (GetResources) does not hold back
  the calls behind it.
- Throttling is not failure. A throttled call halves its buckets' rate (AIMD: real accounts share the
  quota with deploy pipelines and consoles), the rate then grows back additively, and the call is
  queued again until ``max_wait`` seconds after it was first queued; only then is it reported failed.
  Without pacing (``enabled=False``) throttled calls are still retried, after a jittered back-off.
- Server errors (5xx, broken connections) are retried ``max_attempts`` times in all, with jittered
  exponential back-off; any other error is the caller's answer at once.
- At most ``max_inflight`` calls are on the wire at once (the HTTP connection pool's size).

botocore's own retries must be off (``total_max_attempts=1``): they would bypass the buckets.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from .ratelimit import LIMITS, Cancelled, Limit

T = TypeVar("T")

# Error codes AWS uses for "slow down" (botocore's standard retry mode lists the same).
THROTTLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "EC2ThrottledException"})
# Error codes of a server that failed this once; the same request may succeed.
TRANSIENT_CODES = frozenset({"InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable",
                             "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
                             "PriorRequestNotComplete", "BadGateway", "GatewayTimeout"})
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
BACKOFF_BASE = 0.2   # seconds before the first retry of a server error (doubling, full jitter)
BACKOFF_CAP = 5.0
POLL = 0.1           # how often a waiting caller looks at the cancel event (seconds)


def classify(error: BaseException) -> str | None:
    """"throttle", "transient" or None (an answer: access denied, not found, a bad parameter...)."""
    import botocore.exceptions as bx

    if isinstance(error, bx.ClientError):
        code = error.response.get("Error", {}).get("Code") or ""
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in THROTTLE_CODES or status == 429:
            return "throttle"
        if code in TRANSIENT_CODES or status in TRANSIENT_STATUS:
            return "transient"
        return None
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ReadTimeoutError,
                          bx.ConnectTimeoutError)):
        return "transient"
    return None


class Bucket:
    """A token bucket whose rate adapts: halved on throttling, grown back additively.

    Growth is linear in time: quick (a quarter of the published rate per second) up to 90% of the
    rate at which AWS last throttled, then slow (5% per second) while probing above it, so that a
    quota shared with another client is used almost fully without throttling often.
    """

    FAST_GROWTH = 0.25
    PROBE_GROWTH = 0.05
    FLOOR = 1 / 64  # the rate never drops below this share of the published one

    def __init__(self, limit: Limit, now: float):
        self.limit = limit
        # One token short of AWS's bucket: AWS's then keeps a token in hand, which absorbs the jitter
        # between our send times and its arrival times (else two calls arriving closer together than
        # they were sent would be throttled) at the cost of one call's time.
        self.capacity = max(1.0, limit.burst - 1.0)
        self.rate = float(limit.rate)
        self.ceiling = float(limit.rate)   # the rate at which AWS last throttled (the published one at first)
        self.tokens = self.capacity
        self.throttles = 0                 # throttled answers seen
        self.decreases = 0                 # times the rate was halved
        self.sent = 0
        self._last = now
        self._last_decrease = float("-inf")

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._last = now
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        if self.rate < self.limit.rate:
            knee = 0.9 * self.ceiling
            step = (self.FAST_GROWTH if self.rate < knee else self.PROBE_GROWTH) * self.limit.rate * elapsed
            self.rate = min(float(self.limit.rate), self.rate + step)

    def wait_for_token(self) -> float:
        """Seconds until the bucket holds one whole token."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def throttled(self, sent_at: float, now: float) -> None:
        """AWS refused a call sent at `sent_at`: halve the rate, once per burst of refusals."""
        self.refill(now)
        self.throttles += 1
        if sent_at < self._last_decrease:
            return  # sent before the last decrease: that refusal has been answered already
        self.ceiling = self.rate
        self.rate = max(self.rate / 2, self.limit.rate * self.FLOOR)
        self.tokens = min(self.tokens, 0.0)
        self.decreases += 1
        self._last_decrease = now


@dataclass
class BucketState:
    """What a bucket looks like now (for tests, benchmarks and the progress line)."""

    budget: str
    account: str
    region: str
    published_rate: float
    rate: float
    throttles: int
    decreases: int
    sent: int


@dataclass
class Outcome(Generic[T]):
    """How one call ended: its value, or the error that ended it, and the throttled answers on the way."""

    value: T | None
    error: BaseException | None
    throttled: int
    attempts: int
    sent_at: float = 0.0  # the scheduler's clock when the last attempt was sent (after all waiting)


class _Ticket:
    __slots__ = ("key", "buckets", "granted", "cancelled", "seq")

    def __init__(self, key: tuple[int, int, int], buckets: list[Bucket]):
        self.key = key
        self.buckets = buckets
        self.granted = threading.Event()
        self.cancelled = False


class Scheduler:
    """Grants calls their tokens at send time, in priority order, and retries what may succeed later."""

    def __init__(self, enabled: bool = True, limits: dict[tuple[str, str | None], Limit] | None = None,
                 max_inflight: int = 16, max_wait: float = 180.0, max_attempts: int = 5,
                 clock: Callable[[], float] = time.monotonic):
        self.enabled = enabled
        self.limits = LIMITS if limits is None else limits
        self.max_inflight = max(1, max_inflight)
        self.max_wait = max_wait
        self.max_attempts = max(1, max_attempts)
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], Bucket] = {}
        self._pending: list[_Ticket] = []
        self._inflight = 0
        self._seq = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._sent_times: list[float] = []  # recent send times, for the observed rate when not pacing

    # ---- public -----------------------------------------------------------------------------
    def send(self, service: str, operation: str, account: str, region: str, request: Callable[[], T],
             cancel: threading.Event, priority: int = 0) -> Outcome[T]:
        """Sends `request` when the buckets allow, retrying throttled and failed-server attempts.

        Raises Cancelled as soon as `cancel` is set while waiting (within POLL seconds).
        """
        first_queued = self._clock()
        throttled = 0
        server_failures = 0
        attempts = 0
        while True:
            buckets = self._buckets_for(service, operation, account, region) if self.enabled else []
            self._wait_grant(buckets, priority, cancel)
            sent_at = self._clock()
            attempts += 1
            try:
                value = request()
            except Exception as error:  # noqa: BLE001 - classified below; the caller sees it in the Outcome
                kind = classify(error)
                now = self._clock()
                self._done(buckets, throttled=kind == "throttle", sent_at=sent_at, now=now)
                if kind == "throttle":
                    throttled += 1
                    if now - first_queued < self.max_wait:
                        if not self.enabled:  # no pacing to slow down with: back off instead
                            self._sleep(_backoff(throttled), cancel)
                        continue
                elif kind == "transient":
                    server_failures += 1
                    if server_failures < self.max_attempts:
                        self._sleep(_backoff(server_failures), cancel)
                        continue
                return Outcome(None, error, throttled, attempts, sent_at)
            self._done(buckets, throttled=False, sent_at=sent_at, now=self._clock())
            return Outcome(value, None, throttled, attempts, sent_at)

    def rate(self) -> float:
        """Calls per second the buckets allow now for the calls that wait (or the observed rate unpaced).

        Calls under one service bucket share its rate; when every one of them also has a bucket of
        its own (GetResources), their own buckets' rates bound it.
        """
        with self._cond:
            now = self._clock()
            if not self.enabled:
                recent = [t for t in self._sent_times if now - t < 5.0]
                self._sent_times = recent
                return len(recent) / 5.0
            outer: dict[int, tuple[Bucket, set[int], bool]] = {}
            for ticket in self._pending:
                if not ticket.buckets:
                    continue
                head, inner = ticket.buckets[0], ticket.buckets[1:]
                entry = outer.setdefault(id(head), (head, set(), True))
                subs = entry[1] | {id(b) for b in inner}
                outer[id(head)] = (head, subs, entry[2] and bool(inner))
            if not outer:  # nothing waits: the rate of the buckets in use
                return sum(b.rate for k, b in self._buckets.items() if ":" not in b.limit.budget)
            total = 0.0
            by_id = {id(b): b for b in self._buckets.values()}
            for head, subs, all_inner in outer.values():
                total += min(head.rate, sum(by_id[s].rate for s in subs)) if all_inner else head.rate
            return total

    def states(self) -> list[BucketState]:
        with self._cond:
            return [BucketState(k[0], k[1], k[2], b.limit.rate, b.rate, b.throttles, b.decreases, b.sent)
                    for k, b in sorted(self._buckets.items())]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # ---- internals ---------------------------------------------------------------------------
    def _buckets_for(self, service: str, operation: str, account: str, region: str) -> list[Bucket]:
        found: list[Bucket] = []
        with self._cond:
            for key in ((service, None), (service, operation)):
                limit = self.limits.get(key)
                if limit is None:
                    continue
                bkey = (limit.budget, account, region if limit.per_region else "")
                bucket = self._buckets.get(bkey)
                if bucket is None:
                    bucket = self._buckets[bkey] = Bucket(limit, self._clock())
                found.append(bucket)
        return found

    def _wait_grant(self, buckets: list[Bucket], priority: int, cancel: threading.Event) -> None:
        with self._cond:
            self._seq += 1
            # Parents first; among equals, calls with a bucket of their own (the scarcer budget) first,
            # so that the slowest budget never idles; then first come, first served.
            ticket = _Ticket((priority, -len(buckets), self._seq), buckets)
            self._pending.append(ticket)
            self._pending.sort(key=lambda t: t.key)
            self._ensure_dispatcher()
            self._cond.notify_all()
        while not ticket.granted.wait(POLL):
            if cancel.is_set():
                with self._cond:
                    if not ticket.granted.is_set():
                        ticket.cancelled = True
                        self._pending.remove(ticket)
                        self._cond.notify_all()
                        raise Cancelled()
                break  # granted in the meantime
        if cancel.is_set():
            self._done(buckets, throttled=False, sent_at=0.0, now=self._clock(), sent=False)
            raise Cancelled()

    def _done(self, buckets: list[Bucket], throttled: bool, sent_at: float, now: float, sent: bool = True) -> None:
        with self._cond:
            self._inflight -= 1
            if throttled and buckets:
                # AWS does not say which quota refused the call: blame the call's own (GetResources'
                # 5 per 2 s rather than the account's 10/s); if the account's was short, the next
                # refusal of another call halves that one.
                buckets[-1].throttled(sent_at, now)
            self._cond.notify_all()

    def _sleep(self, seconds: float, cancel: threading.Event) -> None:
        if cancel.wait(seconds):
            raise Cancelled()

    def _ensure_dispatcher(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._dispatch, name="apigw-sql-scheduler", daemon=True)
            self._thread.start()

    def _dispatch(self) -> None:
        """Grants waiting calls their tokens in priority order; sleeps until the next token is due."""
        with self._cond:
            while not self._closed:
                now = self._clock()
                for bucket in self._buckets.values():
                    bucket.refill(now)
                wake: float | None = None
                granted: list[_Ticket] = []
                for ticket in self._pending:
                    if self._inflight + len(granted) >= self.max_inflight:
                        break
                    due = max((b.wait_for_token() for b in ticket.buckets), default=0.0)
                    if due <= 0:
                        for bucket in ticket.buckets:
                            bucket.tokens -= 1
                            bucket.sent += 1
                        granted.append(ticket)
                    else:
                        wake = due if wake is None else min(wake, due)
                for ticket in granted:
                    self._pending.remove(ticket)
                    self._inflight += 1
                    if not self.enabled:
                        self._sent_times.append(now)
                    ticket.granted.set()
                if granted:
                    continue  # tokens changed: look again before sleeping
                # Sleep until a token is due, or until a call is queued or finishes.
                self._cond.wait(None if wake is None else max(wake, 0.001))


def _backoff(failures: int) -> float:
    """Full-jitter exponential back-off before retry number `failures`."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1)))
