-- id: apigateway_stage_xray_tracing_enabled
-- title: REST stages have X-Ray tracing enabled
-- description: Alarms when a REST API stage has AWS X-Ray active tracing turned off (tracingEnabled false),
--   which leaves no end-to-end trace of requests for incident analysis.
-- severity: low
-- resource_type: REST stage
-- remediation: Turn on X-Ray tracing for the stage.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Logs and tracing > Edit > X-Ray tracing.
--   CLI: aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/tracingEnabled,value=true
-- frameworks: fsbp: APIGateway.3, config: api-gw-xray-enabled
-- aliases: apigateway_restapi_tracing_enabled, apigateway_rest_api_stage_xray_tracing_enabled
-- parameters:
SELECT s.arn AS resource,
       CASE WHEN s.tracing_enabled THEN 'ok' ELSE 'alarm' END AS status,
       format('Stage {} of REST API {} ({}) {} X-Ray tracing.', s.name, a.name, s.rest_api_id,
              CASE WHEN s.tracing_enabled THEN 'has' ELSE 'does not have' END) AS reason,
       s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name
FROM aws_api_gateway_stage s
JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id;
