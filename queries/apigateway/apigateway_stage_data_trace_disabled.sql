-- id: apigateway_stage_data_trace_disabled
-- title: REST and WebSocket stages do not log full request and response data
-- description: Alarms when any effective method setting of a REST stage (*/* and overrides) or any route setting
--   of a WebSocket stage (DefaultRouteSettings and RouteSettings) has data tracing on: full request and response
--   bodies, tokens and personal data then land in CloudWatch Logs.
-- severity: medium
-- resource_type: REST and WebSocket stage
-- remediation: Turn off data tracing (full request and response logs) on the stage and its overrides.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Logs and tracing > Edit > clear Data tracing.
--   CLI (REST): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/*/*/logging/dataTrace,value=false
--   CLI (WebSocket): aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --default-route-settings DataTraceEnabled=false
-- frameworks: checkov: CKV_AWS_276
-- aliases:
-- parameters:
WITH rest_trace AS (
    SELECT m.account_id, m.region, m.rest_api_id, m.stage_name,
           string_agg(CASE WHEN m.is_default THEN 'the stage default (*/*)' ELSE m.http_method || ' ' || m.resource_path END,
                      ', ' ORDER BY m.is_default DESC, m.resource_path, m.http_method)
               FILTER (WHERE coalesce(m.data_trace_enabled, d.data_trace_enabled, false)) AS tracing
    FROM aws_api_gateway_method_setting m
    LEFT JOIN aws_api_gateway_method_setting d
           ON d.is_default AND NOT m.is_default AND d.rest_api_id = m.rest_api_id AND d.stage_name = m.stage_name
          AND d.region = m.region AND d.account_id = m.account_id
    GROUP BY ALL
),
judged AS (
    SELECT s.arn AS resource, s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name,
           format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) AS label, t.tracing
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    LEFT JOIN rest_trace t ON t.rest_api_id = s.rest_api_id AND t.stage_name = s.name AND t.region = s.region
                          AND t.account_id = s.account_id
    UNION ALL
    SELECT s.arn, s.account_id, s.region, s.api_id, s.stage_name,
           format('Stage {} of WebSocket API {} ({})', s.stage_name, a.name, s.api_id),
           nullif(concat_ws(', ',
               CASE WHEN coalesce(s.default_route_data_trace_enabled, false) THEN 'the default route settings' END,
               (SELECT string_agg(r.key, ', ' ORDER BY r.key) FROM json_each(s.route_settings) r
                WHERE coalesce(TRY_CAST(r.value ->> 'DataTraceEnabled' AS BOOLEAN), s.default_route_data_trace_enabled, false))), '')
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
    WHERE a.protocol_type = 'WEBSOCKET'
)
SELECT resource,
       CASE WHEN tracing IS NULL THEN 'ok' ELSE 'alarm' END AS status,
       CASE WHEN tracing IS NULL THEN label || ' does not log full request and response data.'
            ELSE label || ' logs full request and response data for: ' || tracing || '.' END AS reason,
       account_id, region, api_id, stage_name
FROM judged;
