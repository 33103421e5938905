-- id: apigateway_client_certificate_not_expiring
-- title: Client certificates are not about to expire
-- description: Alarms when an API Gateway client certificate (presented by stages to their backends) expires within
--   days_before_expiry days (default 30) or has expired: backends that require it will then refuse API Gateway.
-- severity: medium
-- resource_type: client certificate
-- remediation: Generate a new client certificate, add it to the backend's trust, and switch the stages to it.
--   Console: API Gateway > Client certificates > Generate; then each stage > Stage details > Edit > Client certificate.
--   CLI: aws apigateway generate-client-certificate --description ROTATED
--   CLI: aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/clientCertificateId,value=NEW_CERT_ID
-- frameworks: cloudsploit: apigatewayCertificateRotation
-- aliases:
-- parameters: days_before_expiry BIGINT = 30
SELECT arn AS resource,
       CASE WHEN expiration_date IS NULL THEN 'info'
            WHEN expiration_date < now()::TIMESTAMP + to_days(CAST(coalesce(getvariable('days_before_expiry'), 30) AS INTEGER)) THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Client certificate {}{}', client_certificate_id, coalesce(' (' || nullif(description, '') || ')', '')) ||
       CASE WHEN expiration_date IS NULL THEN ' has no expiration date.'
            WHEN expiration_date < now()::TIMESTAMP THEN ' expired on ' || strftime(expiration_date, '%Y-%m-%d') || '.'
            ELSE ' expires on ' || strftime(expiration_date, '%Y-%m-%d') || ', in '
                 || date_diff('day', now()::TIMESTAMP, expiration_date) || ' days.' END AS reason,
       account_id, region, client_certificate_id
FROM aws_api_gateway_client_certificate;
