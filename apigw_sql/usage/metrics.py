"""aws_api_gateway_metric: API Gateway's CloudWatch metrics (namespace AWS/ApiGateway) per API x stage.

REST stages are keyed by the dimensions ApiName + Stage (AWS names REST metrics by API NAME, so two
REST APIs with one name in one region share their metrics: both get the same rows, and
``shares_metrics_with`` names the others), v2 stages by ApiId + Stage. One GetMetricData call carries
up to 500 queries (one per stage x metric x period) for one account, region and time range: a whole
region's stages usually cost one call. Pushed down: api_id, stage and region (which stages),
metric_name (which metrics), period (default 3600 s) and the timestamp range (default the last 14
days; StartTime is rounded down and EndTime up to the period).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from ..cloudtrail.layout import parse_time

NAMESPACE = "AWS/ApiGateway"
MAX_QUERIES = 500
DEFAULT_PERIOD = 3600
DEFAULT_DAYS = 14
# Metric -> statistic, per API type (AWS's metric names differ between REST, HTTP and WebSocket APIs).
METRICS: dict[str, dict[str, str]] = {
    "REST": {"Count": "Sum", "4XXError": "Sum", "5XXError": "Sum", "Latency": "Average",
             "IntegrationLatency": "Average", "CacheHitCount": "Sum", "CacheMissCount": "Sum"},
    "HTTP": {"Count": "Sum", "4xx": "Sum", "5xx": "Sum", "Latency": "Average", "IntegrationLatency": "Average",
             "DataProcessed": "Sum"},
    "WEBSOCKET": {"ConnectCount": "Sum", "MessageCount": "Sum", "ClientError": "Sum", "ExecutionError": "Sum",
                  "IntegrationError": "Sum", "IntegrationLatency": "Average"},
}


@dataclass(frozen=True)
class MetricQuery:
    """One series: a stage's metric at a period, and the rows (APIs) it answers for."""

    id: str
    dimensions: tuple[tuple[str, str], ...]
    metric: str
    statistic: str
    period: int


def window(bounds: dict[str, Any], constraints: dict[str, set[str]], period: int,
           now: datetime | None = None) -> tuple[datetime, datetime] | None:
    """(StartTime, EndTime) from timestamp filters, aligned to the period; None when nothing can match.

    >>> from apigw_sql.pushdown import Bounds
    >>> now = datetime(2026, 11, 30, 12, 30, tzinfo=timezone.utc)
    >>> window({"timestamp": Bounds("2026-11-29 10:15:00", True, None, True)}, {}, 3600, now)
    (datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.timezone.utc), datetime.datetime(2026, 11, 30, 13, 0, tzinfo=datetime.timezone.utc))
    """
    now = now or datetime.now(timezone.utc)
    start = end = None
    b = bounds.get("timestamp")
    if b is not None:
        start, end = parse_time(b.low), parse_time(b.high)
    equal = [t for t in (parse_time(v) for v in constraints.get("timestamp", ())) if t is not None]
    if equal and len(equal) == len(constraints["timestamp"]):
        start = max(filter(None, (start, min(equal))))
        end = min(filter(None, (end, max(equal))))
    start = start or now - timedelta(days=DEFAULT_DAYS)
    end = end or now
    step = timedelta(seconds=period)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    start = epoch + ((start - epoch) // step) * step
    end = epoch + -((epoch - end) // step) * step  # rounded up
    if end <= start:
        end = start + step
    if start > (now + step):
        return None
    return start, end


def _periods(constraints: dict[str, set[str]]) -> list[int]:
    found = []
    for value in constraints.get("period", ()):
        try:
            seconds = int(float(value))
        except ValueError:
            continue
        if seconds >= 1:
            found.append(seconds)
    return sorted(set(found)) or [DEFAULT_PERIOD]


def _stages(ctx: Any) -> list[dict[str, Any]]:
    """Every stage the filters keep, with its API's type and (REST) name and the REST APIs sharing it."""
    narrowed = {"region": set(ctx.constraints["region"])} if "region" in ctx.constraints else {}
    rest_apis = ctx.fetcher.table_rows("aws_api_gateway_rest_api", narrowed, ctx.query)
    names: dict[tuple[str, str, str], list[str]] = {}
    by_id: dict[tuple[str, str, str], str] = {}
    for api in rest_apis:
        names.setdefault((api["account_id"], api["region"], api.get("name") or ""), []).append(api["api_id"])
        by_id[(api["account_id"], api["region"], api["api_id"])] = api.get("name") or ""
    rest_filter, v2_filter = dict(narrowed), dict(narrowed)
    if "api_id" in ctx.constraints:
        rest_filter["rest_api_id"] = set(ctx.constraints["api_id"])
        v2_filter["api_id"] = set(ctx.constraints["api_id"])
    stages = []
    for row in ctx.fetcher.table_rows("aws_api_gateway_stage", rest_filter, ctx.query):
        key = (row["account_id"], row["region"], row["rest_api_id"])
        name = by_id.get(key)
        if name is None:
            continue
        others = sorted(i for i in names[(key[0], key[1], name)] if i != key[2])
        stages.append({"account_id": key[0], "region": key[1], "api_id": key[2], "api_name": name,
                       "api_type": "REST", "stage": row["name"], "shares_metrics_with": others,
                       "dimensions": (("ApiName", name), ("Stage", row["name"]))})
    for row in ctx.fetcher.table_rows("aws_api_gatewayv2_stage", v2_filter, ctx.query):
        stages.append({"account_id": row["account_id"], "region": row["region"], "api_id": row["api_id"],
                       "api_name": None, "api_type": row.get("protocol_type") or "HTTP", "stage": row["stage_name"],
                       "shares_metrics_with": [], "dimensions": (("ApiId", row["api_id"]), ("Stage", row["stage_name"]))})

    def wanted(column: str, value: Any) -> bool:
        allowed = ctx.constraints.get(column)
        return allowed is None or str(value) in {str(v) for v in allowed}

    return [s for s in stages if wanted("api_id", s["api_id"]) and wanted("stage", s["stage"])
            and wanted("region", s["region"]) and wanted("account_id", s["account_id"])]


def metric_rows(ctx: Any) -> Iterator[dict[str, Any]]:
    """Rows function of aws_api_gateway_metric: one GetMetricData call per 500 series per account and region."""
    stages = _stages(ctx)
    targets = {t.account_id: t for t in ctx.fetcher.targets()}
    wanted_metrics = {str(m) for m in ctx.constraints.get("metric_name", ())} or None
    for period in _periods(ctx.constraints):
        span = window(ctx.bounds, ctx.constraints, period)
        if span is None:
            continue
        by_place: dict[tuple[str, str], dict[tuple, tuple[MetricQuery, list[dict[str, Any]]]]] = {}
        for stage in stages:
            series = by_place.setdefault((stage["account_id"], stage["region"]), {})
            for metric, statistic in METRICS.get(stage["api_type"], METRICS["HTTP"]).items():
                if wanted_metrics is not None and metric not in wanted_metrics:
                    continue
                key = (stage["dimensions"], metric)
                if key not in series:  # REST APIs sharing a name share the series: ask once
                    series[key] = (MetricQuery(f"q{len(series)}", stage["dimensions"], metric, statistic, period), [])
                series[key][1].append(stage)
        for (account, region), series in by_place.items():
            target = targets.get(account)
            if target is None:
                continue
            queries = list(series.values())
            for first in range(0, len(queries), MAX_QUERIES):
                batch = queries[first:first + MAX_QUERIES]
                yield from _batch_rows(ctx, target, region, batch, span)


def _batch_rows(ctx: Any, target: Any, region: str, batch: list[tuple[MetricQuery, list[dict[str, Any]]]],
                span: tuple[datetime, datetime]) -> Iterator[dict[str, Any]]:
    from ..fetch import CallFailed

    params = {"MetricDataQueries": [
        {"Id": q.id, "ReturnData": True,
         "MetricStat": {"Metric": {"Namespace": NAMESPACE, "MetricName": q.metric,
                                   "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions]},
                        "Period": q.period, "Stat": q.statistic}} for q, _ in batch],
        "StartTime": span[0], "EndTime": span[1], "ScanBy": "TimestampAscending"}
    try:
        pages = ctx.fetcher.call(ctx.spec.name, target, "cloudwatch", region, "GetMetricData", params, ctx.query)
    except CallFailed:
        return
    by_id = {q.id: (q, stages) for q, stages in batch}
    for page in pages:
        for result in page.get("MetricDataResults") or []:
            found = by_id.get(result.get("Id"))
            if found is None:
                continue
            query, stages = found
            for moment, value in zip(result.get("Timestamps") or [], result.get("Values") or []):
                stamp = moment.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(moment, datetime) else moment
                for stage in stages:
                    yield {"account_id": stage["account_id"], "region": stage["region"], "api_id": stage["api_id"],
                           "api_name": stage["api_name"], "api_type": stage["api_type"], "stage": stage["stage"],
                           "metric_name": query.metric, "statistic": query.statistic, "period": query.period,
                           "timestamp": stamp, "value": value, "shares_metrics_with": stage["shares_metrics_with"]}
