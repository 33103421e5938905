-- id: apigatewayv2_api_cors_restricted
-- title: HTTP APIs restrict CORS origins
-- description: Alarms when an HTTP API's CORS configuration allows every origin (AllowOrigins contains *): any web
--   page can then read its responses in a visitor's browser. The alarm is high, not medium, when AllowCredentials
--   is also true (cookies and authorization headers are sent). HTTP APIs without CORS are ok; WebSocket APIs have
--   no CORS and are not judged.
-- severity: medium
-- resource_type: HTTP API
-- remediation: List the exact origins that may call the API.
--   Console: API Gateway > APIs > (API) > CORS > Configure > Access-Control-Allow-Origin.
--   CLI: aws apigatewayv2 update-api --api-id API_ID --cors-configuration AllowOrigins=https://app.example.com,AllowCredentials=true
-- frameworks:
-- aliases:
-- parameters:
SELECT arn AS resource,
       CASE WHEN list_contains(coalesce(cors_allow_origins, CAST([] AS VARCHAR[])), '*') THEN 'alarm' ELSE 'ok' END AS status,
       CASE WHEN list_contains(coalesce(cors_allow_origins, CAST([] AS VARCHAR[])), '*') AND coalesce(cors_allow_credentials, false)
            THEN 'high' END AS severity,
       format('HTTP API {} ({})', name, api_id) ||
       CASE WHEN cors_configuration IS NULL THEN ' has no CORS configuration, so browsers keep the same-origin policy.'
            WHEN list_contains(coalesce(cors_allow_origins, CAST([] AS VARCHAR[])), '*') AND coalesce(cors_allow_credentials, false)
                THEN ' allows every origin (*) with credentials in its CORS configuration.'
            WHEN list_contains(coalesce(cors_allow_origins, CAST([] AS VARCHAR[])), '*') THEN ' allows every origin (*) in its CORS configuration.'
            ELSE ' allows only these CORS origins: ' || coalesce(nullif(array_to_string(cors_allow_origins, ', '), ''), 'none') || '.' END AS reason,
       account_id, region, api_id
FROM aws_api_gatewayv2_api
WHERE protocol_type = 'HTTP';
