-- id: apigateway_stage_detailed_metrics_enabled
-- title: Stages publish detailed CloudWatch metrics
-- description: Alarms when a REST stage's default method setting (*/*) or an HTTP or WebSocket stage's
--   DefaultRouteSettings does not enable detailed CloudWatch metrics stage-wide: per-method error and latency
--   metrics are what alarms and anomaly detection are built on.
-- severity: low
-- resource_type: REST and v2 stage
-- remediation: Enable detailed CloudWatch metrics for the whole stage.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Logs and tracing > Edit > Detailed metrics.
--   CLI (REST): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/*/*/metrics/enabled,value=true
--   CLI (v2): aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --default-route-settings DetailedMetricsEnabled=true
-- frameworks: cloudsploit: detailedCloudWatchMetrics, checkov: CKV2_AWS_4
-- aliases:
-- parameters:
WITH judged AS (
    SELECT s.arn AS resource, s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name,
           format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) AS label,
           coalesce(m.metrics_enabled, false) AS metrics
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    LEFT JOIN aws_api_gateway_method_setting m
           ON m.is_default AND m.rest_api_id = s.rest_api_id AND m.stage_name = s.name AND m.region = s.region
          AND m.account_id = s.account_id
    UNION ALL
    SELECT s.arn, s.account_id, s.region, s.api_id, s.stage_name,
           format('Stage {} of {} API {} ({})', s.stage_name, CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END,
                  a.name, s.api_id),
           coalesce(s.default_route_detailed_metrics_enabled, false)
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
)
SELECT resource,
       CASE WHEN metrics THEN 'ok' ELSE 'alarm' END AS status,
       label || CASE WHEN metrics THEN ' publishes detailed CloudWatch metrics stage-wide.'
                     ELSE ' does not publish detailed CloudWatch metrics stage-wide.' END AS reason,
       account_id, region, api_id, stage_name
FROM judged;
