-- id: apigateway_account_cloudwatch_role_configured
-- title: API Gateway can write the logs its stages ask for
-- description: Alarms per account and region when REST or WebSocket stages log (execution logging at ERROR or
--   INFO, data tracing, or access logs to CloudWatch Logs) but API Gateway's account settings (GetAccount) have no
--   CloudWatch role: those logs are then silently dropped. HTTP API access logs use a service-linked role and do
--   not count.
-- severity: medium
-- resource_type: account and region
-- remediation: Create an IAM role that API Gateway can assume with the AmazonAPIGatewayPushToCloudWatchLogs policy and set it in the region's API Gateway settings.
--   Console: API Gateway > Settings > Logging > Edit > CloudWatch log role ARN.
--   CLI: aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=arn:aws:iam::ACCOUNT_ID:role/apigateway-cloudwatch-logs
-- frameworks:
-- aliases:
-- parameters:
WITH rest_logging AS (
    SELECT s.account_id, s.region, format('stage {} of REST API {}', s.name, s.rest_api_id) AS stage
    FROM aws_api_gateway_stage s
    WHERE (starts_with(coalesce(s.access_log_destination_arn, ''), 'arn:')
           AND split_part(s.access_log_destination_arn, ':', 3) = 'logs')
       OR EXISTS (SELECT 1 FROM aws_api_gateway_method_setting m
                  WHERE m.rest_api_id = s.rest_api_id AND m.stage_name = s.name AND m.region = s.region
                    AND m.account_id = s.account_id
                    AND (m.logging_level IN ('ERROR', 'INFO') OR coalesce(m.data_trace_enabled, false)))
),
websocket_logging AS (
    SELECT s.account_id, s.region, format('stage {} of WebSocket API {}', s.stage_name, s.api_id) AS stage
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
    WHERE a.protocol_type = 'WEBSOCKET'
      AND (coalesce(s.default_route_logging_level, 'OFF') IN ('ERROR', 'INFO')
           OR coalesce(s.default_route_data_trace_enabled, false)
           OR s.access_log_destination_arn IS NOT NULL
           OR EXISTS (SELECT 1 FROM json_each(s.route_settings) r WHERE r.value ->> 'LoggingLevel' IN ('ERROR', 'INFO')))
),
logging AS (
    SELECT account_id, region, count(*) AS stages, string_agg(stage, ', ' ORDER BY stage) AS stage_list
    FROM (SELECT * FROM rest_logging UNION ALL SELECT * FROM websocket_logging)
    GROUP BY ALL
)
SELECT acct.arn AS resource,
       CASE WHEN coalesce(l.stages, 0) > 0 AND nullif(acct.cloudwatch_role_arn, '') IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('API Gateway account settings in {} of account {}', acct.region, acct.account_id) ||
       CASE WHEN coalesce(l.stages, 0) > 0 AND nullif(acct.cloudwatch_role_arn, '') IS NULL
                THEN ' have no CloudWatch role, so the logs of ' || l.stages || ' logging stage(s) are dropped: ' || l.stage_list || '.'
            WHEN nullif(acct.cloudwatch_role_arn, '') IS NOT NULL THEN ' let API Gateway write logs with role ' || acct.cloudwatch_role_arn || '.'
            ELSE ' have no CloudWatch role, but no REST or WebSocket stage logs in this region.' END AS reason,
       acct.account_id, acct.region, coalesce(l.stages, 0) AS logging_stages
FROM aws_api_gateway_account acct
LEFT JOIN logging l ON l.region = acct.region AND l.account_id = acct.account_id;
