-- id: cloudtrail_security_trail_enabled
-- title: One trail meets every CloudTrail security practice
-- description: Alarms per account when no single trail is multi-region, logging, includes global service events,
--   validates its log files, encrypts them with a KMS key and records all read and write management events with no
--   excluded event source (the AWS Config rule). Classic and advanced event selectors both count; a trail that
--   never had selectors set records all management events. When no trail of the account qualifies and an
--   organization trail of another account might, the account is info.
-- severity: medium
-- resource_type: account
-- remediation: Bring one multi-region trail up to every practice: global service events, log file validation, a KMS key, all management events.
--   Console: CloudTrail > Trails > (trail) > General details > Edit (validation, KMS key); Management events > Edit (Read and Write, no exclusions).
--   CLI: aws cloudtrail update-trail --name TRAIL_NAME --is-multi-region-trail --include-global-service-events --enable-log-file-validation --kms-key-id KEY_ARN
--   CLI: aws cloudtrail put-event-selectors --trail-name TRAIL_NAME --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]'
-- frameworks: config: cloudtrail-security-trail-enabled
-- aliases:
-- parameters:
WITH accounts AS (
    -- Every account whose trails were listed, so that an account with no trail at all is judged too.
    SELECT account_id,
           any_value(CASE WHEN starts_with(region, 'cn-') THEN 'aws-cn'
                          WHEN starts_with(region, 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END) AS partition
    FROM apigw_sql_fetch_log
    WHERE service = 'cloudtrail' AND operation = 'DescribeTrails' AND error_code IS NULL
    GROUP BY account_id
),
trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (the status and selectors of every copy are read in the home region).
    SELECT *
    FROM aws_cloudtrail_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
),
classic AS (
    SELECT t.arn,
           coalesce(CAST(s.value ->> 'IncludeManagementEvents' AS BOOLEAN), true) AS management,
           coalesce(s.value ->> 'ReadWriteType', 'All') AS read_write,
           coalesce(json_array_length(s.value -> 'ExcludeManagementEventSources'), 0) > 0 AS narrowed
    FROM trails t, json_each(t.event_selectors) s
),
advanced_fields AS (
    SELECT t.arn, a.key AS selector, f.value ->> 'Field' AS field,
           coalesce(CAST(f.value -> 'Equals' AS VARCHAR[]), []) AS equals,
           coalesce(CAST(f.value -> 'NotEquals' AS VARCHAR[]), []) AS not_equals
    FROM trails t, json_each(t.advanced_event_selectors) a, json_each(a.value -> 'FieldSelectors') f
),
advanced AS (
    -- Advanced selectors that pick management events; a readOnly field limits one to reads or writes, any other
    -- field (eventSource, eventName...) narrows it.
    SELECT arn,
           NOT bool_or(field = 'readOnly')
               OR bool_or(field = 'readOnly' AND (list_contains(equals, 'true') OR list_contains(not_equals, 'false'))) AS reads,
           NOT bool_or(field = 'readOnly')
               OR bool_or(field = 'readOnly' AND (list_contains(equals, 'false') OR list_contains(not_equals, 'true'))) AS writes,
           bool_or(field NOT IN ('eventCategory', 'readOnly')) AS narrowed
    FROM advanced_fields
    GROUP BY arn, selector
    HAVING bool_or(field = 'eventCategory' AND list_contains(equals, 'Management'))
),
selectors AS (
    SELECT arn, management AND read_write IN ('All', 'ReadOnly') AND NOT narrowed AS reads,
           management AND read_write IN ('All', 'WriteOnly') AND NOT narrowed AS writes
    FROM classic
    UNION ALL
    SELECT arn, reads AND NOT narrowed, writes AND NOT narrowed FROM advanced
),
coverage AS (
    SELECT t.arn, coalesce(bool_or(s.reads), false) AND coalesce(bool_or(s.writes), false) AS all_management
    FROM trails t
    LEFT JOIN selectors s ON s.arn = t.arn
    GROUP BY t.arn
),
judged AS (
    SELECT t.account_id, t.arn, t.name, t.home_region, t.status_unavailable_reason,
           concat_ws(', ',
               CASE WHEN NOT t.is_multi_region_trail THEN 'not multi-region' END,
               CASE WHEN t.status_unavailable_reason IS NULL AND NOT coalesce(t.is_logging, false) THEN 'not logging' END,
               CASE WHEN NOT t.include_global_service_events THEN 'no global service events' END,
               CASE WHEN NOT t.log_file_validation_enabled THEN 'no log file validation' END,
               CASE WHEN t.kms_key_id IS NULL THEN 'no KMS key' END,
               -- A trail whose selectors were never set, or read back empty, records all management events.
               CASE WHEN t.status_unavailable_reason IS NULL AND NOT c.all_management
                         AND (coalesce(json_array_length(t.event_selectors), 0) > 0
                              OR coalesce(json_array_length(t.advanced_event_selectors), 0) > 0)
                    THEN 'not all management events' END) AS missing
    FROM trails t
    JOIN coverage c ON c.arn = t.arn
),
per_account AS (
    SELECT a.account_id, a.partition,
           string_agg(format('{} ({})', j.name, j.home_region), ', ' ORDER BY j.name)
               FILTER (WHERE j.missing = '' AND j.status_unavailable_reason IS NULL) AS qualifying,
           string_agg(format('{} ({})', j.name, j.home_region), ', ' ORDER BY j.name)
               FILTER (WHERE j.missing = '' AND j.status_unavailable_reason IS NOT NULL) AS unreadable,
           string_agg(format('{} ({}): {}', j.name, j.home_region, j.missing), '; ' ORDER BY j.name)
               FILTER (WHERE j.missing <> '') AS failing
    FROM accounts a
    LEFT JOIN judged j ON j.account_id = a.account_id
    GROUP BY a.account_id, a.partition
)
SELECT format('arn:{}:::{}', partition, account_id) AS resource,
       CASE WHEN qualifying IS NOT NULL THEN 'ok' WHEN unreadable IS NOT NULL THEN 'info' ELSE 'alarm' END AS status,
       format('Account {}', account_id) ||
       CASE WHEN qualifying IS NOT NULL THEN ' has a trail that meets every security practice: ' || qualifying || '.'
            WHEN unreadable IS NOT NULL
                THEN ' may rely on trail(s) whose status and selectors cannot be read from here: ' || unreadable || '.'
            WHEN failing IS NOT NULL THEN ' has no trail that meets every security practice: ' || failing || '.'
            ELSE ' has no trail.' END AS reason,
       account_id, CAST(NULL AS VARCHAR) AS region, qualifying AS security_trails
FROM per_account;
