-- id: apigateway_rest_api_authorizers_configured
-- title: REST APIs require authorization on every method
-- description: Judges each REST API by its methods, not by the existence of an authorizer object: every method
--   other than OPTIONS (CORS preflight) must use AWS_IAM, a Lambda authorizer (CUSTOM) or Cognito. An API with an
--   authorizer that some method does not use alarms (Prowler passes it); an API whose methods all use AWS_IAM is ok
--   though it has no authorizer object (Prowler fails it); provider ARNs are not required (Steampipe counts only
--   Cognito). The reason lists the open methods. An API without such methods is skip.
-- severity: medium
-- resource_type: REST API
-- remediation: Set an authorization type on every method, then redeploy the API.
--   Console: API Gateway > APIs > (API) > Resources > (method) > Method request > Edit > Authorization.
--   CLI: aws apigateway update-method --rest-api-id API_ID --resource-id RESOURCE_ID --http-method GET --patch-operations op=replace,path=/authorizationType,value=AWS_IAM
--   CLI: aws apigateway create-deployment --rest-api-id API_ID --stage-name STAGE
-- frameworks:
-- aliases: apigateway_restapi_authorizers_enabled, apigateway_rest_api_authorizers_configured
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
       CASE WHEN m.judged IS NULL THEN 'skip' WHEN m.open_methods IS NOT NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('REST API {} ({})', a.name, a.api_id) ||
       CASE WHEN m.judged IS NULL THEN ' has no method other than OPTIONS to judge.'
            WHEN m.open_methods IS NOT NULL THEN ' has methods that need no authorization: ' || m.open_methods || '.'
            ELSE ' requires AWS_IAM, a Lambda authorizer or Cognito on every method other than OPTIONS.' END AS reason,
       a.account_id, a.region, a.api_id
FROM aws_api_gateway_rest_api a
LEFT JOIN methods m ON m.rest_api_id = a.api_id AND m.region = a.region AND m.account_id = a.account_id;
