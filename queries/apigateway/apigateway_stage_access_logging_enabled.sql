-- id: apigateway_stage_access_logging_enabled
-- title: REST stages write access logs
-- description: Alarms when a REST API stage has no access log destination (accessLogSettings.destinationArn):
--   without access logs there is no record of who called the API (CIS v6 4.10, web front-end access logging).
-- severity: medium
-- resource_type: REST stage
-- remediation: Send the stage's access logs to a CloudWatch Logs group or a Firehose stream.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Logs and tracing > Edit > Custom access logging.
--   CLI: aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/accessLogSettings/destinationArn,value=LOG_GROUP_ARN 'op=replace,path=/accessLogSettings/format,value=$context.requestId $context.identity.sourceIp $context.identity.caller $context.status'
-- frameworks: cis_v6: 4.10, checkov: CKV_AWS_76
-- aliases:
-- parameters:
SELECT s.arn AS resource,
       CASE WHEN s.access_log_destination_arn IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       CASE WHEN s.access_log_destination_arn IS NULL
            THEN format('Stage {} of REST API {} ({}) writes no access logs.', s.name, a.name, s.rest_api_id)
            ELSE format('Stage {} of REST API {} ({}) writes access logs to {}.', s.name, a.name, s.rest_api_id,
                        s.access_log_destination_arn)
       END AS reason,
       s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name
FROM aws_api_gateway_stage s
JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id;
