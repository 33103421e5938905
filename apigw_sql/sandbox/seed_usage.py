"""The demo estate's traffic: eight days of access logs and metrics, with a daily rhythm and planted anomalies.

Three stages log to CloudWatch Logs in two formats, and each gets eight days of synthetic requests
(more in the afternoon UTC than at night) from a steady pool of callers:

- orders-api/prod (us-east-1, AWS's recommended JSON format, group /aws/apigateway/orders-access):
  planted an error spike (90 responses 500 in one hour, 3 hours ago) and an authorization-failure burst
  (source 203.0.113.66: 30 responses 401 within one hour, 5 hours ago);
- legacy-reports/v1 (us-east-1, given a CLF format here, group /aws/apigateway/legacy-reports-access):
  its open GET /reports is called by a dozen IPs (an open method in use), and a source never seen before,
  198.51.100.23, makes 1,100 requests over the last day (a new high-volume source);
- checkout-http/prod (us-east-1, JSON, group /aws/apigateway/checkout-access): calm, no anomaly.

Other stages' groups are never created (their access logs cannot be read: the usage controls skip them).
CloudWatch metrics (AWS/ApiGateway Count, 4XXError/5XXError or 4xx/5xx) match the logs hour by hour, and
payments-api/prod, which has no access logs, fails 12% of its requests with 5xx over the last day.
About 3,900 log events in one PutLogEvents call per stream and 3 PutMetricData calls: well under a second.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from .sandbox import DEMO_ACCOUNT_ID, DEMO_REGIONS

US = DEMO_REGIONS[0]
DAYS = 8
CLF_FORMAT = ('$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] '
              '"$context.httpMethod $context.resourcePath $context.protocol" $context.status '
              '$context.responseLength $context.requestId')
ERROR_SPIKE_HOURS_AGO = 3
AUTH_BURST_HOURS_AGO = 5
AUTH_BURST_IP = "203.0.113.66"
NEW_SOURCE_IP = "198.51.100.23"

_Request = tuple[dt.datetime, str, str, str, int]  # time, ip, method, path, status


def _rhythm(hour: int) -> float:
    """Relative traffic by UTC hour: a peak at 14:00, a trough at 02:00."""
    return 0.35 + 0.65 * max(0.0, 1 - abs(hour - 14) / 12)


def _steady(rng: random.Random, now: dt.datetime, per_hour: float, ips: list[str],
            routes: list[tuple[str, str]], error_rate: float) -> list[_Request]:
    start = (now - dt.timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
    found: list[_Request] = []
    hour = start
    while hour < now:
        for _ in range(round(per_hour * _rhythm(hour.hour))):
            moment = hour + dt.timedelta(seconds=rng.randrange(3600))
            if moment >= now:
                continue
            method, path = rng.choice(routes)
            status = rng.choice((400, 404, 403)) if rng.random() < error_rate else 200
            found.append((moment, rng.choice(ips), method, path, status))
        hour += dt.timedelta(hours=1)
    return found


def _in_hour(rng: random.Random, now: dt.datetime, hours_ago: int, count: int, ip: str | list[str], method: str,
             path: str, status: int) -> list[_Request]:
    hour = (now - dt.timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)
    ips = ip if isinstance(ip, list) else [ip]
    return [(hour + dt.timedelta(seconds=rng.randrange(3600)), rng.choice(ips), method, path, status)
            for _ in range(count)]


def _clf_time(moment: dt.datetime) -> str:
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


def _json_record(r: _Request, v2: bool) -> str:
    import json

    moment, ip, method, path, status = r
    record = {"requestId": str(uuid.UUID(int=random.getrandbits(128))), "ip": ip, "caller": "-", "user": "-",
              "requestTime": _clf_time(moment), "status": str(status)}
    if v2:
        record["routeKey"] = f"{method} {path}"
    else:
        record.update(httpMethod=method, resourcePath=path, protocol="HTTP/1.1", responseLength=str(120 + len(path)))
    return json.dumps(record)


def _clf_record(r: _Request) -> str:
    moment, ip, method, path, status = r
    return (f'{ip} - - [{_clf_time(moment)}] "{method} {path} HTTP/1.1" {status} {310 if status == 200 else 0} '
            f"{uuid.UUID(int=random.getrandbits(128))}")


def _put_logs(logs: Any, group: str, requests: list[_Request], render: Any) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="access")
    events = [{"timestamp": int(r[0].timestamp() * 1000), "message": render(r)} for r in sorted(requests)]
    for first in range(0, len(events), 10_000):
        logs.put_log_events(logGroupName=group, logStreamName="access", logEvents=events[first:first + 10_000])


def _hourly(requests: list[_Request]) -> dict[dt.datetime, list[int]]:
    hours: dict[dt.datetime, list[int]] = {}
    for moment, _, _, _, status in requests:
        hours.setdefault(moment.replace(minute=0, second=0, microsecond=0), []).append(status)
    return hours


def _datums(requests: list[_Request], dimensions: list[dict[str, str]], v2: bool) -> list[dict[str, Any]]:
    names = ("Count", "4xx", "5xx") if v2 else ("Count", "4XXError", "5XXError")
    datums = []
    for hour, statuses in _hourly(requests).items():
        values = (len(statuses), sum(1 for s in statuses if 400 <= s < 500), sum(1 for s in statuses if s >= 500))
        # An hour without errors puts no error datum (moto stores each datum: fewer make a faster start).
        datums += [{"MetricName": n, "Dimensions": dimensions, "Timestamp": hour + dt.timedelta(minutes=30),
                    "Value": float(v), "Unit": "Count"} for n, v in zip(names, values) if v or n == "Count"]
    return datums


def seed_usage(s: Any) -> None:
    """Adds the traffic to a seeded demo estate (`s` is seed.py's seeder, after the APIs exist)."""
    rng = random.Random(20261130)
    random.seed(20261130)  # request ids
    now = dt.datetime.now(dt.timezone.utc)
    rest, http = s.estate[US]["rest_apis"], s.estate[US]["http_apis"]
    ag, logs = s.client("apigateway", US), s.client("logs", US)

    # legacy-reports/v1 writes CLF access logs (it still has no execution logging: no method settings).
    reports = rest["legacy-reports"]
    ag.update_stage(restApiId=reports, stageName="v1", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": f"arn:aws:logs:{US}:{DEMO_ACCOUNT_ID}:log-group:/aws/apigateway/legacy-reports-access"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": CLF_FORMAT}])

    shop_ips = [f"192.0.2.{i}" for i in range(10, 40)]
    orders = _steady(rng, now, 10, shop_ips, [("GET", "/orders"), ("GET", "/orders/{orderId}"), ("POST", "/orders")],
                     0.05)
    orders += _in_hour(rng, now, ERROR_SPIKE_HOURS_AGO, 90, shop_ips, "POST", "/orders", 500)
    orders += _in_hour(rng, now, AUTH_BURST_HOURS_AGO, 30, AUTH_BURST_IP, "GET", "/orders/{orderId}", 401)
    office_ips = [f"10.20.{i}.7" for i in range(12)]
    reports_traffic = _steady(rng, now, 3, office_ips, [("GET", "/reports")], 0.02)
    reports_traffic += [r for h in range(10, 21)
                        for r in _in_hour(rng, now, h, 100, NEW_SOURCE_IP, "GET", "/reports", 200)]
    checkout = _steady(rng, now, 3, [f"198.18.0.{i}" for i in range(10)],
                       [("POST", "/checkout"), ("GET", "/checkout/{id}")], 0.03)

    _put_logs(logs, "/aws/apigateway/orders-access", orders, lambda r: _json_record(r, v2=False))
    _put_logs(logs, "/aws/apigateway/legacy-reports-access", reports_traffic, _clf_record)
    _put_logs(logs, "/aws/apigateway/checkout-access", checkout, lambda r: _json_record(r, v2=True))

    payments = _steady(rng, now, 10, shop_ips, [("POST", "/payments")], 0.0)
    failing_since = now - dt.timedelta(hours=20)
    payments = [(t, ip, m, p, 502 if t >= failing_since and rng.random() < 0.12 else st)
                for t, ip, m, p, st in payments]

    def rest_dims(name: str, stage: str) -> list[dict[str, str]]:
        return [{"Name": "ApiName", "Value": name}, {"Name": "Stage", "Value": stage}]

    datums = (_datums(orders, rest_dims("orders-api", "prod"), v2=False)
              + _datums(reports_traffic, rest_dims("legacy-reports", "v1"), v2=False)
              + _datums(payments, rest_dims("payments-api", "prod"), v2=False)
              + _datums(checkout, [{"Name": "ApiId", "Value": http["checkout-http"]},
                                   {"Name": "Stage", "Value": "prod"}], v2=True))
    cloudwatch = s.client("cloudwatch", US)
    for first in range(0, len(datums), 1000):
        cloudwatch.put_metric_data(Namespace="AWS/ApiGateway", MetricData=datums[first:first + 1000])
