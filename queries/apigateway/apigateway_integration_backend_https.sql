-- id: apigateway_integration_backend_https
-- title: HTTP integrations call their backend over HTTPS
-- description: Alarms for each REST method integration and each HTTP or WebSocket API integration of type HTTP
--   or HTTP_PROXY whose URI is plain http://: requests, tokens and responses then cross the network in clear text.
--   REST integrations are reported on their method. Integrations over a VPC link are judged the same way (their
--   TLS settings are judged by apigatewayv2_integration_private_tls_configured).
-- severity: medium
-- resource_type: REST and v2 HTTP/HTTP_PROXY integration
-- remediation: Serve the backend over HTTPS and point the integration at its https:// URL (then redeploy REST APIs).
--   Console: API Gateway > APIs > (API) > Resources > (method) > Integration request > Edit > Endpoint URL (REST); Integrations > Edit (HTTP).
--   CLI (REST): aws apigateway update-integration --rest-api-id API_ID --resource-id RESOURCE_ID --http-method VERB --patch-operations op=replace,path=/uri,value=https://backend.example.com/path
--   CLI (v2): aws apigatewayv2 update-integration --api-id API_ID --integration-id INTEGRATION_ID --integration-uri https://backend.example.com/path
-- frameworks:
-- aliases:
-- parameters:
WITH integrations AS (
    SELECT m.arn, m.account_id, m.region, m.rest_api_id AS api_id,
           format('The integration of method {} {} of REST API {} ({})', m.http_method, m.path, a.name, m.rest_api_id) AS label,
           m.integration_uri AS uri
    FROM aws_api_gateway_method m
    JOIN aws_api_gateway_rest_api a ON a.api_id = m.rest_api_id AND a.region = m.region AND a.account_id = m.account_id
    WHERE m.integration_type IN ('HTTP', 'HTTP_PROXY')
    UNION ALL
    SELECT i.arn, i.account_id, i.region, i.api_id,
           format('Integration {} of {} API {} ({})', i.integration_id,
                  CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END, a.name, i.api_id),
           i.integration_uri
    FROM aws_api_gatewayv2_integration i
    JOIN aws_api_gatewayv2_api a ON a.api_id = i.api_id AND a.region = i.region AND a.account_id = i.account_id
    WHERE i.integration_type IN ('HTTP', 'HTTP_PROXY')
)
SELECT arn AS resource,
       CASE WHEN starts_with(lower(coalesce(uri, '')), 'http://') THEN 'alarm' ELSE 'ok' END AS status,
       label || CASE WHEN starts_with(lower(coalesce(uri, '')), 'http://') THEN ' calls its backend over plain HTTP (' || uri || ').'
                     ELSE ' does not call a plain http:// backend (' || coalesce(uri, 'no URI') || ').' END AS reason,
       account_id, region, api_id, uri AS integration_uri
FROM integrations;
