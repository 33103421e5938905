-- id: apigatewayv2_authorizer_jwt_audience_configured
-- title: JWT authorizers check the audience and an HTTPS issuer
-- description: Alarms for each JWT authorizer with an empty audience list (tokens issued for any application of
--   the identity provider are accepted) or an issuer that is not an https:// URL (its signing keys are fetched
--   over an unauthenticated channel).
-- severity: medium
-- resource_type: JWT authorizer
-- remediation: Set the audience to your app client ids and use the identity provider's https issuer URL.
--   Console: API Gateway > APIs > (API) > Authorization > Manage authorizers > (authorizer) > Edit.
--   CLI: aws apigatewayv2 update-authorizer --api-id API_ID --authorizer-id AUTHORIZER_ID --jwt-configuration Audience=CLIENT_ID,Issuer=https://issuer.example.com/
-- frameworks:
-- aliases:
-- parameters:
WITH authorizers AS (
    SELECT z.*, a.name AS api_name,
           concat_ws(' and ',
               CASE WHEN coalesce(array_length(z.jwt_audience), 0) = 0 THEN 'has an empty audience' END,
               CASE WHEN NOT starts_with(lower(coalesce(z.jwt_issuer, '')), 'https://')
                    THEN 'trusts the issuer ' || coalesce(z.jwt_issuer, '(none)') || ', which is not https' END) AS problems
    FROM aws_api_gatewayv2_authorizer z
    JOIN aws_api_gatewayv2_api a ON a.api_id = z.api_id AND a.region = z.region AND a.account_id = z.account_id
    WHERE z.authorizer_type = 'JWT'
)
SELECT arn AS resource,
       CASE WHEN problems <> '' THEN 'alarm' ELSE 'ok' END AS status,
       format('JWT authorizer {} ({}) of HTTP API {} ({}) ', name, authorizer_id, api_name, api_id) ||
       CASE WHEN problems <> '' THEN problems || '.'
            ELSE 'checks the audience (' || array_to_string(jwt_audience, ', ') || ') and trusts the https issuer ' || jwt_issuer || '.' END AS reason,
       account_id, region, api_id, authorizer_id
FROM authorizers;
