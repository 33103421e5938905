-- id: apigatewayv2_route_authorization_type_configured
-- title: HTTP routes and WebSocket connections require authorization
-- description: Judges each route's own AuthorizationType, not whether the API has some authorizer: every HTTP API
--   route except OPTIONS ones (CORS preflight), and the $connect route of WebSocket APIs, must use a type in
--   allowed_authorization_types (default AWS_IAM, CUSTOM, JWT). Other WebSocket routes are skip: AWS authorizes a
--   WebSocket connection on $connect only, and judging $default or custom routes, as a literal reading of the
--   Config rule does, only produces false alarms.
-- severity: medium
-- resource_type: HTTP route (not OPTIONS) and WebSocket $connect route
-- remediation: Attach an IAM, Lambda or JWT authorizer to the route (the $connect route for WebSocket APIs).
--   Console: API Gateway > APIs > (API) > Authorization > (route) > Attach authorizer.
--   CLI: aws apigatewayv2 update-route --api-id API_ID --route-id ROUTE_ID --authorization-type JWT --authorizer-id AUTHORIZER_ID
-- frameworks: fsbp: APIGateway.8, config: api-gwv2-authorization-type-configured, checkov: CKV_AWS_309
-- aliases: api_gatewayv2_route_authorization_type_configured
-- parameters: allowed_authorization_types VARCHAR[] = ['AWS_IAM', 'CUSTOM', 'JWT']
WITH params AS (
    SELECT coalesce(getvariable('allowed_authorization_types'), ['AWS_IAM', 'CUSTOM', 'JWT']) AS allowed
),
routes AS (
    SELECT r.*, a.name AS api_name, a.protocol_type AS api_protocol, coalesce(r.authorization_type, 'NONE') AS auth,
           CASE WHEN a.protocol_type = 'HTTP' THEN NOT starts_with(upper(r.route_key), 'OPTIONS ')
                ELSE r.route_key = '$connect' END AS judged
    FROM aws_api_gatewayv2_route r
    JOIN aws_api_gatewayv2_api a ON a.api_id = r.api_id AND a.region = r.region AND a.account_id = r.account_id
)
SELECT r.arn AS resource,
       CASE WHEN NOT r.judged THEN 'skip' WHEN list_contains(p.allowed, r.auth) THEN 'ok' ELSE 'alarm' END AS status,
       format('Route {} ({}) of {} API {} ({})', r.route_key, r.route_id,
              CASE r.api_protocol WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END, r.api_name, r.api_id) ||
       CASE WHEN NOT r.judged AND r.api_protocol = 'HTTP' THEN ' answers CORS preflight requests and is not judged.'
            WHEN NOT r.judged THEN ' is authorized by the $connect route of its WebSocket connection.'
            WHEN r.auth = 'NONE' THEN ' requires no authorization.'
            WHEN list_contains(p.allowed, r.auth) THEN ' requires ' || r.auth || ' authorization.'
            ELSE ' uses ' || r.auth || ' authorization, which is not in the allowed list (' || array_to_string(p.allowed, ', ') || ').' END AS reason,
       r.account_id, r.region, r.api_id, r.route_key
FROM routes r
CROSS JOIN params p;
