-- id: apigatewayv2_integration_private_tls_configured
-- title: HTTP API private integrations verify the backend's TLS name
-- description: For HTTP API integrations over a VPC link, alarms when TlsConfig.ServerNameToVerify is not set,
--   so API Gateway does not use (and verify) TLS to the private backend. WebSocket API integrations over a VPC
--   link are skip: AWS supports TlsConfig only for HTTP APIs.
-- severity: medium
-- resource_type: v2 integration over VPC_LINK
-- remediation: Serve TLS on the private load balancer's listener and set the server name API Gateway verifies.
--   Console: API Gateway > APIs > (API) > Integrations > (integration) > Edit > Advanced settings > Secure server verification.
--   CLI: aws apigatewayv2 update-integration --api-id API_ID --integration-id INTEGRATION_ID --tls-config ServerNameToVerify=backend.internal.example.com
-- frameworks: fsbp: APIGateway.10, checkov: CKV_AWS_396
-- aliases:
-- parameters:
SELECT i.arn AS resource,
       CASE WHEN a.protocol_type <> 'HTTP' THEN 'skip'
            WHEN i.tls_config_server_name_to_verify IS NULL THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Integration {} of {} API {} ({})', i.integration_id,
              CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END, a.name, i.api_id) ||
       CASE WHEN a.protocol_type <> 'HTTP' THEN ' goes over a VPC link of a WebSocket API, where AWS offers no TLS settings.'
            WHEN i.tls_config_server_name_to_verify IS NULL THEN ' goes over a VPC link without TLS server name verification.'
            ELSE ' goes over a VPC link with TLS, verifying the server name ' || i.tls_config_server_name_to_verify || '.' END AS reason,
       i.account_id, i.region, i.api_id, i.integration_id
FROM aws_api_gatewayv2_integration i
JOIN aws_api_gatewayv2_api a ON a.api_id = i.api_id AND a.region = i.region AND a.account_id = i.account_id
WHERE i.connection_type = 'VPC_LINK';
