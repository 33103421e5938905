-- id: iam_principal_apigateway_write_unused
-- title: API Gateway write access is used, or removed
-- description: Judges every IAM user and role of the account (service-linked roles are never judged): alarm
--   when its identity policies effectively grant any API Gateway write (any apigateway action but reads, on any
--   API) and CloudTrail shows no successful API Gateway write call (read_only false, no error code) by it within
--   the last unused_days days (default 90); a role's assumed-role sessions count for the role
--   (userIdentity.sessionContext.sessionIssuer.arn), failed calls (AccessDenied) do not. ok for a principal
--   without a write grant, or that wrote. info when the CloudTrail source does not cover the window: log files
--   whose earliest API Gateway event is later than the window's first day, LookupEvents (90 days) for a longer
--   window, or no API Gateway event at all. Groups are not judged (a group makes no calls; its members are).
--   The suggested_policy column scopes writes to the APIs the principal wrote to. Reads
--   aws_api_gateway_access_grant and aws_cloudtrail_event.
-- severity: medium
-- resource_type: IAM principal
-- remediation: Take the write actions away from a principal that does not use them (keep apigateway:GET if it reads); for one that
--   writes, put the suggested_policy of this control instead of the wildcard: the write verbs on the API ARNs it used.
--   Console: IAM > the user or role > Permissions: remove the apigateway write statements or detach the policy; IAM > Access Advisor shows the last access too.
--   CLI: aws iam detach-role-policy --role-name NAME --policy-arn POLICY_ARN
--   CLI: aws iam put-role-policy --role-name NAME --policy-name apigateway-used --policy-document file://suggested_policy.json
-- frameworks:
-- aliases: iam_unused_apigateway_permissions
-- parameters: unused_days BIGINT = 90
WITH principals AS (
    SELECT arn, name, 'user' AS kind, path, account_id FROM aws_iam_user
    UNION ALL SELECT arn, name, 'role', path, account_id FROM aws_iam_role
),
grants AS (
    SELECT * FROM aws_api_gateway_access_grant WHERE via = 'identity_policy'
),
unreadable AS (
    SELECT principal_arn, min(error) AS error FROM grants WHERE error IS NOT NULL GROUP BY principal_arn
),
writers AS (
    SELECT principal_arn, list_sort(list_distinct(list(coalesce(api_name || ' (' || api_id || ')', 'every API' || coalesce(' in ' || api_region, ''))))) AS apis,
           bool_and(conditional) AS conditional
    FROM grants WHERE access = 'write' GROUP BY principal_arn
),
window_start AS (
    SELECT current_date - to_days(CAST(coalesce(getvariable('unused_days'), 90) AS INTEGER)) AS start
),
events AS (
    SELECT e.*, CASE WHEN e.user_type = 'AssumedRole'
                     THEN e.user_identity -> 'sessionContext' -> 'sessionIssuer' ->> 'arn' ELSE e.user_arn END AS principal,
           coalesce(e.aws_region, e.region) AS event_region
    FROM aws_cloudtrail_event e
    -- Whole days from midnight UTC, one day before the window: enough to tell whether the source covers it.
    WHERE e.event_time >= current_date - to_days(CAST(coalesce(getvariable('unused_days'), 90) AS INTEGER) + 1)
      AND e.event_source = 'apigateway.amazonaws.com'
),
coverage AS (
    SELECT bool_or(origin = 'lookup') AND coalesce(getvariable('unused_days'), 90) <= 90
               OR min(event_time) FILTER (WHERE origin = 'log') <= any_value(w.start) + INTERVAL 1 DAY AS covered,
           min(event_time) AS earliest
    FROM events, window_start w
),
used AS (
    SELECT principal, max(event_time) AS last_write, count(*) AS writes,
           list_sort(list_distinct(list(
               format('arn:aws:apigateway:{}::/{}/{}', event_region,
                      CASE WHEN request_parameters ->> 'restApiId' IS NOT NULL THEN 'restapis' ELSE 'apis' END,
                      coalesce(request_parameters ->> 'restApiId', request_parameters ->> 'apiId')))
               FILTER (WHERE coalesce(request_parameters ->> 'restApiId', request_parameters ->> 'apiId') IS NOT NULL)))
               AS used_api_arns
    FROM events, window_start w
    WHERE event_time >= w.start AND read_only IS NOT TRUE AND error_code IS NULL
      AND NOT regexp_matches(event_name, '^(Get|List|Describe)')
    GROUP BY principal
),
judged AS (
    SELECT p.*, u.error, wr.principal_arn IS NOT NULL AS can_write, wr.apis, wr.conditional, us.last_write, us.writes,
           us.used_api_arns, coalesce(c.covered, false) AS covered, c.earliest
    FROM principals p
    LEFT JOIN unreadable u ON u.principal_arn = p.arn
    LEFT JOIN writers wr ON wr.principal_arn = p.arn
    LEFT JOIN used us ON us.principal = p.arn
    CROSS JOIN coverage c
    WHERE NOT starts_with(p.path, '/aws-service-role/')
)
SELECT arn AS resource,
       CASE WHEN error IS NOT NULL THEN 'error' WHEN NOT can_write OR writes > 0 THEN 'ok'
            WHEN NOT covered THEN 'info' ELSE 'alarm' END AS status,
       CASE WHEN error IS NOT NULL THEN format('The policies of IAM {} {} cannot be judged: {}.', kind, name, error)
            WHEN NOT can_write THEN format('IAM {} {} holds no API Gateway write access.', kind, name)
            WHEN writes > 0 THEN format('IAM {} {} made {} successful API Gateway writes in the last {} days, the last '
                                        || 'on {}.', kind, name, writes, coalesce(getvariable('unused_days'), 90),
                                        strftime(last_write, '%Y-%m-%d'))
            WHEN NOT covered THEN format('IAM {} {} may write to {}, but the CloudTrail source does not cover the last {} '
                                         || 'days ({}): its use cannot be judged.', kind, name, array_to_string(apis, ', '),
                                         coalesce(getvariable('unused_days'), 90),
                                         coalesce('earliest API Gateway event ' || strftime(earliest, '%Y-%m-%d'),
                                                  'no API Gateway event'))
            ELSE format('IAM {} {} may write to {}{} but made no successful API Gateway write in the last {} days.',
                        kind, name, array_to_string(apis, ', '),
                        CASE WHEN conditional THEN ' (under conditions that are not evaluated)' ELSE '' END,
                        coalesce(getvariable('unused_days'), 90))
       END AS reason,
       account_id, NULL::VARCHAR AS region, kind AS principal_type, last_write, coalesce(writes, 0) AS writes,
       used_api_arns,
       CASE WHEN can_write AND writes > 0 AND array_length(used_api_arns) > 0
            THEN json_object('Version', '2012-10-17', 'Statement', [json_object(
                     'Effect', 'Allow', 'Action', ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT',
                                                   'apigateway:PATCH', 'apigateway:DELETE'],
                     'Resource', flatten(list_transform(used_api_arns, lambda a: [a, a || '/*'])))])
            WHEN can_write THEN json_object('Version', '2012-10-17', 'Statement', [json_object(
                     'Effect', 'Allow', 'Action', 'apigateway:GET', 'Resource', 'arn:aws:apigateway:*::/*')])
       END AS suggested_policy
FROM judged
ORDER BY arn;
