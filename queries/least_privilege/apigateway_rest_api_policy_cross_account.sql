-- id: apigateway_rest_api_policy_cross_account
-- title: REST API resource policies grant no untrusted account
-- description: Alarms for a REST API whose resource policy effectively allows execute-api to a principal of
--   another account (an account, a user or a role ARN) that trusted_accounts does not list, with or without a
--   Condition (conditions are reported, not evaluated); a Deny without a Condition for that principal or for
--   everyone over the whole API removes the grant. ok for every other REST API, including those with no policy.
--   Principal * is left to apigateway_rest_api_policy_no_public_access. Reads aws_api_gateway_access_grant and
--   aws_api_gateway_rest_api.
-- severity: medium
-- resource_type: REST API
-- remediation: Remove the other account from the policy, or list it in trusted_accounts when the access is intended.
--   Console: API Gateway > APIs > the API > Resource policy: edit the Principal, then deploy the API again.
--   CLI: aws apigateway update-rest-api --rest-api-id ID --patch-operations op=replace,path=/policy,value='POLICY_JSON'
--   CLI: aws apigateway create-deployment --rest-api-id ID --stage-name STAGE
-- frameworks:
-- aliases: apigateway_restapi_cross_account
-- parameters: trusted_accounts VARCHAR[] = []
WITH apis AS (
    SELECT api_id, name, account_id, region, arn FROM aws_api_gateway_rest_api
),
foreign_grants AS (
    SELECT api_id, api_region, any_value(account_id) AS account_id,
           list_sort(list_distinct(list(principal_arn))) AS principals,
           bool_and(conditional) AS conditional
    FROM aws_api_gateway_access_grant
    WHERE via = 'resource_policy' AND principal_account IS NOT NULL AND principal_account <> account_id
      AND NOT list_contains(CAST(coalesce(getvariable('trusted_accounts'), []) AS VARCHAR[]), principal_account)
    GROUP BY api_id, api_region
)
SELECT a.arn AS resource,
       CASE WHEN g.api_id IS NULL THEN 'ok' ELSE 'alarm' END AS status,
       CASE WHEN g.api_id IS NULL
            THEN format('REST API {} ({}) grants no account outside {} and the trusted accounts.', a.name, a.api_id, a.account_id)
            ELSE format('REST API {} ({}) lets {} invoke it{}.', a.name, a.api_id, array_to_string(g.principals, ', '),
                        CASE WHEN g.conditional THEN ' under conditions that are not evaluated' ELSE '' END)
       END AS reason,
       a.account_id, a.region, g.principals AS foreign_principals
FROM apis a LEFT JOIN foreign_grants g ON g.api_id = a.api_id AND g.api_region = a.region AND g.account_id = a.account_id
ORDER BY a.region, a.api_id;
