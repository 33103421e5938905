-- id: apigateway_method_authorization_configured
-- title: REST methods require authorization
-- description: Alarms for each REST method other than OPTIONS whose authorizationType is NONE: anyone who can
--   reach the endpoint can call it. Protected means AWS_IAM, a Lambda authorizer (CUSTOM) or Cognito; an API key
--   alone is not authorization. OPTIONS methods (CORS preflight) are skip.
-- severity: high
-- resource_type: non-OPTIONS REST method
-- remediation: Set an authorization type on the method, then redeploy the API.
--   Console: API Gateway > APIs > (API) > Resources > (method) > Method request > Edit > Authorization.
--   CLI: aws apigateway update-method --rest-api-id API_ID --resource-id RESOURCE_ID --http-method VERB --patch-operations op=replace,path=/authorizationType,value=AWS_IAM
-- frameworks: checkov: CKV_AWS_59
-- aliases: api_gateway_method_authorization_type_configured
-- parameters:
SELECT m.arn AS resource,
       CASE WHEN m.http_method = 'OPTIONS' THEN 'skip'
            WHEN coalesce(m.authorization_type, 'NONE') = 'NONE' THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Method {} {} of REST API {} ({})', m.http_method, m.path, a.name, m.rest_api_id) ||
       CASE WHEN m.http_method = 'OPTIONS' THEN ' answers CORS preflight requests and is not judged.'
            WHEN coalesce(m.authorization_type, 'NONE') = 'NONE' THEN ' requires no authorization.'
            ELSE ' requires ' || m.authorization_type || ' authorization.' END AS reason,
       m.account_id, m.region, m.rest_api_id AS api_id, m.http_method, m.path
FROM aws_api_gateway_method m
JOIN aws_api_gateway_rest_api a ON a.api_id = m.rest_api_id AND a.region = m.region AND a.account_id = m.account_id;
