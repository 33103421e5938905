-- id: apigateway_stage_access_log_format_complete
-- title: Access logs record who called, from where, and the outcome
-- description: For REST, HTTP and WebSocket stages with access logging, alarms when the log format lacks the
--   request id ($context.requestId or extendedRequestId), the source IP ($context.identity.sourceIp), the time
--   ($context.requestTime or requestTimeEpoch), the method and path ($context.httpMethod and resourcePath, or
--   routeKey), the caller's identity ($context.identity.caller, user, userArn, accountId, cognitoIdentityId or
--   apiKeyId, or $context.authorizer.*) or the status ($context.status): without them a log line cannot answer an
--   investigator, and the usage controls cannot read it. Stages without
--   access logging are skip (apigateway_stage_access_logging_enabled and apigatewayv2_stage_access_logging_enabled judge them).
-- severity: low
-- resource_type: REST and v2 stage with access logging
-- remediation: Add the missing context variables to the stage's access log format.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Logs and tracing > Edit > Log format.
--   CLI (REST): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations 'op=replace,path=/accessLogSettings/format,value={"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","caller":"$context.identity.caller","user":"$context.identity.user","status":"$context.status"}'
--   CLI (v2): aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --access-log-settings 'DestinationArn=LOG_GROUP_ARN,Format={"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","routeKey":"$context.routeKey","caller":"$context.identity.caller","status":"$context.status"}'
-- frameworks:
-- aliases:
-- parameters:
-- also_in: usage
WITH stages AS (
    SELECT s.arn, s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name,
           format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) AS label,
           s.access_log_destination_arn AS destination, coalesce(s.access_log_format, '') AS fmt
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    UNION ALL
    SELECT s.arn, s.account_id, s.region, s.api_id, s.stage_name,
           format('Stage {} of {} API {} ({})', s.stage_name, CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END,
                  a.name, s.api_id),
           s.access_log_destination_arn, coalesce(s.access_log_format, '')
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
),
checked AS (
    SELECT *,
           concat_ws(', ',
               CASE WHEN NOT regexp_matches(fmt, '\$context\.(requestId|extendedRequestId)\b') THEN 'the request id' END,
               CASE WHEN NOT regexp_matches(fmt, '\$context\.identity\.sourceIp\b') THEN 'the source IP' END,
               CASE WHEN NOT regexp_matches(fmt, '\$context\.(requestTime|requestTimeEpoch)\b') THEN 'the time' END,
               CASE WHEN NOT (regexp_matches(fmt, '\$context\.routeKey\b')
                              OR (regexp_matches(fmt, '\$context\.httpMethod\b')
                                  AND regexp_matches(fmt, '\$context\.resourcePath\b'))) THEN 'the method and path' END,
               CASE WHEN NOT regexp_matches(fmt, '\$context\.(identity\.(caller|user|userArn|accountId|cognitoIdentityId|apiKeyId)\b|authorizer\.)')
                    THEN 'the caller identity' END,
               CASE WHEN NOT regexp_matches(fmt, '\$context\.status\b') THEN 'the status' END) AS missing
    FROM stages
)
SELECT arn AS resource,
       CASE WHEN destination IS NULL THEN 'skip' WHEN missing <> '' THEN 'alarm' ELSE 'ok' END AS status,
       label || CASE WHEN destination IS NULL THEN ' has no access logging, so there is no log format to judge.'
                     WHEN missing <> '' THEN ' writes access logs that lack ' || regexp_replace(missing, ', ([^,]*)$', ' and \1') || '.'
                     ELSE ' writes access logs with the request id, source IP, time, method and path, caller identity and status.' END AS reason,
       account_id, region, api_id, stage_name
FROM checked;
