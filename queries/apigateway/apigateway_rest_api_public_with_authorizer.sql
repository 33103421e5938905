-- id: apigateway_rest_api_public_with_authorizer
-- title: Internet-facing REST APIs require authorization on every method
-- description: For REST APIs with an EDGE or REGIONAL endpoint, alarms when some method other than OPTIONS is
--   reachable without authorization (authorizationType NONE). Judged on the methods, like
--   apigateway_rest_api_authorizers_configured, not on the existence of an authorizer object. PRIVATE APIs are skip.
-- severity: high
-- resource_type: non-private REST API
-- remediation: Require AWS_IAM, a Lambda authorizer or Cognito on every method, or make the API PRIVATE; then redeploy.
--   Console: API Gateway > APIs > (API) > Resources > (method) > Method request > Edit > Authorization.
--   CLI: aws apigateway update-method --rest-api-id API_ID --resource-id RESOURCE_ID --http-method POST --patch-operations op=replace,path=/authorizationType,value=AWS_IAM
-- frameworks:
-- aliases: apigateway_restapi_public_with_authorizer, api_gateway_rest_api_public_endpoint_with_authorizer
-- parameters:
WITH methods AS (
    SELECT account_id, region, rest_api_id, count(*) AS judged,
           string_agg(http_method || ' ' || path, ', ' ORDER BY path, http_method)
               FILTER (WHERE coalesce(authorization_type, 'NONE') = 'NONE') AS open_methods
    FROM aws_api_gateway_method
    WHERE http_method <> 'OPTIONS'
    GROUP BY ALL
)
SELECT a.arn AS resource,
       CASE WHEN list_contains(a.endpoint_configuration_types, 'PRIVATE') THEN 'skip'
            WHEN m.judged IS NULL THEN 'skip'
            WHEN m.open_methods IS NOT NULL THEN 'alarm'
            ELSE 'ok' END AS status,
       format('REST API {} ({})', a.name, a.api_id) ||
       CASE WHEN list_contains(a.endpoint_configuration_types, 'PRIVATE') THEN ' is PRIVATE: only VPC endpoints reach it.'
            WHEN m.judged IS NULL THEN ' has no method other than OPTIONS to judge.'
            WHEN m.open_methods IS NOT NULL THEN ' is reachable from the internet and these methods need no authorization: '
                 || m.open_methods || '.'
            ELSE ' is reachable from the internet and requires authorization on every method other than OPTIONS.' END AS reason,
       a.account_id, a.region, a.api_id
FROM aws_api_gateway_rest_api a
LEFT JOIN methods m ON m.rest_api_id = a.api_id AND m.region = a.region AND m.account_id = a.account_id;
