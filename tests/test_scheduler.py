"""The scheduler's buckets, on a clock of the test's own (no sandbox, no waiting)."""
from __future__ import annotations

import threading

import pytest

from apigw_sql.ratelimit import LIMITS
from apigw_sql.scheduler import Bucket, Scheduler


def test_bucket_gives_the_burst_but_one_then_the_published_rate():
    bucket = Bucket(LIMITS[("apigateway", None)], now=0.0)
    for _ in range(39):  # AWS's burst is 40: one token stays in its bucket against jitter
        assert bucket.wait_for_token() == 0.0
        bucket.tokens -= 1
    assert bucket.wait_for_token() == pytest.approx(0.1)
    bucket.refill(10.0)  # refilled, but never beyond that
    assert bucket.tokens == 39


def test_throttling_halves_the_rate_once_per_burst_then_it_grows_back():
    bucket = Bucket(LIMITS[("apigateway", None)], now=0.0)
    bucket.throttled(sent_at=1.0, now=1.1)
    assert bucket.rate == pytest.approx(5.0) and bucket.tokens <= 0
    bucket.throttled(sent_at=1.05, now=1.1)  # sent before the decrease: the same congestion, no second halving
    assert bucket.rate == pytest.approx(5.0) and (bucket.throttles, bucket.decreases) == (2, 1)
    bucket.refill(2.1)  # additively: a quarter of the published rate per second up to 90% of the last ceiling
    assert bucket.rate == pytest.approx(7.5)
    bucket.refill(60.0)
    assert bucket.rate == pytest.approx(10.0)  # never beyond the published rate


def test_rest_and_v2_share_one_account_budget_and_get_resources_has_its_own():
    scheduler = Scheduler()
    [rest] = scheduler._buckets_for("apigateway", "GetRestApis", "111122223333", "us-east-1")
    [v2] = scheduler._buckets_for("apigatewayv2", "GetApis", "111122223333", "eu-west-1")
    account, resources = scheduler._buckets_for("apigateway", "GetResources", "111122223333", "us-east-1")
    assert rest is v2 is account and resources.limit.rate == 2.5
    [other] = scheduler._buckets_for("apigateway", "GetRestApis", "444455556666", "us-east-1")
    assert other is not rest
    east = scheduler._buckets_for("cloudtrail", "LookupEvents", "111122223333", "us-east-1")
    west = scheduler._buckets_for("cloudtrail", "LookupEvents", "111122223333", "us-west-2")
    assert not set(map(id, east)) & set(map(id, west))  # CloudTrail's quotas are per region


def test_a_call_held_back_by_its_own_bucket_does_not_hold_back_the_others():
    scheduler = Scheduler(max_inflight=4)
    cancel = threading.Event()
    # Spend GetResources' burst, so that the next GetResources waits for its 2.5/s.
    for _ in range(4):
        assert scheduler.send("apigateway", "GetResources", "1", "us-east-1", lambda: 1, cancel).value == 1
    order: list[str] = []
    slow = threading.Thread(target=lambda: scheduler.send(
        "apigateway", "GetResources", "1", "us-east-1", lambda: order.append("resources"), cancel))
    slow.start()
    scheduler.send("apigateway", "GetStages", "1", "us-east-1", lambda: order.append("stages"), cancel)
    slow.join(5)
    scheduler.close()
    assert order == ["stages", "resources"]


def test_cancel_stops_a_waiting_call_promptly():
    import time

    from apigw_sql.ratelimit import Cancelled

    scheduler = Scheduler()
    cancel = threading.Event()
    for _ in range(1):  # LookupEvents: burst 2 (1 for us), then 2/s; drain it and lower the rate
        scheduler.send("cloudtrail", "LookupEvents", "1", "us-east-1", lambda: None, cancel)
    [_, lookup] = scheduler._buckets_for("cloudtrail", "LookupEvents", "1", "us-east-1")
    lookup.rate = 0.01
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        scheduler.send("cloudtrail", "LookupEvents", "1", "us-east-1", lambda: None, cancel)
    assert time.monotonic() - started < 1.0
    scheduler.close()
