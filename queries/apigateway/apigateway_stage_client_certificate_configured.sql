-- id: apigateway_stage_client_certificate_configured
-- title: REST stages present a client certificate to their backend
-- description: Alarms when a REST API stage has no client certificate (clientCertificateId), so its HTTP
--   backend cannot verify that requests come from API Gateway.
-- severity: medium
-- resource_type: REST stage
-- remediation: Generate a client certificate, attach it to the stage, and make the backend require it.
--   Console: API Gateway > Client certificates > Generate; then APIs > (API) > Stages > (stage) > Stage details > Edit > Client certificate.
--   CLI: aws apigateway generate-client-certificate --description BACKEND
--   CLI: aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/clientCertificateId,value=CERT_ID
-- frameworks: fsbp: APIGateway.2, config: api-gw-ssl-enabled
-- aliases: apigateway_restapi_client_certificate_enabled, apigateway_rest_api_stage_use_ssl_certificate
-- parameters:
SELECT s.arn AS resource,
       CASE WHEN s.client_certificate_id IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       CASE WHEN s.client_certificate_id IS NULL
            THEN format('Stage {} of REST API {} ({}) presents no client certificate to its backend.', s.name, a.name, s.rest_api_id)
            ELSE format('Stage {} of REST API {} ({}) presents client certificate {} to its backend.', s.name, a.name,
                        s.rest_api_id, s.client_certificate_id)
       END AS reason,
       s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name
FROM aws_api_gateway_stage s
JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id;
