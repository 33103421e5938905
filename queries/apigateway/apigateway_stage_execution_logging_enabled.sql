-- id: apigateway_stage_execution_logging_enabled
-- title: REST and WebSocket stages log execution for every method
-- description: Judges each REST and WebSocket stage: every effective method setting must log at ERROR or INFO.
--   REST stages are read through the stage default (*/*) and each per-method override in methodSettings;
--   WebSocket stages through DefaultRouteSettings and each RouteSettings entry. We follow the AWS Config rule
--   (every method must log), not Prowler, which passes a stage when any method logs. HTTP APIs have no
--   execution logging and are not evaluated.
-- severity: medium
-- resource_type: REST and WebSocket stage
-- remediation: Set the stage's logging level to ERROR or INFO, and remove or fix per-method overrides that turn it off.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Logs and tracing > Edit > CloudWatch logs: Errors only or Errors and info logs; then check each method override.
--   CLI (REST): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/*/*/logging/loglevel,value=ERROR
--   CLI (REST override): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations 'op=replace,path=/~1pets/GET/logging/loglevel,value=ERROR'
--   CLI (WebSocket): aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --default-route-settings LoggingLevel=ERROR
-- frameworks: fsbp: APIGateway.1, config: api-gw-execution-logging-enabled
-- aliases: apigateway_restapi_logging_enabled, apigateway_stage_logging_enabled
-- parameters:
WITH rest_default AS (
    SELECT account_id, region, rest_api_id, stage_name, logging_level
    FROM aws_api_gateway_method_setting
    WHERE is_default
),
rest_override AS (
    SELECT o.account_id, o.region, o.rest_api_id, o.stage_name,
           string_agg(o.http_method || ' ' || o.resource_path || ' (' || coalesce(o.logging_level, d.logging_level, 'OFF') || ')',
                      ', ' ORDER BY o.resource_path, o.http_method)
               FILTER (WHERE coalesce(o.logging_level, d.logging_level, 'OFF') NOT IN ('ERROR', 'INFO')) AS unlogged
    FROM aws_api_gateway_method_setting o
    LEFT JOIN rest_default d USING (account_id, region, rest_api_id, stage_name)
    WHERE NOT o.is_default
    GROUP BY ALL
),
judged AS (
    SELECT s.arn AS resource, s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name,
           format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) AS label,
           coalesce(d.logging_level, 'OFF') AS default_level, o.unlogged
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    LEFT JOIN rest_default d ON d.rest_api_id = s.rest_api_id AND d.stage_name = s.name
                            AND d.region = s.region AND d.account_id = s.account_id
    LEFT JOIN rest_override o ON o.rest_api_id = s.rest_api_id AND o.stage_name = s.name
                             AND o.region = s.region AND o.account_id = s.account_id
    UNION ALL
    SELECT s.arn, s.account_id, s.region, s.api_id, s.stage_name,
           format('Stage {} of WebSocket API {} ({})', s.stage_name, a.name, s.api_id),
           coalesce(s.default_route_logging_level, 'OFF'),
           (SELECT string_agg(r.key || ' (' || coalesce(r.value ->> 'LoggingLevel', s.default_route_logging_level, 'OFF') || ')',
                              ', ' ORDER BY r.key)
            FROM json_each(s.route_settings) r
            WHERE coalesce(r.value ->> 'LoggingLevel', s.default_route_logging_level, 'OFF') NOT IN ('ERROR', 'INFO'))
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
    WHERE a.protocol_type = 'WEBSOCKET'
)
SELECT resource,
       CASE WHEN default_level IN ('ERROR', 'INFO') AND unlogged IS NULL THEN 'ok' ELSE 'alarm' END AS status,
       CASE
           WHEN default_level NOT IN ('ERROR', 'INFO')
               THEN label || ' does not log execution: its default logging level is ' || default_level
                    || coalesce(', and these overrides do not log either: ' || unlogged, '') || '.'
           WHEN unlogged IS NOT NULL
               THEN label || ' logs at ' || default_level || ' by default, but these overrides do not log: ' || unlogged || '.'
           ELSE label || ' logs execution at ERROR or INFO for every method (default ' || default_level || ').'
       END AS reason,
       account_id, region, api_id, stage_name
FROM judged;
