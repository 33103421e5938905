-- id: iam_principal_apigateway_full_admin
-- title: No IAM principal holds full API Gateway administration
-- description: Judges every IAM user, group and role of the account (service-linked roles are never judged):
--   alarm when its identity policies (its own and, for a user, its groups', within its permissions boundary)
--   effectively grant all four write verbs apigateway:POST, PUT, PATCH and DELETE on every API of the account,
--   existing or future, as apigateway:* on * or AmazonAPIGatewayAdministrator do; a Deny without a Condition
--   that removes one verb or one API, or a boundary that caps the wildcard, makes it ok. Grants with a Condition
--   count (the reason says so). Principals listed in admin_principals (ARNs) are info. A principal whose
--   policies cannot be read is error. Reads aws_api_gateway_access_grant.
-- severity: high
-- resource_type: IAM principal
-- remediation: Replace the wildcard with a policy scoped to the actions and APIs the principal needs, e.g.
--   {"Effect": "Allow", "Action": ["apigateway:GET", "apigateway:PATCH"], "Resource": ["arn:aws:apigateway:REGION::/restapis/API_ID", "arn:aws:apigateway:REGION::/restapis/API_ID/*"]}
--   (the APIs it used: iam_principal_apigateway_write_unused lists them, or CloudTrail > Event history filtered by user name).
--   Console: IAM > Roles (or Users, Groups) > the principal > Permissions: detach AmazonAPIGatewayAdministrator or edit the apigateway:* statement; or set a permissions boundary.
--   CLI: aws iam detach-role-policy --role-name NAME --policy-arn arn:aws:iam::aws:policy/AmazonAPIGatewayAdministrator
--   CLI: aws iam put-role-policy --role-name NAME --policy-name apigateway-scoped --policy-document file://scoped.json
-- frameworks:
-- aliases: iam_policy_no_star_star_apigateway
-- parameters: admin_principals VARCHAR[] = []
WITH principals AS (
    SELECT arn, name, 'user' AS kind, path, account_id, partition FROM aws_iam_user
    UNION ALL SELECT arn, name, 'group', path, account_id, partition FROM aws_iam_group
    UNION ALL SELECT arn, name, 'role', path, account_id, partition FROM aws_iam_role
),
grants AS (
    SELECT * FROM aws_api_gateway_access_grant WHERE via = 'identity_policy'
),
unreadable AS (
    SELECT principal_arn, min(error) AS error FROM grants WHERE error IS NOT NULL GROUP BY principal_arn
),
admin AS (
    SELECT principal_arn, bool_and(conditional) AS conditional, flatten(list(statements)) AS statements
    FROM grants WHERE access = 'admin' AND api_id = '*' AND api_region IS NULL GROUP BY principal_arn
),
judged AS (
    SELECT p.*, u.error, a.principal_arn IS NOT NULL AS full_admin, a.conditional, a.statements,
           list_contains(CAST(coalesce(getvariable('admin_principals'), []) AS VARCHAR[]), p.arn) AS listed
    FROM principals p LEFT JOIN unreadable u ON u.principal_arn = p.arn LEFT JOIN admin a ON a.principal_arn = p.arn
    WHERE NOT starts_with(p.path, '/aws-service-role/')
)
SELECT arn AS resource,
       CASE WHEN error IS NOT NULL THEN 'error' WHEN NOT full_admin THEN 'ok' WHEN listed THEN 'info' ELSE 'alarm' END
           AS status,
       CASE WHEN error IS NOT NULL THEN format('The policies of IAM {} {} cannot be judged: {}.', kind, name, error)
            WHEN NOT full_admin THEN format('IAM {} {} does not hold all API Gateway write verbs on every API.', kind, name)
            ELSE format('IAM {} {} may create, change and delete every API of account {} (POST, PUT, PATCH, DELETE on '
                        || 'every API){}, granted by {}{}.', kind, name, account_id,
                        CASE WHEN conditional THEN ' under conditions that are not evaluated' ELSE '' END,
                        array_to_string(list_distinct(statements), ', '),
                        CASE WHEN listed THEN '; it is listed in admin_principals' ELSE '' END)
       END AS reason,
       account_id, NULL::VARCHAR AS region, kind AS principal_type, conditional, statements
FROM judged
ORDER BY arn;
