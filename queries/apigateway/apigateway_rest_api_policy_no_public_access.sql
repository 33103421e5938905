-- id: apigateway_rest_api_policy_no_public_access
-- title: REST API resource policies do not let everyone in
-- description: For REST APIs with a resource policy, alarms when an Allow statement grants Principal * (or
--   AWS *) an execute-api action (or *, or uses NotAction) with no condition on aws:SourceVpce, aws:SourceVpc,
--   aws:SourceIp, aws:PrincipalOrgID, aws:PrincipalAccount or aws:SourceAccount, unless a Deny statement with such
--   a condition narrows the policy (the documented "deny unless from this VPC endpoint" pattern). APIs without a
--   policy are skip.
-- severity: high
-- resource_type: REST API with a resource policy
-- remediation: Restrict the Allow statement with a source condition (VPC endpoint, VPC, IP range, organization or account), or name the principals; then redeploy.
--   Console: API Gateway > APIs > (API) > Resource policy > Edit.
--   CLI: aws apigateway update-rest-api --rest-api-id API_ID --patch-operations op=replace,path=/policy,value="$(cat policy.json)"
-- frameworks: checkov: CKV2_AWS_70
-- aliases:
-- parameters:
WITH statements AS (
    SELECT account_id, region, rest_api_id, statement_index, sid, effect, principal_is_public, has_source_restriction,
           not_action IS NOT NULL AS uses_not_action,
           CASE json_type(action) WHEN 'ARRAY' THEN from_json(action, '["VARCHAR"]')
                                  WHEN 'VARCHAR' THEN [action ->> '$'] ELSE CAST([] AS VARCHAR[]) END AS actions
    FROM aws_api_gateway_rest_api_policy_statement
),
open_statements AS (
    SELECT account_id, region, rest_api_id,
           string_agg(coalesce('statement ' || sid, 'statement #' || (statement_index + 1)), ', ' ORDER BY statement_index) AS open
    FROM statements s
    WHERE effect = 'Allow' AND principal_is_public AND NOT has_source_restriction
      AND (uses_not_action OR EXISTS (SELECT 1 FROM unnest(s.actions) AS t(act)
                                      WHERE act = '*' OR lower(act) LIKE 'execute-api:%'))
    GROUP BY ALL
),
narrowing_denies AS (
    SELECT DISTINCT account_id, region, rest_api_id
    FROM statements
    WHERE effect = 'Deny' AND has_source_restriction
)
SELECT a.arn AS resource,
       CASE WHEN a.policy IS NULL THEN 'skip' WHEN o.open IS NOT NULL AND d.rest_api_id IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('REST API {} ({})', a.name, a.api_id) ||
       CASE WHEN a.policy IS NULL THEN ' has no resource policy.'
            WHEN o.open IS NOT NULL AND d.rest_api_id IS NULL
                THEN ' has a resource policy that lets anyone invoke it with no source condition (' || o.open || ').'
            WHEN o.open IS NOT NULL THEN ' has a resource policy whose public Allow is narrowed by a Deny with a source condition.'
            ELSE ' has a resource policy that grants no unconditioned public access.' END AS reason,
       a.account_id, a.region, a.api_id
FROM aws_api_gateway_rest_api a
LEFT JOIN open_statements o ON o.rest_api_id = a.api_id AND o.region = a.region AND o.account_id = a.account_id
LEFT JOIN narrowing_denies d ON d.rest_api_id = a.api_id AND d.region = a.region AND d.account_id = a.account_id;
