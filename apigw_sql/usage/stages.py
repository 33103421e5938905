"""The stages whose access logs the usage tables read: where each one logs, and in which format.

Every REST stage (aws_api_gateway_stage) and v2 stage (aws_api_gatewayv2_stage) of the session's
accounts and regions, narrowed by the query's api_id, stage and region filters, with its
``accessLogSettings``: a CloudWatch Logs group ARN or a Kinesis Data Firehose stream ARN, and the
format template, parsed once (formats.parse_format).

>>> parse_destination("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/orders:*")
('logs', 'eu-west-1', '123456789012', '/aws/apigateway/orders')
>>> parse_destination("arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-shop")
('firehose', 'us-east-1', '123456789012', 'amazon-apigateway-shop')
>>> parse_destination(None)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .formats import FormatSpec, parse_format

REST_STAGES = "aws_api_gateway_stage"
V2_STAGES = "aws_api_gatewayv2_stage"


def parse_destination(arn: str | None) -> tuple[str, str, str, str] | None:
    """(service, region, account, log group or stream name) of an access-log destination ARN."""
    if not arn:
        return None
    parts = arn.split(":", 6)
    if len(parts) < 6:
        return None
    service, region, account = parts[2], parts[3], parts[4]
    if service == "logs" and len(parts) == 7 and parts[5] == "log-group":
        name = parts[6]
        if name.endswith(":*"):
            name = name[:-2]
        return service, region, account, name
    if service == "firehose" and parts[5].startswith("deliverystream/"):
        return service, region, account, parts[5].split("/", 1)[1]
    return None


@dataclass(frozen=True)
class StageSource:
    """One stage and where its access-log records are."""

    account_id: str
    region: str
    api_id: str
    api_type: str           # REST, HTTP or WEBSOCKET
    stage: str
    arn: str
    destination_arn: str | None
    format: FormatSpec
    destination_service: str | None = None   # logs or firehose
    destination_region: str | None = None
    destination_name: str | None = None      # the log group, or the Firehose stream

    @property
    def log_group(self) -> str | None:
        return self.destination_name if self.destination_service == "logs" else None

    @property
    def firehose_stream(self) -> str | None:
        return self.destination_name if self.destination_service == "firehose" else None


def _wanted(ctx: Any, column: str, value: Any) -> bool:
    allowed = ctx.constraints.get(column)
    return allowed is None or str(value) in {str(v) for v in allowed}


def stage_sources(ctx: Any) -> list[StageSource]:
    """The stages the query's api_id, stage and region filters keep (their tables fetched as narrowed)."""
    narrowed: dict[str, set[str]] = {}
    if "region" in ctx.constraints:
        narrowed["region"] = set(ctx.constraints["region"])
    rest_filter = dict(narrowed)
    v2_filter = dict(narrowed)
    if "api_id" in ctx.constraints:
        rest_filter["rest_api_id"] = set(ctx.constraints["api_id"])
        v2_filter["api_id"] = set(ctx.constraints["api_id"])
    found: list[StageSource] = []
    rows = [("REST", r, r.get("rest_api_id"), r.get("name"))
            for r in ctx.fetcher.table_rows(REST_STAGES, rest_filter, ctx.query)]
    rows += [(r.get("protocol_type") or "HTTP", r, r.get("api_id"), r.get("stage_name"))
             for r in ctx.fetcher.table_rows(V2_STAGES, v2_filter, ctx.query)]
    for api_type, row, api_id, stage in rows:
        if not (_wanted(ctx, "api_id", api_id) and _wanted(ctx, "stage", stage) and _wanted(ctx, "region", row["region"])
                and _wanted(ctx, "account_id", row["account_id"])):
            continue
        destination = row.get("access_log_destination_arn")
        parsed = parse_destination(destination)
        found.append(StageSource(
            account_id=row["account_id"], region=row["region"], api_id=str(api_id), api_type=api_type,
            stage=str(stage), arn=row.get("arn") or "", destination_arn=destination,
            format=parse_format(row.get("access_log_format")),
            destination_service=parsed[0] if parsed else None, destination_region=parsed[1] if parsed else None,
            destination_name=parsed[3] if parsed else None))
    return sorted(found, key=lambda s: (s.account_id, s.region, s.api_id, s.stage))
