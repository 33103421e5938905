-- id: apigatewayv2_stage_access_logging_enabled
-- title: HTTP and WebSocket stages write access logs
-- description: Alarms when an HTTP or WebSocket API stage has no access log destination
--   (AccessLogSettings.DestinationArn). Each stage is judged on its own (Prowler reports one finding per API).
-- severity: medium
-- resource_type: HTTP and WebSocket stage
-- remediation: Send the stage's access logs to a CloudWatch Logs group.
--   Console: API Gateway > APIs > (API) > Monitor > Logging > (stage) > Edit > Access logging.
--   CLI: aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --access-log-settings 'DestinationArn=LOG_GROUP_ARN,Format=$context.requestId $context.identity.sourceIp $context.identity.caller $context.status'
-- frameworks: fsbp: APIGateway.9, config: api-gwv2-access-logs-enabled
-- aliases: apigatewayv2_api_access_logging_enabled, gatewayv2_stage_access_logging_enabled
-- parameters:
SELECT s.arn AS resource,
       CASE WHEN s.access_log_destination_arn IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('Stage {} of {} API {} ({}) ', s.stage_name, CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END,
              a.name, s.api_id) ||
       CASE WHEN s.access_log_destination_arn IS NULL THEN 'writes no access logs.'
            ELSE 'writes access logs to ' || s.access_log_destination_arn || '.' END AS reason,
       s.account_id, s.region, s.api_id, s.stage_name
FROM aws_api_gatewayv2_stage s
JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id;
