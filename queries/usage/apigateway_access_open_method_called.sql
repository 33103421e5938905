-- id: apigateway_access_open_method_called
-- title: Methods and routes without authorization are not called from many places
-- description: Joins usage with authorization: for every REST method and v2 route that needs no authorization, as
--   apigateway_rest_api_authorizers_configured and apigatewayv2_api_authorizers_configured judge them (REST methods
--   other than OPTIONS with authorization NONE; HTTP routes other than OPTIONS with NONE; a WebSocket API's $connect
--   with NONE), alarms when the access logs of its API's stages, taken together, show requests to it from at least
--   min_sources distinct source IPs in the window (the window_hours before as_of): the open door is in use. One row
--   per such method or route, none for protected ones; skip when no stage of its API has readable access logs with
--   source IPs.
--   Set as_of (UTC, e.g. '2026-11-29 12:00:00'; empty means now, to the minute) to replay a past day.
-- severity: medium
-- resource_type: REST method and v2 route
-- remediation: Require authorization on the method or route (IAM, a Lambda or Cognito/JWT authorizer), then redeploy; if it must stay public, protect it with AWS WAF and throttling.
--   CLI: aws apigateway update-method --rest-api-id API_ID --resource-id RESOURCE_ID --http-method GET --patch-operations op=replace,path=/authorizationType,value=AWS_IAM
--   CLI: aws apigatewayv2 update-route --api-id API_ID --route-id ROUTE_ID --authorization-type AWS_IAM
-- frameworks:
-- aliases:
-- parameters: window_hours BIGINT = 24; baseline_days BIGINT = 7; as_of VARCHAR = ''; min_sources BIGINT = 5
WITH clock AS (
    SELECT coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP)) AS as_of
),
logs AS (
    SELECT l.account_id, l.region, l.api_id, l.stage, l.request_time, l.source_ip, l.http_method, l.resource_path,
           l.route_key
    FROM aws_api_gateway_access_log l
    WHERE l.request_time >= coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP))
                            - to_hours(coalesce(getvariable('window_hours'), 24)) - to_days(coalesce(getvariable('baseline_days'), 7))
      AND l.request_time < coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP))
),
window_logs AS (
    SELECT l.* FROM logs l CROSS JOIN clock
    WHERE l.request_time >= clock.as_of - to_hours(coalesce(getvariable('window_hours'), 24)) AND l.source_ip IS NOT NULL
),
-- Unprotected, judged as the two authorization controls judge them.
open_doors AS (
    SELECT m.arn, m.account_id, m.region, m.rest_api_id AS api_id, a.name AS api_name, 'REST' AS api_type,
           m.http_method, m.path, NULL AS route_key, format('{} {}', m.http_method, m.path) AS door
    FROM aws_api_gateway_method m
    JOIN aws_api_gateway_rest_api a ON a.api_id = m.rest_api_id AND a.region = m.region AND a.account_id = m.account_id
    WHERE m.http_method <> 'OPTIONS' AND coalesce(m.authorization_type, 'NONE') = 'NONE'
    UNION ALL
    SELECT r.arn, r.account_id, r.region, r.api_id, a.name, a.protocol_type, NULL, NULL, r.route_key, r.route_key
    FROM aws_api_gatewayv2_route r
    JOIN aws_api_gatewayv2_api a ON a.api_id = r.api_id AND a.region = r.region AND a.account_id = r.account_id
    WHERE coalesce(r.authorization_type, 'NONE') = 'NONE'
      AND CASE WHEN a.protocol_type = 'HTTP' THEN NOT starts_with(upper(r.route_key), 'OPTIONS ')
               ELSE r.route_key = '$connect' END
),
judged_stages AS (
    SELECT account_id, region, api_id, string_agg(stage, ', ' ORDER BY stage) AS stages
    FROM aws_api_gateway_access_log_source
    WHERE readable AND list_contains(columns, 'source_ip')
    GROUP BY ALL
),
usage AS (
    SELECT d.arn, count(l.source_ip) AS requests, count(DISTINCT l.source_ip) AS sources,
           list(DISTINCT l.source_ip ORDER BY l.source_ip)[1:5] AS some_sources
    FROM open_doors d
    JOIN window_logs l ON l.account_id = d.account_id AND l.region = d.region AND l.api_id = d.api_id
     AND CASE WHEN d.api_type = 'REST' THEN (d.http_method = 'ANY' OR l.http_method = d.http_method)
                                            AND l.resource_path = d.path
              ELSE coalesce(l.route_key, l.http_method || ' ' || l.resource_path) = d.route_key END
    GROUP BY d.arn
)
SELECT d.arn AS resource,
       CASE WHEN j.api_id IS NULL THEN 'skip' WHEN coalesce(u.sources, 0) >= coalesce(getvariable('min_sources'), 5) THEN 'alarm'
            ELSE 'ok' END AS status,
       format('{} of {} API {} ({}) needs no authorization', d.door,
              CASE d.api_type WHEN 'WEBSOCKET' THEN 'WebSocket' ELSE d.api_type END, d.api_name, d.api_id) ||
       CASE WHEN j.api_id IS NULL THEN ', and no stage of the API has readable access logs with source IPs to show who calls it.'
            WHEN coalesce(u.sources, 0) >= coalesce(getvariable('min_sources'), 5)
                THEN format(' and answered {} requests from {} distinct source IPs (e.g. {}) in the {} hours before {} UTC.',
                            u.requests, u.sources, array_to_string(u.some_sources, ', '), coalesce(getvariable('window_hours'), 24),
                            strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'))
            ELSE format('; it answered {} requests from {} distinct source IPs in the {} hours before {} UTC, under {}.',
                        coalesce(u.requests, 0), coalesce(u.sources, 0), coalesce(getvariable('window_hours'), 24),
                        strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'), coalesce(getvariable('min_sources'), 5)) END AS reason,
       d.account_id, d.region, d.api_id, j.stages, coalesce(u.sources, 0) AS sources, coalesce(u.requests, 0) AS requests
FROM open_doors d
LEFT JOIN judged_stages j ON j.account_id = d.account_id AND j.region = d.region AND j.api_id = d.api_id
LEFT JOIN usage u ON u.arn = d.arn;
