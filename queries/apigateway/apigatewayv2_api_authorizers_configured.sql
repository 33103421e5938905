-- id: apigatewayv2_api_authorizers_configured
-- title: HTTP and WebSocket APIs require authorization on every judged route
-- description: API-level roll-up of apigatewayv2_route_authorization_type_configured, judged like the REST one
--   on the routes rather than on the existence of an authorizer (Prowler passes an API with any authorizer):
--   alarms when some HTTP route other than OPTIONS, or a WebSocket API's $connect route, has AuthorizationType
--   NONE. The reason lists them. An API with no judged route is skip.
-- severity: medium
-- resource_type: v2 API
-- remediation: Attach an IAM, Lambda or JWT authorizer to each listed route.
--   Console: API Gateway > APIs > (API) > Authorization > (route) > Attach authorizer.
--   CLI: aws apigatewayv2 update-route --api-id API_ID --route-id ROUTE_ID --authorization-type AWS_IAM
-- frameworks:
-- aliases: apigatewayv2_api_authorizers_enabled
-- parameters:
WITH routes AS (
    SELECT r.account_id, r.region, r.api_id, r.route_key, coalesce(r.authorization_type, 'NONE') AS auth
    FROM aws_api_gatewayv2_route r
    JOIN aws_api_gatewayv2_api a ON a.api_id = r.api_id AND a.region = r.region AND a.account_id = r.account_id
    WHERE CASE WHEN a.protocol_type = 'HTTP' THEN NOT starts_with(upper(r.route_key), 'OPTIONS ')
               ELSE r.route_key = '$connect' END
),
per_api AS (
    SELECT account_id, region, api_id, count(*) AS judged,
           string_agg(route_key, ', ' ORDER BY route_key) FILTER (WHERE auth = 'NONE') AS open_routes
    FROM routes
    GROUP BY ALL
)
SELECT a.arn AS resource,
       CASE WHEN p.judged IS NULL THEN 'skip' WHEN p.open_routes IS NOT NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('{} API {} ({})', CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END, a.name, a.api_id) ||
       CASE WHEN p.judged IS NULL THEN ' has no route to judge.'
            WHEN p.open_routes IS NOT NULL THEN ' has routes that need no authorization: ' || p.open_routes || '.'
            WHEN a.protocol_type = 'HTTP' THEN ' requires authorization on every route other than OPTIONS.'
            ELSE ' requires authorization on $connect.' END AS reason,
       a.account_id, a.region, a.api_id
FROM aws_api_gatewayv2_api a
LEFT JOIN per_api p ON p.api_id = a.api_id AND p.region = a.region AND p.account_id = a.account_id;
