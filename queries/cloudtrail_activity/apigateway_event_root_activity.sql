-- id: apigateway_event_root_activity
-- title: The root user made no API Gateway changes
-- description: Alarms once per API Gateway write call (readOnly false) the account's root user made in the last
--   window_days days (default 90), failed calls included: the root user cannot be restricted by IAM policies and
--   should not operate APIs. As in the usual root-activity filters, calls an AWS service made for the root user
--   (userIdentity.invokedBy) and AwsServiceEvent records do not count. The resource is the API, stage, key, plan or
--   domain the call named, else the account. Reads aws_cloudtrail_event: the log files named with
--   --cloudtrail-logs, else LookupEvents.
-- severity: high
-- resource_type: CloudTrail event
-- remediation: Do API Gateway work with IAM roles; lock the root user away (MFA, no access keys) and find out who used it and why.
--   Console: IAM > Dashboard > Security recommendations: root user MFA and access keys; CloudTrail > Event history, User name root.
--   CLI: aws iam get-account-summary --query 'SummaryMap.[AccountMFAEnabled,AccountAccessKeysPresent]'
--   CLI: aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=root --start-time START
-- frameworks:
-- aliases:
-- parameters: window_days BIGINT = 90
WITH events AS (
    SELECT *, coalesce(aws_region, region) AS event_region,
           CASE WHEN starts_with(coalesce(aws_region, region), 'cn-') THEN 'aws-cn'
                WHEN starts_with(coalesce(aws_region, region), 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END AS partition,
           request_parameters AS rp
    FROM aws_cloudtrail_event
    -- Whole days from midnight UTC: every activity control then asks for the same window, which the check
    -- runner merges into one read of the log files or LookupEvents (now() would differ per control).
    WHERE event_time >= current_date - to_days(CAST(coalesce(getvariable('window_days'), 90) AS INTEGER))
      AND event_source = 'apigateway.amazonaws.com'
      AND user_type = 'Root'
),
described AS (
    SELECT *,
           format('arn:{}:apigateway:{}::', partition, event_region) ||
           CASE WHEN rp ->> 'restApiId' IS NOT NULL
                    THEN '/restapis/' || (rp ->> 'restApiId') || coalesce('/stages/' || (rp ->> 'stageName'), '')
                WHEN rp ->> 'apiId' IS NOT NULL THEN '/apis/' || (rp ->> 'apiId') || coalesce('/stages/' || (rp ->> 'stageName'), '')
                WHEN rp ->> 'apiKey' IS NOT NULL THEN '/apikeys/' || (rp ->> 'apiKey')
                WHEN rp ->> 'usagePlanId' IS NOT NULL THEN '/usageplans/' || (rp ->> 'usagePlanId')
                WHEN rp ->> 'domainName' IS NOT NULL THEN '/domainnames/' || (rp ->> 'domainName')
                WHEN event_name = 'CreateRestApi' AND response_elements ->> 'id' IS NOT NULL
                    THEN '/restapis/' || (response_elements ->> 'id')
                WHEN event_name = 'CreateApi' AND response_elements ->> 'apiId' IS NOT NULL
                    THEN '/apis/' || (response_elements ->> 'apiId')
                WHEN event_name = 'CreateApiKey' AND response_elements ->> 'id' IS NOT NULL
                    THEN '/apikeys/' || (response_elements ->> 'id')
                WHEN event_name = 'CreateUsagePlan' AND response_elements ->> 'id' IS NOT NULL
                    THEN '/usageplans/' || (response_elements ->> 'id')
                WHEN event_name = 'GenerateClientCertificate' AND response_elements ->> 'clientCertificateId' IS NOT NULL
                    THEN '/clientcertificates/' || (response_elements ->> 'clientCertificateId')
                WHEN (rp -> 'createDomainNameInput' ->> 'domainName') IS NOT NULL
                    THEN '/domainnames/' || (rp -> 'createDomainNameInput' ->> 'domainName')
                WHEN event_name = 'UpdateAccount' THEN '/account'
           END AS target
    FROM events
    WHERE NOT coalesce(read_only, regexp_matches(event_name, '^(Get|List|Describe)'))
      AND user_identity ->> 'invokedBy' IS NULL
      AND coalesce(event_type, '') <> 'AwsServiceEvent'
)
SELECT coalesce(target, format('arn:{}:::{}', partition, account_id)) AS resource, 'alarm' AS status,
       format('The root user of account {} called {}{} on {} from {}{}.', account_id, event_name,
              coalesce(' (' || target || ')', ''), strftime(event_time, '%Y-%m-%d %H:%M:%S UTC'),
              coalesce(source_ip_address, 'an unknown address'),
              CASE WHEN error_code IS NOT NULL THEN ', which failed with ' || error_code ELSE '' END) AS reason,
       account_id, event_region AS region, event_id, event_time, event_name, user_arn, source_ip_address, user_agent
FROM described;
