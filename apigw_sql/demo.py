"""`apigw-sql demo`: start the sandbox and answer a few questions an auditor asks first.

It reads the sandbox's whole organization (``--org``): the demo account and its member account.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

DEMO_QUERIES: list[tuple[str, str]] = [
    ("REST APIs by endpoint type (PRIVATE is the only type not reachable from the internet)",
     """SELECT account_id AS account, region, endpoint_configuration_types[1] AS endpoint_type, count(*) AS apis,
       string_agg(name, ', ' ORDER BY name) AS names
FROM aws_api_gateway_rest_api
GROUP BY ALL ORDER BY account, region, endpoint_type"""),
    ("Open methods: callable without any authorization on a non-private REST API",
     """SELECT a.account_id AS account, a.region, a.name AS api, m.http_method, m.path, m.api_key_required
FROM aws_api_gateway_method m
JOIN aws_api_gateway_rest_api a ON a.api_id = m.rest_api_id AND a.region = m.region AND a.account_id = m.account_id
WHERE m.authorization_type = 'NONE' AND m.http_method <> 'OPTIONS'
  AND NOT list_contains(a.endpoint_configuration_types, 'PRIVATE')
ORDER BY account, a.region, api, m.path, m.http_method"""),
    ("Stages without execution logs or access logs",
     """SELECT s.account_id AS account, s.region, a.name AS api, s.name AS stage,
       coalesce(ms.logging_level, 'OFF') AS default_logging_level,
       s.access_log_destination_arn IS NOT NULL AS access_logs
FROM aws_api_gateway_stage s
JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
LEFT JOIN aws_api_gateway_method_setting ms
  ON ms.rest_api_id = s.rest_api_id AND ms.stage_name = s.name AND ms.region = s.region
  AND ms.account_id = s.account_id AND ms.is_default
WHERE coalesce(ms.logging_level, 'OFF') NOT IN ('ERROR', 'INFO') OR s.access_log_destination_arn IS NULL
ORDER BY account, s.region, api, stage"""),
    ("Resource policies that let anyone in (Principal * with no source condition)",
     """SELECT a.region, a.name AS api, p.effect, p.action
FROM aws_api_gateway_rest_api_policy_statement p
JOIN aws_api_gateway_rest_api a ON a.api_id = p.rest_api_id AND a.region = p.region AND a.account_id = p.account_id
WHERE p.effect = 'Allow' AND p.principal_is_public AND NOT p.has_source_restriction"""),
    ("HTTP and WebSocket routes without authorization",
     """SELECT a.region, a.name AS api, a.protocol_type, r.route_key
FROM aws_api_gatewayv2_route r
JOIN aws_api_gatewayv2_api a ON a.api_id = r.api_id AND a.region = r.region AND a.account_id = r.account_id
WHERE r.authorization_type = 'NONE' AND NOT starts_with(r.route_key, 'OPTIONS')
  AND (a.protocol_type = 'HTTP' OR r.route_key = '$connect')
ORDER BY a.region, api, r.route_key"""),
    ("Who may change or invoke each API, and write access unused for 90 days (wrote_in_90_days false)",
     """WITH writers AS (
  SELECT DISTINCT CASE WHEN user_type = 'AssumedRole'
         THEN user_identity -> 'sessionContext' -> 'sessionIssuer' ->> 'arn' ELSE user_arn END AS arn
  FROM aws_cloudtrail_event
  WHERE event_source = 'apigateway.amazonaws.com' AND event_time >= current_date - INTERVAL 90 DAY
    AND read_only IS NOT TRUE AND error_code IS NULL)
SELECT g.access, g.principal_type AS type, g.principal_name AS principal, g.via,
       string_agg(DISTINCT coalesce(g.api_name, 'every API' || coalesce(' in ' || g.api_region, '')), ', ') AS apis,
       bool_or(w.arn IS NOT NULL) FILTER (WHERE g.access = 'write') AS wrote_in_90_days
FROM aws_api_gateway_access_grant g LEFT JOIN writers w ON w.arn = g.principal_arn
WHERE g.access IN ('write', 'invoke') AND NOT g.service_linked
GROUP BY ALL ORDER BY g.access DESC, principal"""),
]


def _print_anomalies(con: Any, fmt: str) -> None:
    """The usage controls' alarms: what the access logs and metrics of the last 24 hours show."""
    from .controls.runner import run_controls
    from .output import render

    report = run_controls(con, ["usage"])
    rows = [(f.control.id.removeprefix("apigateway_"), f.reason) for f in report.findings
            if f.status == "alarm" and f.control.id != "apigateway_stage_access_log_format_complete"]
    print("\n== Anomalies in the last 24 hours (apigw-sql check usage)\n")
    print(render(["control", "finding"], ["VARCHAR", "VARCHAR"], rows, fmt))


def run_demo(args: argparse.Namespace) -> int:
    import apigw_sql

    from .app import UsageError, start_sandbox
    from .engine import QueryError
    from .output import render

    sandbox = start_sandbox()
    try:
        # The whole organization: the demo account (its management account) and its member account.
        con = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, rate_limit=False, max_attempts=2, org=True)
        started = time.monotonic()
        for title, sql in DEMO_QUERIES:
            try:
                result = con.sql(sql)
            except QueryError as exc:
                raise UsageError(f"demo query {title!r} failed: {exc}") from None
            print(f"\n== {title}\n")
            print(render(result.columns, result.types, result.rows, args.output))
            for err in result.errors:
                print(err.line(), file=sys.stderr)
        _print_anomalies(con, args.output)
        regions = con.sql("SELECT count(DISTINCT region) FROM apigw_sql_fetch_log "
                          "WHERE table_name LIKE 'aws_%'").rows[0][0]
        total = con.sql("SELECT count(*) FROM apigw_sql_fetch_log").rows[0][0]
        accounts = len(con.fetcher.known_targets())
        print(f"\n{total} API calls over {accounts} accounts and {regions} regions in {time.monotonic() - started:.1f} s. "
              f"Next: apigw-sql shell --sandbox, or apigw-sql query --sandbox \"SELECT ...\"")
        con.close()
    finally:
        sandbox.stop()
    return 0
