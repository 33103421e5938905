-- id: iam_principal_execute_api_invoke_all
-- title: No IAM principal may invoke every API
-- description: Judges every IAM user, group and role of the account (service-linked roles are never judged):
--   alarm when its identity policies effectively grant execute-api:Invoke on every API of the account or of all
--   accounts (Resource *, arn:aws:execute-api:*:*:*, arn:aws:execute-api:REGION:ACCOUNT:*, or a NotAction /
--   NotResource that leaves them), with no Deny without a Condition that removes even one API, and within the
--   permissions boundary. Grants with a Condition count (the reason says so). A principal whose policies cannot
--   be read is error. Reads aws_api_gateway_access_grant.
-- severity: medium
-- resource_type: IAM principal
-- remediation: Scope execute-api:Invoke to the APIs, stages and methods the principal calls, e.g.
--   {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:REGION:ACCOUNT:API_ID/prod/GET/orders/*"}.
--   Console: IAM > the principal > Permissions: edit the statement (or detach AmazonAPIGatewayInvokeFullAccess) and list the API ARNs.
--   CLI: aws iam detach-role-policy --role-name NAME --policy-arn arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess
--   CLI: aws iam put-role-policy --role-name NAME --policy-name invoke-scoped --policy-document file://invoke.json
-- frameworks:
-- aliases:
-- parameters:
WITH principals AS (
    SELECT arn, name, 'user' AS kind, path, account_id FROM aws_iam_user
    UNION ALL SELECT arn, name, 'group', path, account_id FROM aws_iam_group
    UNION ALL SELECT arn, name, 'role', path, account_id FROM aws_iam_role
),
grants AS (
    SELECT * FROM aws_api_gateway_access_grant WHERE via = 'identity_policy'
),
unreadable AS (
    SELECT principal_arn, min(error) AS error FROM grants WHERE error IS NOT NULL GROUP BY principal_arn
),
invoke_all AS (
    SELECT principal_arn, bool_and(conditional) AS conditional, flatten(list(statements)) AS statements,
           list_sort(list_distinct(list(coalesce(api_region, 'every region')))) AS regions
    -- api_region set: every API of that region (arn:aws:execute-api:REGION:ACCOUNT:*), which counts too
    FROM grants WHERE access = 'invoke' AND api_id = '*' AND list_contains(actions, 'execute-api:Invoke')
    GROUP BY principal_arn
)
SELECT p.arn AS resource,
       CASE WHEN u.error IS NOT NULL THEN 'error' WHEN i.principal_arn IS NULL THEN 'ok' ELSE 'alarm' END AS status,
       CASE WHEN u.error IS NOT NULL THEN format('The policies of IAM {} {} cannot be judged: {}.', p.kind, p.name, u.error)
            WHEN i.principal_arn IS NULL THEN format('IAM {} {} may not invoke every API of account {}.', p.kind, p.name, p.account_id)
            ELSE format('IAM {} {} may invoke every API of account {} ({}){}, granted by {}.', p.kind, p.name, p.account_id,
                        array_to_string(i.regions, ', '),
                        CASE WHEN i.conditional THEN ' under conditions that are not evaluated' ELSE '' END,
                        array_to_string(list_distinct(i.statements), ', '))
       END AS reason,
       p.account_id, NULL::VARCHAR AS region, p.kind AS principal_type, i.conditional, i.statements
FROM principals p LEFT JOIN unreadable u ON u.principal_arn = p.arn LEFT JOIN invoke_all i ON i.principal_arn = p.arn
WHERE NOT starts_with(p.path, '/aws-service-role/')
ORDER BY p.arn;
