-- id: apigateway_private_api_policy_restricts_source
-- title: Private REST APIs admit only their VPCs or VPC endpoints
-- description: For PRIVATE REST APIs, alarms when there is no resource policy, or when some Allow statement has
--   no aws:SourceVpce or aws:SourceVpc condition and no Deny statement with such a condition (the documented
--   "deny unless from this VPC endpoint" pattern) narrows it: any VPC endpoint in any account could otherwise reach
--   the API. Other REST APIs are skip.
-- severity: high
-- resource_type: PRIVATE REST API
-- remediation: Attach a resource policy that allows execute-api:Invoke only from your VPC endpoints or VPCs, then redeploy.
--   Console: API Gateway > APIs > (API) > Resource policy > Edit > Template: VPC allowlist.
--   CLI: aws apigateway update-rest-api --rest-api-id API_ID --patch-operations op=replace,path=/policy,value="$(cat vpce-policy.json)"
-- frameworks:
-- aliases:
-- parameters:
WITH statements AS (
    SELECT account_id, region, rest_api_id, effect,
           list_has_any(condition_keys, ['aws:sourcevpce', 'aws:sourcevpc']) AS vpc_bound
    FROM aws_api_gateway_rest_api_policy_statement
),
per_api AS (
    SELECT account_id, region, rest_api_id,
           count(*) FILTER (WHERE effect = 'Allow') AS allows,
           count(*) FILTER (WHERE effect = 'Allow' AND NOT vpc_bound) AS unbound_allows,
           coalesce(bool_or(effect = 'Deny' AND vpc_bound), false) AS vpc_deny
    FROM statements
    GROUP BY ALL
)
SELECT a.arn AS resource,
       CASE WHEN NOT list_contains(a.endpoint_configuration_types, 'PRIVATE') THEN 'skip'
            WHEN a.policy IS NULL THEN 'alarm'
            WHEN coalesce(p.unbound_allows, 0) = 0 OR p.vpc_deny THEN 'ok'
            ELSE 'alarm' END AS status,
       format('REST API {} ({})', a.name, a.api_id) ||
       CASE WHEN NOT list_contains(a.endpoint_configuration_types, 'PRIVATE') THEN ' is not PRIVATE.'
            WHEN a.policy IS NULL THEN ' is PRIVATE but has no resource policy restricting which VPCs or VPC endpoints reach it.'
            WHEN coalesce(p.allows, 0) = 0 THEN ' is PRIVATE and its resource policy allows no one.'
            WHEN p.unbound_allows = 0 THEN ' is PRIVATE and every Allow statement of its policy requires a source VPC or VPC endpoint.'
            WHEN p.vpc_deny THEN ' is PRIVATE and its policy denies requests from other VPCs or VPC endpoints.'
            ELSE ' is PRIVATE but its resource policy allows callers without an aws:SourceVpce or aws:SourceVpc condition.' END AS reason,
       a.account_id, a.region, a.api_id
FROM aws_api_gateway_rest_api a
LEFT JOIN per_api p ON p.rest_api_id = a.api_id AND p.region = a.region AND p.account_id = a.account_id;
