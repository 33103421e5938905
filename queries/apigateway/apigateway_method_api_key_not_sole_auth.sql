-- id: apigateway_method_api_key_not_sole_auth
-- title: REST methods do not rely on an API key alone
-- description: Alarms for each REST method that requires an API key but no authorization (apiKeyRequired with
--   authorizationType NONE): an API key identifies a client for metering, it does not authenticate it, and it
--   travels in a header that is easily leaked.
-- severity: medium
-- resource_type: REST method
-- remediation: Add AWS_IAM, a Lambda authorizer or Cognito to the method and keep the API key for usage plans only; then redeploy.
--   Console: API Gateway > APIs > (API) > Resources > (method) > Method request > Edit > Authorization.
--   CLI: aws apigateway update-method --rest-api-id API_ID --resource-id RESOURCE_ID --http-method VERB --patch-operations op=replace,path=/authorizationType,value=CUSTOM op=replace,path=/authorizerId,value=AUTHORIZER_ID
-- frameworks:
-- aliases:
-- parameters:
SELECT m.arn AS resource,
       CASE WHEN coalesce(m.api_key_required, false) AND coalesce(m.authorization_type, 'NONE') = 'NONE' THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Method {} {} of REST API {} ({})', m.http_method, m.path, a.name, m.rest_api_id) ||
       CASE WHEN coalesce(m.api_key_required, false) AND coalesce(m.authorization_type, 'NONE') = 'NONE'
                THEN ' requires an API key but no authorization: the key is its only protection.'
            WHEN coalesce(m.api_key_required, false) THEN ' requires an API key and ' || m.authorization_type || ' authorization.'
            ELSE ' does not rely on an API key for protection.' END AS reason,
       m.account_id, m.region, m.rest_api_id AS api_id, m.http_method, m.path
FROM aws_api_gateway_method m
JOIN aws_api_gateway_rest_api a ON a.api_id = m.rest_api_id AND a.region = m.region AND a.account_id = m.account_id;
