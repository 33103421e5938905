-- id: apigateway_api_default_endpoint_disabled
-- title: APIs disable the default execute-api endpoint
-- description: Alarms when a REST, HTTP or WebSocket API keeps its default execute-api endpoint
--   (disableExecuteApiEndpoint false): clients can then call the API directly, around any custom domain and the
--   controls attached to it.
-- severity: medium
-- resource_type: REST and v2 API
-- remediation: Serve the API through a custom domain and disable the default endpoint (then redeploy REST APIs).
--   Console: API Gateway > APIs > (API) > API settings > Edit > Default endpoint: Inactive.
--   CLI (REST): aws apigateway update-rest-api --rest-api-id API_ID --patch-operations op=replace,path=/disableExecuteApiEndpoint,value=true
--   CLI (v2): aws apigatewayv2 update-api --api-id API_ID --disable-execute-api-endpoint
-- frameworks: cloudsploit: apigatewayDefaultEndpointDisabled
-- aliases:
-- parameters:
WITH apis AS (
    SELECT arn, account_id, region, api_id, format('REST API {} ({})', name, api_id) AS label,
           coalesce(disable_execute_api_endpoint, false) AS disabled
    FROM aws_api_gateway_rest_api
    UNION ALL
    SELECT arn, account_id, region, api_id,
           format('{} API {} ({})', CASE protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END, name, api_id),
           coalesce(disable_execute_api_endpoint, false)
    FROM aws_api_gatewayv2_api
)
SELECT arn AS resource,
       CASE WHEN disabled THEN 'ok' ELSE 'alarm' END AS status,
       label || CASE WHEN disabled THEN ' has its default execute-api endpoint disabled.'
                     ELSE ' still answers on its default execute-api endpoint.' END AS reason,
       account_id, region, api_id
FROM apis;
