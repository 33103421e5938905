-- id: apigateway_method_request_validation_enabled
-- title: REST methods validate the requests they declare
-- description: For REST methods that declare request parameters or body models, alarms when the method has no
--   request validator, or when its validator does not validate what the method declares (parameters, body):
--   API Gateway then passes malformed input to the backend. Methods that declare neither are skip.
-- severity: low
-- resource_type: REST method with request parameters or body models
-- remediation: Attach a request validator that validates the declared parameters and body, then redeploy.
--   Console: API Gateway > APIs > (API) > Resources > (method) > Method request > Edit > Request validator.
--   CLI: aws apigateway create-request-validator --rest-api-id API_ID --name validate-all --validate-request-body --validate-request-parameters
--   CLI: aws apigateway update-method --rest-api-id API_ID --resource-id RESOURCE_ID --http-method VERB --patch-operations op=replace,path=/requestValidatorId,value=VALIDATOR_ID
-- frameworks: cloudsploit: apigatewayRequestValidation, checkov: CKV2_AWS_53
-- aliases: api_gateway_method_request_parameter_validated
-- parameters:
WITH methods AS (
    SELECT m.*, a.name AS api_name,
           coalesce(array_length(json_keys(m.request_parameters)), 0) > 0 AS has_parameters,
           coalesce(array_length(json_keys(m.request_models)), 0) > 0 AS has_models,
           v.id AS validator, v.name AS validator_name,
           coalesce(v.validate_request_parameters, false) AS validates_parameters,
           coalesce(v.validate_request_body, false) AS validates_body
    FROM aws_api_gateway_method m
    JOIN aws_api_gateway_rest_api a ON a.api_id = m.rest_api_id AND a.region = m.region AND a.account_id = m.account_id
    LEFT JOIN aws_api_gateway_request_validator v
           ON v.id = m.request_validator_id AND v.rest_api_id = m.rest_api_id AND v.region = m.region
          AND v.account_id = m.account_id
),
judged AS (
    SELECT *,
           concat_ws(' and ', CASE WHEN has_parameters AND NOT validates_parameters THEN 'its parameters' END,
                              CASE WHEN has_models AND NOT validates_body THEN 'its body' END) AS unvalidated
    FROM methods
)
SELECT arn AS resource,
       CASE WHEN NOT has_parameters AND NOT has_models THEN 'skip'
            WHEN validator IS NULL OR unvalidated <> '' THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Method {} {} of REST API {} ({})', http_method, path, api_name, rest_api_id) ||
       CASE WHEN NOT has_parameters AND NOT has_models THEN ' declares no request parameters or body model to validate.'
            WHEN validator IS NULL THEN ' declares request ' ||
                 concat_ws(' and ', CASE WHEN has_parameters THEN 'parameters' END, CASE WHEN has_models THEN 'models' END) ||
                 ' but has no request validator.'
            WHEN unvalidated <> '' THEN ' uses request validator ' || validator_name || ', which does not validate ' || unvalidated || '.'
            ELSE ' validates its requests with request validator ' || validator_name || '.' END AS reason,
       account_id, region, rest_api_id AS api_id, http_method, path
FROM judged;
