-- id: apigateway_event_protection_removed
-- title: Nobody removed a protection from an API Gateway API
-- description: Alarms once per successful call in the last window_days days (default 90) that removed a
--   protection: an UpdateStage that turns off execution or access logging, X-Ray tracing, the client certificate
--   or cache encryption (REST patch operations under updateStageInput; HTTP and WebSocket stages through their
--   flat default and per-route settings, and DeleteAccessLogSettings); DeleteAuthorizer; a REST method updated to
--   authorizationType NONE (OPTIONS methods excepted) or a v2 route updated to NONE; a REST API resource policy
--   replaced or removed (UpdateRestApi /policy); an AWS WAF web ACL disassociated from an API Gateway stage; and
--   UpdateAccount clearing API Gateway's CloudWatch Logs role. Turning data tracing on is not counted (see
--   apigateway_stage_data_trace_disabled). The resource is the stage, method, route, authorizer, API or account
--   the call named. Reads aws_cloudtrail_event: the log files named with --cloudtrail-logs, else LookupEvents.
-- severity: high
-- resource_type: CloudTrail event
-- remediation: Confirm with the caller that the change was intended; if not, put the protection back and review what happened while it was off.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Logs and tracing, Client certificate, Cache settings; Authorizers; Resource policy; AWS WAF > Web ACLs > Associated AWS resources.
--   CLI: aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/*/*/logging/loglevel,value=ERROR
--   CLI: aws wafv2 associate-web-acl --web-acl-arn WEB_ACL_ARN --resource-arn arn:aws:apigateway:REGION::/restapis/API_ID/stages/STAGE
-- frameworks:
-- aliases:
-- parameters: window_days BIGINT = 90
WITH events AS (
    SELECT *, coalesce(aws_region, region) AS event_region,
           format('arn:{}:apigateway:{}::',
                  CASE WHEN starts_with(coalesce(aws_region, region), 'cn-') THEN 'aws-cn'
                       WHEN starts_with(coalesce(aws_region, region), 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END,
                  coalesce(aws_region, region)) AS base,
           coalesce(user_arn, user_identity ->> 'invokedBy', user_identity ->> 'principalId', user_type, 'an unknown caller')
               AS principal,
           request_parameters AS rp
    FROM aws_cloudtrail_event
    -- Whole days from midnight UTC: every activity control then asks for the same window, which the check
    -- runner merges into one read of the log files or LookupEvents (now() would differ per control).
    WHERE event_time >= current_date - to_days(CAST(coalesce(getvariable('window_days'), 90) AS INTEGER))
      AND event_source IN ('apigateway.amazonaws.com', 'wafv2.amazonaws.com', 'waf-regional.amazonaws.com')
      AND event_name IN ('UpdateStage', 'DeleteAccessLogSettings', 'DeleteAuthorizer', 'UpdateMethod', 'UpdateRoute',
                         'UpdateRestApi', 'DisassociateWebACL', 'UpdateAccount')
      AND error_code IS NULL
),
patches AS (
    -- REST (v1) calls carry JSON Patch operations under <operation>Input.
    SELECT e.event_id, e.event_name, e.rp, p.value ->> 'op' AS op, p.value ->> 'path' AS path,
           p.value ->> 'value' AS value
    FROM events e,
         json_each(coalesce(e.rp -> 'updateStageInput', e.rp -> 'updateMethodInput', e.rp -> 'updateRestApiInput',
                            e.rp -> 'updateAccountInput', e.rp) -> 'patchOperations') p
),
changes AS (
    SELECT event_id,
           CASE WHEN event_name = 'UpdateStage' AND regexp_matches(path, '/logging/loglevel$', 'i') AND upper(value) = 'OFF'
                    THEN 'turned execution logging off (' || path || ')'
                WHEN event_name = 'UpdateStage' AND regexp_matches(path, '^/accessLogSettings(/destinationArn)?$', 'i')
                     AND (op = 'remove' OR coalesce(value, '') = '')
                    THEN 'removed access logging'
                WHEN event_name = 'UpdateStage' AND path = '/tracingEnabled' AND lower(value) = 'false'
                    THEN 'turned X-Ray tracing off'
                WHEN event_name = 'UpdateStage' AND path = '/clientCertificateId' AND (op = 'remove' OR coalesce(value, '') = '')
                    THEN 'removed the client certificate'
                WHEN event_name = 'UpdateStage' AND regexp_matches(path, '/caching/dataEncrypted$', 'i') AND lower(value) = 'false'
                    THEN 'turned cache encryption off (' || path || ')'
                WHEN event_name = 'UpdateMethod' AND path = '/authorizationType' AND upper(value) = 'NONE'
                     AND upper(coalesce(rp ->> 'httpMethod', '')) <> 'OPTIONS'
                    THEN 'set the method''s authorization to NONE'
                WHEN event_name = 'UpdateRestApi' AND path = '/policy'
                    THEN CASE WHEN op = 'remove' OR coalesce(value, '') = '' THEN 'removed the resource policy'
                              ELSE 'replaced the resource policy' END
                WHEN event_name = 'UpdateAccount' AND path = '/cloudwatchRoleArn' AND (op = 'remove' OR coalesce(value, '') = '')
                    THEN 'cleared the CloudWatch Logs role, so stages can no longer write logs'
           END AS change
    FROM patches
    UNION ALL
    -- HTTP and WebSocket (v2) calls carry the new settings flat; some changes have an operation of their own.
    SELECT event_id,
           CASE WHEN event_name = 'DeleteAuthorizer' THEN 'deleted the authorizer'
                WHEN event_name = 'DisassociateWebACL' AND (rp ->> 'resourceArn') LIKE 'arn:%:apigateway:%'
                    THEN 'disassociated its AWS WAF web ACL'
                WHEN event_name = 'DeleteAccessLogSettings' THEN 'removed access logging'
                WHEN event_name = 'UpdateRoute' AND upper(rp ->> 'authorizationType') = 'NONE'
                    THEN 'set the route''s authorization to NONE'
                WHEN event_name = 'UpdateStage' AND rp ->> 'apiId' IS NOT NULL
                     AND upper(rp -> 'defaultRouteSettings' ->> 'loggingLevel') = 'OFF'
                    THEN 'turned execution logging off (default route settings)'
                WHEN event_name = 'UpdateStage' AND rp ->> 'apiId' IS NOT NULL AND json_exists(rp, '$.clientCertificateId')
                     AND coalesce(rp ->> 'clientCertificateId', '') = ''
                    THEN 'removed the client certificate'
           END
    FROM events
    UNION ALL
    SELECT e.event_id, 'turned execution logging off (route ' || r.key || ')'
    FROM events e, json_each(e.rp -> 'routeSettings') r
    WHERE e.event_name = 'UpdateStage' AND e.rp ->> 'apiId' IS NOT NULL AND upper(r.value ->> 'loggingLevel') = 'OFF'
),
found AS (
    SELECT event_id, string_agg(DISTINCT change, ', ' ORDER BY change) AS changes
    FROM changes
    WHERE change IS NOT NULL
    GROUP BY event_id
),
described AS (
    SELECT e.*, f.changes,
           CASE WHEN e.event_name = 'DisassociateWebACL' THEN e.rp ->> 'resourceArn'
                WHEN e.event_name = 'UpdateAccount' THEN e.base || '/account'
                WHEN e.rp ->> 'restApiId' IS NOT NULL
                    THEN e.base || '/restapis/' || (e.rp ->> 'restApiId') ||
                         CASE e.event_name
                             WHEN 'UpdateStage' THEN '/stages/' || (e.rp ->> 'stageName')
                             WHEN 'DeleteAuthorizer' THEN '/authorizers/' || (e.rp ->> 'authorizerId')
                             WHEN 'UpdateMethod' THEN '/resources/' || (e.rp ->> 'resourceId') || '/methods/' || (e.rp ->> 'httpMethod')
                             ELSE '' END
                WHEN e.rp ->> 'apiId' IS NOT NULL
                    THEN e.base || '/apis/' || (e.rp ->> 'apiId') ||
                         CASE e.event_name
                             WHEN 'UpdateStage' THEN '/stages/' || (e.rp ->> 'stageName')
                             WHEN 'DeleteAccessLogSettings' THEN '/stages/' || (e.rp ->> 'stageName')
                             WHEN 'DeleteAuthorizer' THEN '/authorizers/' || (e.rp ->> 'authorizerId')
                             WHEN 'UpdateRoute' THEN '/routes/' || (e.rp ->> 'routeId')
                             ELSE '' END
           END AS target,
           CASE WHEN e.event_name = 'DisassociateWebACL'
                    THEN CASE WHEN regexp_matches(e.rp ->> 'resourceArn', '/restapis/[^/]+/stages/[^/]+$')
                              THEN format('Stage {} of REST API {}',
                                          regexp_extract(e.rp ->> 'resourceArn', '/stages/([^/]+)$', 1),
                                          regexp_extract(e.rp ->> 'resourceArn', '/restapis/([^/]+)/', 1))
                              ELSE 'Stage ' || (e.rp ->> 'resourceArn') END
                WHEN e.event_name = 'UpdateAccount' THEN format('The API Gateway account settings of {}', e.event_region)
                ELSE CASE e.event_name
                         WHEN 'UpdateStage' THEN format('Stage {} of ', e.rp ->> 'stageName')
                         WHEN 'DeleteAccessLogSettings' THEN format('Stage {} of ', e.rp ->> 'stageName')
                         WHEN 'DeleteAuthorizer' THEN format('Authorizer {} of ', e.rp ->> 'authorizerId')
                         WHEN 'UpdateMethod' THEN format('Method {} of resource {} of ', e.rp ->> 'httpMethod', e.rp ->> 'resourceId')
                         WHEN 'UpdateRoute' THEN format('Route {} of ', e.rp ->> 'routeId')
                         ELSE '' END
                     || CASE WHEN e.rp ->> 'restApiId' IS NOT NULL THEN 'REST API ' || (e.rp ->> 'restApiId')
                             ELSE 'API ' || coalesce(e.rp ->> 'apiId', '?') END
           END AS label
    FROM events e
    JOIN found f USING (event_id)
)
SELECT coalesce(target, base || '/account') AS resource, 'alarm' AS status,
       format('{}: {}, by {} with {} on {} from {}.', label, changes, principal, event_name,
              strftime(event_time, '%Y-%m-%d %H:%M:%S UTC'), coalesce(source_ip_address, 'an unknown address'))
           AS reason,
       account_id, event_region AS region, event_id, event_time, event_name, user_arn, source_ip_address, user_agent
FROM described;
