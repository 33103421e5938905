"""Fetching under AWS's request quotas (the sandbox's --aws-quotas): throttling is retried, never lost.

Each test uses a small estate of its own region, so that a test takes seconds, and asserts on the
fetch log and the scheduler's buckets rather than on wall time.
"""
from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest
from botocore.exceptions import ClientError

from apigw_sql.cli import main
from apigw_sql.fetch import Progress
from apigw_sql.ratelimit import Cancelled

REGION = "ca-central-1"  # no other test builds here
APIS = 10                # GetResources: 10 calls against AWS's burst of 5


@pytest.fixture(scope="module")
def estate(sandbox) -> Iterator[list[str]]:
    client = sandbox.client("apigateway", REGION)
    ids = []
    for i in range(APIS):
        api = client.create_rest_api(name=f"quota-{i}")["id"]
        root = client.get_resources(restApiId=api)["items"][0]["id"]
        client.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        ids.append(api)
    yield ids


@pytest.fixture()
def quotas(sandbox, estate) -> Iterator[object]:
    """The sandbox with AWS's quotas enforced for one test (fresh buckets), then without them."""
    yield sandbox
    sandbox.set_quotas(False)


def _method_query(con, on_progress=None):
    return con.sql(f"SELECT rest_api_id, http_method FROM aws_api_gateway_method WHERE region = '{REGION}'",
                   on_progress=on_progress)


def test_quota_sandbox_refuses_beyond_the_quotas_with_aws_error_shapes(quotas):
    quotas.set_quotas(True)
    v1 = quotas.client("apigateway", REGION)
    api = v1.get_rest_apis()["items"][0]["id"]
    for _ in range(4):  # the fifth GetResources of the burst of 5 is the last one allowed
        v1.get_resources(restApiId=api)
    v1.get_resources(restApiId=api)
    with pytest.raises(ClientError) as refused:
        v1.get_resources(restApiId=api)
    assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    v2 = quotas.client("apigatewayv2", REGION)  # v2 shares the account's 10/s, burst 40, with v1
    with pytest.raises(ClientError) as shared:
        for _ in range(400):  # the sandbox answers faster than 10/s: the bucket runs dry
            v2.get_apis()
    assert shared.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert shared.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    trail = quotas.client("cloudtrail", REGION)
    with pytest.raises(ClientError) as lookup:
        for _ in range(3):  # 2/s, burst 2
            trail.lookup_events(MaxResults=1)
    assert lookup.value.response["Error"]["Code"] == "ThrottlingException"
    assert lookup.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    quotas.client("cloudtrail", "us-west-2").lookup_events(MaxResults=1)  # per region: another one's is full
    counts = quotas.quota_counts()
    assert counts["refused"]["apigateway:GetResources"] == 1 and counts["refused"]["cloudtrail:LookupEvents"] == 1


def test_paced_fetch_under_a_shared_quota_is_throttled_slowed_and_complete(quotas, connect, estate):
    quotas.set_quotas(True, share=0.5)  # another client uses half: GetResources gets 1.25/s, not 2.5/s
    con = connect(regions=[REGION], rate_limit=True)
    result = _method_query(con)
    assert result.errors == []
    assert {row[0] for row in result.rows} == set(estate)
    log = [r for r in con.fetch_log if r.operation == "GetResources"]
    assert len(log) == APIS and all(r.error_code is None for r in log)  # one record a call, none lost
    assert sum(r.throttled_retries for r in log) == result.throttled > 0
    states = {b.budget: b for b in con.fetcher.scheduler.states()}
    resources, account = states["apigateway:GetResources"], states["apigateway"]
    assert resources.decreases >= 1 and resources.throttles == result.throttled  # AIMD halved the rate
    # One token a request, retries included, and none to learn that a one-page answer has no next page.
    sent = sum(1 + r.throttled_retries for r in con.fetch_log if r.service == "apigateway")
    assert account.sent == sent and resources.sent == APIS + result.throttled


def test_unpaced_fetch_under_quotas_retries_every_throttled_call(quotas, connect, estate):
    quotas.set_quotas(True, share=0.5)
    con = connect(regions=[REGION], rate_limit=False, max_attempts=1)
    result = _method_query(con)
    assert result.errors == [] and result.throttled > 0
    assert {row[0] for row in result.rows} == set(estate)
    assert all(r.error_code is None for r in con.fetch_log)


def test_throttled_calls_are_reported_failed_only_after_max_wait(quotas, connect):
    quotas.set_quotas(True, share=0.9)  # GetResources at 0.25/s: most calls cannot make it in 1 s
    con = connect(regions=[REGION], rate_limit=False, max_wait=1.0)
    result = _method_query(con)
    assert result.errors and {e.code for e in result.errors} == {"TooManyRequestsException"}
    failed = [r for r in con.fetch_log if r.error_code]
    assert failed and all(r.throttled_retries >= 1 for r in failed)
    assert "--max-wait" in result.errors[0].hint


def test_cancel_stops_waiting_for_the_quota_promptly(quotas, connect):
    quotas.set_quotas(True, share=0.9)
    con = connect(regions=[REGION], rate_limit=True)
    threading.Timer(1.0, con.interrupt).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        _method_query(con)
    assert time.monotonic() - started < 2.5  # interrupted at 1 s; all 10 calls would need about 20 s


def test_progress_knows_the_calls_planned_and_the_rate(quotas, connect, estate):
    quotas.set_quotas(True)
    con = connect(regions=[REGION], rate_limit=True)
    seen: list[Progress] = []
    _method_query(con, on_progress=lambda p: seen.append(Progress(**{**p.__dict__, "tables": set(p.tables)})))
    final = seen[-1]
    assert final.planned_calls == final.calls == 1 + APIS  # GetRestApis, then one GetResources per API
    assert any(p.planned_calls > p.calls for p in seen)     # the plan was known before the calls were made
    assert all(p.planned_calls >= p.calls for p in seen)
    assert any(0 < p.rate <= 10 for p in seen)              # the rate the quotas allow, for an ETA


def test_quota_share_needs_aws_quotas_and_a_share_below_one(capsys):
    assert main(["sandbox", "--quota-share", "0.5"]) == 3
    assert "--aws-quotas" in capsys.readouterr().err
    assert main(["sandbox", "--aws-quotas", "--quota-share", "1"]) == 3
    assert "below 1" in capsys.readouterr().err


def test_max_wait_must_be_a_number_of_seconds(capsys):
    assert main(["query", "--max-wait", "-1", "SELECT 1"]) == 3
    assert "--max-wait" in capsys.readouterr().err
