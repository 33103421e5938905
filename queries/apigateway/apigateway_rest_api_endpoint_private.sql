-- id: apigateway_rest_api_endpoint_private
-- title: REST APIs use only allowed endpoint types
-- description: Alarms when a REST API has an endpoint type outside allowed_endpoint_types (default PRIVATE only):
--   EDGE and REGIONAL endpoints are reachable from the internet. Set the parameter to, for example,
--   PRIVATE,REGIONAL where regional endpoints behind a WAF are accepted.
-- severity: medium
-- resource_type: REST API
-- remediation: Make internal APIs PRIVATE (reachable only through interface VPC endpoints) or put public ones behind the controls your policy requires.
--   Console: API Gateway > APIs > (API) > API settings > Edit > API endpoint type: Private.
--   CLI: aws apigateway update-rest-api --rest-api-id API_ID --patch-operations op=replace,path=/endpointConfiguration/types/REGIONAL,value=PRIVATE
-- frameworks: config: api-gw-endpoint-type-check
-- aliases: apigateway_restapi_public, apigateway_rest_api_endpoint_restrict_public_access
-- parameters: allowed_endpoint_types VARCHAR[] = ['PRIVATE']
WITH params AS (
    SELECT coalesce(getvariable('allowed_endpoint_types'), ['PRIVATE']) AS allowed
),
apis AS (
    SELECT a.*, coalesce(nullif(a.endpoint_configuration_types, []), ['EDGE']) AS types
    FROM aws_api_gateway_rest_api a
)
SELECT a.arn AS resource,
       CASE WHEN list_has_all(p.allowed, a.types) THEN 'ok' ELSE 'alarm' END AS status,
       format('REST API {} ({}) has endpoint type {}, ', a.name, a.api_id, array_to_string(a.types, ', ')) ||
       CASE WHEN list_has_all(p.allowed, a.types) THEN 'which is allowed.'
            ELSE 'not in the allowed list (' || array_to_string(p.allowed, ', ') || ').' END AS reason,
       a.account_id, a.region, a.api_id
FROM apis a
CROSS JOIN params p;
